import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpApp, type HttpApp } from '../../core/http.ts';
import { httpSchema } from '../../core/http-config.ts';
import { createLogger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import { collectorSchema } from '../config.ts';
import { recordRules } from '../records.ts';
import { EmbeddedStore } from '../store/embedded/store.ts';
import { registerIngest } from './ingest.ts';
import { registerSearch } from './search.ts';

const TOKENS = {
  admin: 'admin-token-0123456789',
  teamAEditor: 'team-a-editor-token-0123',
  teamBViewer: 'team-b-viewer-token-0123',
};
const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

let dir: string;
let store: EmbeddedStore;
let http: HttpApp;
let metrics: Metrics;

async function start(collector: Record<string, unknown> = {}): Promise<void> {
  const config = collectorSchema.parse(collector);
  http = createHttpApp({
    config: httpSchema.parse({
      listen: '127.0.0.1:0',
      auth: {
        tokens: [
          { name: 'admin', token: TOKENS.admin, role: 'admin' },
          { name: 'team-a-ci', token: TOKENS.teamAEditor, role: 'editor', namespaces: ['team-a'] },
          { name: 'team-b-dev', token: TOKENS.teamBViewer, role: 'viewer', namespaces: ['team-b'] },
        ],
      },
    }),
    log: silent,
    metrics,
  });
  registerIngest(http.app, {
    store,
    maxBodyBytes: config.ingest.maxBodyBytes,
    maxLines: config.ingest.maxLines,
    rules: recordRules(config.records),
    metrics,
  });
  registerSearch(http.app, store, () => config.search);
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lookout-ingest-'));
  store = new EmbeddedStore({ dir, log: silent });
  await store.open();
  metrics = new Metrics({ defaults: false });
});

afterEach(async () => {
  await http?.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

function post(body: string | Buffer, token = TOKENS.teamAEditor, headers: Record<string, string> = {}) {
  return http.app.inject({
    method: 'POST',
    url: '/api/ingest',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson', ...headers },
    payload: body,
  });
}

function get(url: string, token: string) {
  return http.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
}

const now = () => new Date().toISOString();
const ndjson = (...docs: unknown[]) => docs.map((doc) => `${JSON.stringify(doc)}\n`).join('');

describe('POST /api/ingest', () => {
  it('refuses a line whose dotted namespace disagrees with its nested one, which never reaches team-b', async () => {
    await start();
    const forged = `{"@timestamp":"${now()}","message":"forged into team-b","kubernetes.namespace":"team-b","kubernetes":{"namespace":"team-a"},"event":{"id":"forged-1"}}`;
    const honest = {
      '@timestamp': now(),
      message: 'team-a line',
      kubernetes: { namespace: 'team-a' },
      event: { id: 'honest-1' },
    };
    const answer = await post(`${forged}\n${JSON.stringify(honest)}\n`);
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual({
      accepted: 1,
      duplicates: 0,
      empty: 0,
      errors: [{ line: 0, status: 400, reason: expect.stringContaining('"kubernetes.namespace"') }],
    });
    const teamB = await get('/api/logs/search?from=now-1h&to=now%2B1h', TOKENS.teamBViewer);
    expect(teamB.json().hits).toEqual([]);
    expect((await get('/api/logs/context/forged-1', TOKENS.teamBViewer)).statusCode).toBe(404);
    const all = await get('/api/logs/search?from=now-1h&to=now%2B1h', TOKENS.admin);
    expect(all.json().hits.map((h: { id: string }) => h.id)).toEqual(['honest-1']);
  });

  it('stores the dotted form of a record nested, as checked', async () => {
    await start();
    const dotted = {
      '@timestamp': now(),
      message: 'dotted',
      'kubernetes.namespace': 'team-a',
      'event.id': 'dotted-1',
    };
    expect((await post(ndjson(dotted))).json()).toMatchObject({ accepted: 1, errors: [] });
    const hits = (await get('/api/logs/search?from=now-1h&to=now%2B1h&namespace=team-a', TOKENS.admin)).json()
      .hits;
    expect(hits[0].doc).toMatchObject({ kubernetes: { namespace: 'team-a' }, event: { id: 'dotted-1' } });
  });

  it('keeps a line nested 100,000 deep as text, and search over its namespace keeps working', async () => {
    await start();
    const deep = `{"@timestamp":"${now()}","kubernetes":{"namespace":"team-a"},"event":{"id":"deep-1"},"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    expect((await post(`${deep}\n`)).json()).toEqual({ accepted: 1, duplicates: 0, empty: 0, errors: [] });
    const search = await get('/api/logs/search?from=now-1h&to=now%2B1h&namespace=team-a', TOKENS.admin);
    expect(search.statusCode).toBe(200);
    expect(search.json().hits[0].doc.lookout).toEqual({
      parse_error: 'kept as text: nested deeper than 64 levels',
    });
    expect((await get('/api/logs/context/deep-1', TOKENS.admin)).statusCode).toBe(200);
  });

  it('stores at most maxMessageBytes of a 10 MiB message, cut on a character boundary and flagged', async () => {
    await start();
    const message = `${'x'.repeat(1024 ** 2 - 1)}€${'y'.repeat(9 * 1024 ** 2)}`;
    const doc = { '@timestamp': now(), message, kubernetes: { namespace: 'team-a' }, event: { id: 'big-1' } };
    expect((await post(ndjson(doc))).json()).toMatchObject({ accepted: 1, errors: [] });
    const hit = (await get('/api/logs/search?from=now-1h&to=now%2B1h', TOKENS.admin)).json().hits[0];
    expect(hit.doc.message).toBe('x'.repeat(1024 ** 2 - 1));
    expect(hit.doc.lookout).toEqual({ truncated: true });
  });

  it('stores a line dated in 2248 at its receive time, the original time kept', async () => {
    await start();
    const doc = {
      '@timestamp': '2248-01-01T00:00:00Z',
      kubernetes: { namespace: 'team-a' },
      event: { id: 'future-1' },
    };
    const before = Date.now();
    expect((await post(ndjson(doc))).json()).toMatchObject({ accepted: 1, errors: [] });
    const hit = (await get('/api/logs/search?from=now-1h&to=now%2B1h', TOKENS.admin)).json().hits[0];
    expect(hit.doc.lookout).toEqual({ original_timestamp: '2248-01-01T00:00:00Z' });
    expect(Date.parse(hit.doc['@timestamp'])).toBeGreaterThanOrEqual(before);
    expect(Date.parse(hit.doc['@timestamp'])).toBeLessThanOrEqual(Date.now());
  });

  it('counts a line whose event.id is already stored as a duplicate, not as accepted', async () => {
    await start();
    const doc = {
      '@timestamp': now(),
      message: 'first',
      kubernetes: { namespace: 'team-a' },
      event: { id: 'dup-1' },
    };
    expect((await post(ndjson(doc))).json()).toMatchObject({ accepted: 1, duplicates: 0 });
    const again = await post(ndjson({ ...doc, message: 'different content' }, doc));
    expect(again.json()).toEqual({ accepted: 0, duplicates: 2, empty: 0, errors: [] });
    const hits = (await get('/api/logs/search?from=now-1h&to=now%2B1h', TOKENS.admin)).json().hits;
    expect(hits.map((h: { doc: { message: string } }) => h.doc.message)).toEqual(['first']);
    const exposed = (
      await metrics.registry.getSingleMetricAsString('lookout_collector_ingest_lines_total')
    ).split('\n');
    expect(exposed).toContain('lookout_collector_ingest_lines_total{outcome="duplicate"} 2');
    expect(exposed).toContain('lookout_collector_ingest_lines_total{outcome="accepted"} 1');
  });

  it('counts empty lines instead of answering each, and takes gzip named in any case', async () => {
    await start();
    const doc = { '@timestamp': now(), kubernetes: { namespace: 'team-a' }, event: { id: 'gz-1' } };
    const answer = await post(gzipSync(`\n\n${JSON.stringify(doc)}\n\n\nnot json\n`), TOKENS.teamAEditor, {
      'content-encoding': 'GZIP',
    });
    expect(answer.json()).toEqual({
      accepted: 1,
      duplicates: 0,
      empty: 4,
      errors: [{ line: 5, status: 400, reason: expect.stringMatching(/^not JSON/) }],
    });
    const gzip = await post(gzipSync(ndjson(doc)), TOKENS.teamAEditor, { 'content-encoding': 'br' });
    expect(gzip.statusCode).toBe(415);
  });

  it('refuses more lines than a request may hold', async () => {
    await start({ ingest: { maxLines: 2 } });
    const doc = (id: string) => ({ '@timestamp': now(), kubernetes: { namespace: 'team-a' }, event: { id } });
    expect((await post(ndjson(doc('a'), doc('b')))).statusCode).toBe(200);
    const refused = await post(ndjson(doc('c'), doc('d'), doc('e')));
    expect(refused.statusCode).toBe(413);
    expect(refused.json().error).toContain('more than 2 lines');
  });

  it('refuses a gzip bomb past the body limit quickly, and answers a body of 64 MiB of newlines briefly while /healthz stays prompt', async () => {
    await start();
    const limit = collectorSchema.parse({}).ingest.maxBodyBytes;
    const bomb = gzipSync(Buffer.alloc(limit + 1, '\n'));
    expect(bomb.length).toBeLessThan(100 * 1024);
    const refused = await post(bomb, TOKENS.teamAEditor, { 'content-encoding': 'gzip' });
    expect(refused.statusCode).toBe(413);

    const address = await http.listen();
    const newlines = gzipSync(Buffer.alloc(limit, '\n'));
    let done = false;
    const ingest = fetch(`${address}/api/ingest`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TOKENS.teamAEditor}`,
        'content-type': 'application/x-ndjson',
        'content-encoding': 'gzip',
      },
      body: newlines,
    }).finally(() => {
      done = true;
    });
    let slowest = 0;
    while (!done) {
      const asked = performance.now();
      await fetch(`${address}/healthz`);
      slowest = Math.max(slowest, performance.now() - asked);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const answer = await ingest;
    const text = await answer.text();
    expect(answer.status).toBe(200);
    expect(JSON.parse(text)).toEqual({ accepted: 0, duplicates: 0, empty: limit, errors: [] });
    expect(text.length).toBeLessThan(100);
    // Generous for a busy machine: the unbounded handler held the event loop for many seconds.
    expect(slowest).toBeLessThan(2_000);
  }, 60_000);
});
