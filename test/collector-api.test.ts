import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectEvents, trickle } from './support/http-clients.ts';
import { eventually, LookoutProcess, writeConfig } from './support/lookout-process.ts';

// A collector on its embedded store, fed by a real sidecar through POST /api/ingest, asked over HTTP.
const ADMIN = 'admin-token-0123456789';
const SHOP = 'shop-viewer-token-0123';
const INGEST = 'ingest-token-0123456789';
const MiB = 1024 ** 2;

let dir: string;
let collectorFile: string;
let collector: LookoutProcess;
let sidecar: LookoutProcess;
let api: string;

// biome-ignore lint/suspicious/noExplicitAny: response shapes are what the assertions check
async function get(path: string, token = ADMIN): Promise<{ status: number; body: any }> {
  const response = await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  return {
    status: response.status,
    body: response.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text,
  };
}

async function ingest(docs: Record<string, unknown>[]): Promise<void> {
  const response = await fetch(`${api}/api/ingest`, {
    method: 'POST',
    headers: { authorization: `Bearer ${INGEST}`, 'content-type': 'application/x-ndjson' },
    body: docs.map((doc) => `${JSON.stringify(doc)}\n`).join(''),
  });
  expect(response.status).toBe(200);
  expect(((await response.json()) as { accepted: number }).accepted).toBe(docs.length);
}

const logDoc = (id: string, namespace: string, message: string, time = Date.now()) => ({
  '@timestamp': new Date(time).toISOString(),
  message,
  log: { offset: 0 },
  kubernetes: { namespace, pod: { name: `${namespace}-0` } },
  event: { id },
});

/** A live tail, its events collected as they arrive. */
async function openTail(query: string, token = ADMIN) {
  const controller = new AbortController();
  const response = await fetch(`${api}/api/logs/tail?${query}`, {
    headers: { authorization: `Bearer ${token}` },
    signal: controller.signal,
  });
  const { events, done } = collectEvents(response);
  const messages = () => events.filter((e) => e.event === 'log').map((e) => e.data.doc!.message);
  return { response, events, messages, done, close: () => controller.abort() };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lookout-collector-api-'));
  collectorFile = await writeConfig(
    dir,
    `
http:
  listen: "127.0.0.1:0"
  auth:
    tokens:
      - { name: admin, token: ${ADMIN}, role: admin }
      - { name: shop-dev, token: ${SHOP}, role: viewer, namespaces: [shop] }
      - { name: sidecars, token: ${INGEST}, role: editor }
dataDir: ${join(dir, 'collector-data')}
collector:
  search: { exportMaxRows: 5 } # small, so that an export reaches it
  tail: { interval: 200ms, maxPerToken: 2 }
`,
  );
  collector = new LookoutProcess('collector', collectorFile);
  api = await collector.start();
  // One sidecar per namespace would be usual; two inputs with static fields stand in for them here.
  await mkdir(join(dir, 'logs'));
  const sidecarDir = join(dir, 'sidecar');
  await mkdir(sidecarDir);
  await writeFile(join(dir, 'logs', 'order.log'), '');
  const sidecarFile = await writeConfig(
    sidecarDir,
    `
http: { listen: "127.0.0.1:0", auth: { enabled: false } }
dataDir: ${join(sidecarDir, 'data')}
sidecar:
  inputs:
    - paths: ["${join(dir, 'logs', '*.log')}"]
      parser: { type: none }
  scanInterval: 200ms
  sinks:
    http: { url: "${api}/api/ingest", token: ${INGEST} }
`,
  );
  sidecar = new LookoutProcess('sidecar', sidecarFile, {
    env: { POD_NAMESPACE: 'shop', POD_NAME: 'order-7f9c' },
  });
  await sidecar.start();
}, 60_000);

afterAll(async () => {
  await sidecar?.kill();
  await collector?.kill();
});

describe('collector API over the embedded store', () => {
  it('finds what the sidecar shipped, with phrases, boolean text and filters', async () => {
    const lines = [
      'INFO order 1 placed',
      'ERROR order 2 failed: connection reset by peer',
      'WARN order 3 retry after timeout',
      'ERROR order 4 failed: timeout talking to payment',
    ];
    await writeFile(join(dir, 'logs', 'order.log'), `${lines.join('\n')}\n`);
    const found = await eventually(
      async () =>
        (await get('/api/logs/search?from=now-1h&to=now%2B1m&order=asc')).body.hits as {
          doc: { message: string };
        }[],
      (hits) => hits.length >= 4,
      'four lines searchable',
      30_000,
    );
    expect(found.map((h) => h.doc.message)).toEqual(lines);
    const messages = async (q: string) =>
      (
        (await get(`/api/logs/search?from=now-1h&to=now%2B1m&order=asc&q=${encodeURIComponent(q)}`)).body
          .hits as {
          doc: { message: string };
        }[]
      ).map((h) => h.doc.message);
    expect(await messages('"connection reset"')).toEqual([lines[1]]);
    expect(await messages('failed AND timeout')).toEqual([lines[3]]);
    expect(await messages('timeout -failed')).toEqual([lines[2]]);
    expect(await messages('placed OR reset')).toEqual([lines[0], lines[1]]);
    expect((await get('/api/logs/search?from=now-1h&to=now%2B1m&level=error')).body.hits).toHaveLength(2);
  }, 60_000);

  it('gives the lines around one event, the anchor marked', async () => {
    const hits = (await get('/api/logs/search?from=now-1h&to=now%2B1m&q=%22order%203%22')).body.hits as {
      id: string;
    }[];
    const { body } = await get(`/api/logs/context/${hits[0]!.id}?before=1&after=1`);
    expect(
      body.lines.map((l: { doc: { message: string }; anchor?: boolean }) => [
        l.doc.message,
        l.anchor ?? false,
      ]),
    ).toEqual([
      ['ERROR order 2 failed: connection reset by peer', false],
      ['WARN order 3 retry after timeout', true],
      ['ERROR order 4 failed: timeout talking to payment', false],
    ]);
  });

  it('keeps a namespace-scoped token inside its namespaces', async () => {
    const other = JSON.stringify({
      '@timestamp': new Date().toISOString(),
      message: 'secret of kube-system',
      log: { offset: 0 },
      kubernetes: { namespace: 'kube-system', pod: { name: 'etcd-0' } },
      event: { id: 'kube-system-secret-1' },
    });
    const posted = await fetch(`${api}/api/ingest`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${INGEST}`,
        'content-type': 'application/x-ndjson',
        'content-encoding': 'gzip',
      },
      body: gzipSync(`${other}\nnot json\n`),
    });
    expect(await posted.json()).toEqual({
      accepted: 1,
      duplicates: 0,
      empty: 0,
      errors: [{ line: 1, status: 400, reason: expect.stringMatching(/^not JSON/) }],
    });
    const all = (await get('/api/logs/search?from=now-1h&to=now%2B1m&q=secret')).body;
    expect(all.hits).toHaveLength(1);
    const scoped = await get('/api/logs/search?from=now-1h&to=now%2B1m&q=secret', SHOP);
    expect(scoped.status).toBe(200);
    expect(scoped.body.hits).toEqual([]);
    expect(scoped.body.total.value).toBe(0);
    expect((await get('/api/logs/search?namespace=kube-system', SHOP)).status).toBe(403);
    expect((await get('/api/logs/context/kube-system-secret-1', SHOP)).status).toBe(404);
    expect(
      (await get('/api/logs/search?from=now-1h&to=now%2B1m', SHOP)).body.hits.length,
    ).toBeGreaterThanOrEqual(4);
    // The viewer may not write.
    const refused = await fetch(`${api}/api/ingest`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SHOP}`, 'content-type': 'application/x-ndjson' },
      body: `${other}\n`,
    });
    expect(refused.status).toBe(403);
  });

  it('exports a query as CSV and NDJSON', async () => {
    const csv = await get(
      '/api/logs/export?from=now-1h&to=now%2B1m&format=csv&namespace=shop&order=asc&columns=log.offset,message',
    );
    expect(csv.status).toBe(200);
    const rows = (csv.body as string).trim().split('\r\n');
    expect(rows[0]).toBe('log.offset,message');
    expect(rows[2]).toBe('20,ERROR order 2 failed: connection reset by peer');
    const ndjson = await get('/api/logs/export?from=now-1h&to=now%2B1m&format=ndjson&limit=2&order=asc');
    expect((ndjson.body as string).trim().split('\n')).toHaveLength(2);
  });

  it('tails new lines live, without repeats', async () => {
    const tail = await openTail('q=tailed');
    expect(tail.response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const { appendFile } = await import('node:fs/promises');
    for (let i = 1; i <= 5; i++) {
      await appendFile(join(dir, 'logs', 'order.log'), `tailed line ${i}\n`);
      await new Promise((r) => setTimeout(r, 300));
    }
    await eventually(
      async () => tail.messages().length,
      (n) => n >= 5,
      'five tailed lines',
      20_000,
    );
    await new Promise((r) => setTimeout(r, 1_000));
    tail.close();
    await tail.done;
    expect(tail.messages()).toEqual([1, 2, 3, 4, 5].map((i) => `tailed line ${i}`));
  }, 40_000);
});

describe('collector API under hostile input', () => {
  it('lists its endpoints at GET /', async () => {
    const { status, body } = await get('/', 'no-token');
    expect(status).toBe(200);
    expect(body.endpoints).toEqual(
      expect.arrayContaining([expect.objectContaining({ method: 'GET', path: '/api/logs/search' })]),
    );
  });

  it('answers 400 with the reason for input that used to answer 500 or be misread', async () => {
    const cursor = Buffer.from(JSON.stringify([1e308, 0, 'x'])).toString('base64url');
    for (const url of [
      `/api/logs/search?q=${'-'.repeat(10_000)}timeout`,
      '/api/logs/search?histogram=99999999999999999999w',
      `/api/logs/search?cursor=${cursor}`,
      '/api/logs/tail?from=banana',
      '/api/logs/search?q=timeout%20OR',
      '/api/logs/search?from=2026-02-30',
      `/api/logs/search?pod=${Array.from({ length: 2_800 }, (_, i) => i).join(',')}`,
    ]) {
      const { status, body } = await get(url);
      expect({ url: url.slice(0, 50), status }).toEqual({ url: url.slice(0, 50), status: 400 });
      expect(body.error).toMatch(/\w+ \w+/);
    }
  });

  it('bounds a search page of 40 lines of 1 MiB+ in bytes, and pages through all of them', async () => {
    const big = (i: number) => `big ${String(i).padStart(2, '0')} ${'x'.repeat(MiB + 100)}`;
    const time = Date.now() - 60_000;
    for (const half of [0, 20]) {
      await ingest(
        Array.from({ length: 20 }, (_, i) =>
          logDoc(`big-${half + i}`, 'bulk', big(half + i), time + half + i),
        ),
      );
    }
    const ids: string[] = [];
    let cursor = '';
    let pages = 0;
    for (;;) {
      const response = await fetch(
        `${api}/api/logs/search?namespace=bulk&from=now-1h&to=now%2B1m&order=asc&size=1000${cursor}`,
        { headers: { authorization: `Bearer ${ADMIN}` } },
      );
      const text = await response.text();
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(8 * MiB + 64 * 1024);
      const body = JSON.parse(text) as { hits: { id: string }[]; next?: string; truncated?: boolean };
      ids.push(...body.hits.map((h) => h.id));
      pages++;
      if (!body.next) break;
      expect(body.truncated).toBe(true);
      cursor = `&cursor=${body.next}`;
    }
    expect(ids).toEqual(Array.from({ length: 40 }, (_, i) => `big-${i}`));
    expect(pages).toBeGreaterThanOrEqual(5);
    const metrics = await get('/metrics');
    const rss = Number(/^process_resident_memory_bytes (\S+)$/m.exec(metrics.body)?.[1]);
    expect(rss).toBeLessThan(1024 * MiB);
  }, 120_000);

  it('says in its last line when an export stopped at the collector limit of rows', async () => {
    const { body } = await get('/api/logs/export?namespace=bulk&from=now-1h&to=now%2B1m&order=asc');
    const lines = (body as string).trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    expect(JSON.parse(lines[5]!)).toEqual({
      lookout: { export: { complete: false, rows: 5, reason: expect.stringMatching(/5 rows/) } },
    });
  }, 60_000);

  it('tails from a time further back than the late-arrival window', async () => {
    await ingest([logDoc('old-1', 'history', 'ten minutes ago', Date.now() - 10 * 60_000)]);
    const tail = await openTail('namespace=history&from=now-15m');
    await eventually(
      async () => tail.messages(),
      (m) => m.length > 0,
      'the old line',
      20_000,
    );
    tail.close();
    expect(tail.messages()).toEqual(['ten minutes ago']);
    expect((await get('/api/logs/tail?from=now-2h')).status).toBe(400);
  });

  it('limits tails per token and ends a tail whose token a reload removed', async () => {
    const first = [await openTail('', SHOP), await openTail('namespace=shop', SHOP)];
    const third = await openTail('', SHOP);
    expect(third.response.status).toBe(429);
    expect(((await third.response.json()) as { error: string }).error).toMatch(/maxPerToken/);
    const { readFile, writeFile: write } = await import('node:fs/promises');
    const original = await readFile(collectorFile, 'utf8');
    await write(collectorFile, original.replace(/^ {6}- \{ name: shop-dev.*\n/m, ''));
    collector.hangup();
    for (const tail of first) {
      await eventually(
        async () => tail.events.at(-1)?.event,
        (e) => e === 'end',
        'the end event',
        20_000,
      );
      expect(tail.events.at(-1)!.data.reason).toMatch(/removed/);
      // The stream is closed: nothing more can reach it.
      await tail.done;
    }
    expect((await openTail('', SHOP)).response.status).toBe(401);
    await write(collectorFile, original);
    collector.hangup();
    await eventually(
      async () => (await get('/api/logs/search', SHOP)).status,
      (s) => s === 200,
      'the token back',
    );
  }, 60_000);

  it('cuts off a request body that trickles in', async () => {
    // The default http.requestTimeout is 60 s; this one has it at 2 s.
    const { readFile, writeFile: write } = await import('node:fs/promises');
    const original = await readFile(collectorFile, 'utf8');
    await write(
      collectorFile,
      original.replace('listen: "127.0.0.1:0"', 'listen: "127.0.0.1:0"\n  requestTimeout: 2s'),
    );
    await collector.stop();
    api = await collector.start();
    const { answer, closedAfterMs } = await trickle(
      api,
      `POST /api/ingest HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${INGEST}\r\ncontent-type: application/x-ndjson\r\ncontent-length: 1000\r\n\r\n`,
      1_000,
      30_000,
    );
    expect(closedAfterMs).toBeLessThan(15_000);
    expect(answer).toMatch(/^HTTP\/1.1 408/);
    await write(collectorFile, original);
  }, 60_000);
});
