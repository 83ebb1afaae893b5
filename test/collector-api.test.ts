import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, LookoutProcess, writeConfig } from './support/lookout-process.ts';

// A collector on its embedded store, fed by a real sidecar through POST /api/ingest, asked over HTTP.
const ADMIN = 'admin-token-0123456789';
const SHOP = 'shop-viewer-token-0123';
const INGEST = 'ingest-token-0123456789';

let dir: string;
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

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lookout-collector-api-'));
  const collectorFile = await writeConfig(
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
  tail: { interval: 200ms }
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
    const controller = new AbortController();
    const response = await fetch(`${api}/api/logs/tail?q=tailed`, {
      headers: { authorization: `Bearer ${ADMIN}` },
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = response.body!.getReader();
    const received: string[] = [];
    const reading = (async () => {
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += new TextDecoder().decode(value);
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(event);
          if (event.includes('event: log') && data) received.push(JSON.parse(data[1]!).doc.message);
          end = buffer.indexOf('\n\n');
        }
      }
    })().catch(() => {});
    const { appendFile } = await import('node:fs/promises');
    for (let i = 1; i <= 5; i++) {
      await appendFile(join(dir, 'logs', 'order.log'), `tailed line ${i}\n`);
      await new Promise((r) => setTimeout(r, 300));
    }
    await eventually(
      async () => received.length,
      (n) => n >= 5,
      'five tailed lines',
      20_000,
    );
    await new Promise((r) => setTimeout(r, 1_000));
    controller.abort();
    await reading;
    expect(received).toEqual([1, 2, 3, 4, 5].map((i) => `tailed line ${i}`));
  }, 40_000);
});
