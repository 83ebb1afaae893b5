import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp, type HttpApp } from '../../core/http.ts';
import { httpSchema } from '../../core/http-config.ts';
import { createLogger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import { collectEvents } from '../../test/support/http-clients.ts';
import { record } from '../../test/support/log-store-contract.ts';
import { type CollectorConfig, collectorSchema } from '../config.ts';
import { EmbeddedStore } from '../store/embedded/store.ts';
import { registerReadApi } from './api.ts';

// The read API in process, over the embedded store, as the collector wires it.
const ADMIN = 'admin-token-0123456789';
const SHOP = 'shop-viewer-token-0123';
const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const tokens = [
  { name: 'admin', token: ADMIN, role: 'admin' },
  { name: 'shop-dev', token: SHOP, role: 'viewer', namespaces: ['shop'] },
];

let dir: string;
let store: EmbeddedStore;
let http: HttpApp;
let config: CollectorConfig;
const NOW = Date.now();
const MiB = 1024 ** 2;

function setConfig(collector: Record<string, unknown>): void {
  config = collectorSchema.parse(collector);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lookout-read-api-'));
  store = new EmbeddedStore({ dir, log: silent });
  await store.open();
  http = createHttpApp({
    // Shorter than a tail's life: the request timeout must not cut an answer that streams.
    config: httpSchema.parse({ listen: '127.0.0.1:0', auth: { tokens }, requestTimeout: '1s' }),
    log: silent,
    metrics: new Metrics(),
  });
  setConfig({ tail: { interval: '100ms' } });
  registerReadApi(http.app, store, () => config);
  const big = (i: number) => `${String(i).padStart(2, '0')} ${'x'.repeat(MiB + 10)}`;
  await store.write([
    ...Array.from({ length: 40 }, (_, i) =>
      record({ id: `big-${i}`, time: NOW - 60_000 + i, message: big(i), namespace: 'bulk' }),
    ),
    ...Array.from({ length: 30 }, (_, i) =>
      record({
        id: `small-${i}`,
        time: NOW - 50 * 60_000 + i,
        message: `small line ${i}`,
        namespace: 'shop',
      }),
    ),
  ]);
});

afterAll(async () => {
  await http?.close();
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

// biome-ignore lint/suspicious/noExplicitAny: the answers' shapes are what the assertions check
async function get(url: string, token = ADMIN): Promise<{ status: number; body: any; raw: string }> {
  const response = await http.app.inject({
    method: 'GET',
    url,
    headers: { authorization: `Bearer ${token}` },
  });
  const json = response.headers['content-type']?.toString().startsWith('application/json');
  return { status: response.statusCode, body: json ? response.json() : response.body, raw: response.body };
}

describe('search answers', () => {
  it('end a page early at maxPageBytes, say so, and continue after the last hit returned', async () => {
    setConfig({ search: { maxPageBytes: '8MiB' } });
    const seen: string[] = [];
    let url = '/api/logs/search?namespace=bulk&from=now-1h&to=now%2B1m&order=asc&size=1000';
    for (;;) {
      const { status, body, raw } = await get(url);
      expect(status).toBe(200);
      expect(Buffer.byteLength(raw)).toBeLessThanOrEqual(8 * MiB + 64 * 1024);
      seen.push(...body.hits.map((h: { id: string }) => h.id));
      if (!body.next) {
        expect(body.truncated).toBeUndefined();
        break;
      }
      expect(body.truncated).toBe(true);
      expect(body.hits).toHaveLength(7);
      url = `/api/logs/search?namespace=bulk&from=now-1h&to=now%2B1m&order=asc&size=1000&cursor=${body.next}`;
    }
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => `big-${i}`));
  });

  it('cut the message of a hit bigger than a whole page, flagged', async () => {
    setConfig({ search: { maxPageBytes: '256KiB' } });
    const { body, raw } = await get('/api/logs/search?namespace=bulk&from=now-1h&to=now%2B1m&order=asc');
    expect(Buffer.byteLength(raw)).toBeLessThanOrEqual(256 * 1024 + 1024);
    expect(body.truncated).toBe(true);
    expect(body.hits).toHaveLength(1);
    expect(body.hits[0]).toMatchObject({ id: 'big-0', truncated: true });
    expect(body.hits[0].doc.message).toMatch(/^00 x+$/);
    const second = await get(
      `/api/logs/search?namespace=bulk&from=now-1h&to=now%2B1m&order=asc&cursor=${body.next}`,
    );
    expect(second.body.hits[0].id).toBe('big-1');
  });
});

describe('context answers', () => {
  it('keep the lines nearest the anchor that fit maxPageBytes, flagged truncated', async () => {
    setConfig({ search: { maxPageBytes: '8MiB' } });
    const { body, raw } = await get('/api/logs/context/big-20?before=20&after=20');
    expect(Buffer.byteLength(raw)).toBeLessThanOrEqual(8 * MiB);
    expect(body.truncated).toBe(true);
    const ids = body.lines.map((l: { id: string }) => l.id);
    expect(ids).toEqual(['big-17', 'big-18', 'big-19', 'big-20', 'big-21', 'big-22', 'big-23']);
    expect(body.lines[3].anchor).toBe(true);
    setConfig({});
    const whole = await get('/api/logs/context/small-5?before=2&after=2');
    expect(whole.body.truncated).toBeUndefined();
    expect(whole.body.lines.map((l: { doc: { message: string } }) => l.doc.message)).toEqual(
      [3, 4, 5, 6, 7].map((i) => `small line ${i}`),
    );
  });

  it('cut the anchor itself when it alone is bigger than a page', async () => {
    setConfig({ search: { maxPageBytes: '64KiB' } });
    const { body, raw } = await get('/api/logs/context/big-3?before=5&after=5');
    expect(Buffer.byteLength(raw)).toBeLessThanOrEqual(65 * 1024);
    expect(body).toMatchObject({ truncated: true, lines: [{ id: 'big-3', anchor: true, truncated: true }] });
  });
});

describe('bad input', () => {
  it('is refused with 400 and the reason, never 500', async () => {
    setConfig({});
    const cursor = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');
    const cases: [string, RegExp][] = [
      [`/api/logs/search?q=${'-'.repeat(10_000)}x`, /nested at most/],
      ['/api/logs/search?histogram=99999999999999999999w', /widest interval/],
      [`/api/logs/search?cursor=${cursor([1e308, 0, 'x'])}`, /cursor/],
      ['/api/logs/tail?from=banana', /not a time/],
      ['/api/logs/search?q=timeout%20OR', /OR needs a term on its right/],
      ['/api/logs/search?q=timeout%20AND', /AND needs a term on its right/],
      ['/api/logs/search?from=2026-02-30', /not a date on the calendar/],
      ['/api/logs/search?from=now-99999999999w', /outside the years/],
      [
        `/api/logs/search?pod=${Array.from({ length: 2_800 }, (_, i) => `p${i}`).join(',')}`,
        /at most 256 values/,
      ],
      [
        `/api/logs/search?${Array.from({ length: 300 }, (_, i) => `f.f${i}=v`).join('&')}`,
        /at most 256 values/,
      ],
    ];
    for (const [url, reason] of cases) {
      const { status, body } = await get(url);
      expect({ url: url.slice(0, 60), status, error: body.error }).toEqual({
        url: url.slice(0, 60),
        status: 400,
        error: expect.stringMatching(reason),
      });
    }
  });
});

describe('export', () => {
  const exportOf = async (query: string) =>
    (await get(`/api/logs/export?from=now-1h&to=now%2B1m&order=asc&${query}`)).raw.trimEnd().split(/\r?\n/);

  it('says in its last line when the collector limit of rows cut it, with the count', async () => {
    setConfig({ search: { exportMaxRows: 10 } });
    const lines = await exportOf('namespace=shop');
    expect(lines).toHaveLength(11);
    expect(JSON.parse(lines[10]!)).toEqual({
      lookout: {
        export: { complete: false, rows: 10, reason: expect.stringMatching(/10 rows .*exportMaxRows/) },
      },
    });
    const csv = await exportOf('namespace=shop&format=csv&columns=message');
    expect(csv).toHaveLength(12);
    expect(csv[11]).toMatch(/^# the export stopped after 10 rows at .*exportMaxRows/);
  });

  it('ends without a notice when it is complete or the caller chose the limit', async () => {
    setConfig({ search: { exportMaxRows: 30 } });
    expect(await exportOf('namespace=shop')).toHaveLength(30);
    setConfig({ search: { exportMaxRows: 100 } });
    expect(await exportOf('namespace=shop&limit=5')).toHaveLength(5);
  });

  it('stops at exportMaxBytes, saying so', async () => {
    setConfig({ search: { exportMaxBytes: '3MiB' } });
    const lines = await exportOf('namespace=bulk');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[2]!).lookout.export).toMatchObject({
      rows: 2,
      reason: expect.stringMatching(/exportMaxBytes/),
    });
  });
});

describe('live tail', () => {
  let api: string;
  beforeAll(async () => {
    api = await http.listen();
  });

  /** Reads one tail's events as they come; `events` fills while the stream is open. */
  async function openTail(query: string, token: string) {
    const controller = new AbortController();
    const response = await fetch(`${api}/api/logs/tail?${query}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    const { events, done } = collectEvents(response);
    return { response, events, done, close: () => controller.abort() };
  }

  const until = async (check: () => boolean, what: string) => {
    for (let waited = 0; !check(); waited += 50) {
      if (waited > 10_000) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it('honours a look-back up to maxFrom, and ends at maxLifetime with an end event', async () => {
    setConfig({ tail: { interval: '100ms', maxLifetime: '2500ms' } });
    const tail = await openTail('namespace=shop&from=now-55m', ADMIN);
    await tail.done;
    const messages = tail.events.filter((e) => e.event === 'log').map((e) => e.data.doc!.message);
    expect(messages).toEqual(Array.from({ length: 30 }, (_, i) => `small line ${i}`));
    expect(tail.events.at(-1)).toEqual({
      event: 'end',
      data: { reason: expect.stringMatching(/maxLifetime/) },
    });
    const tooOld = await get('/api/logs/tail?from=now-2h');
    expect(tooOld).toMatchObject({ status: 400, body: { error: expect.stringMatching(/maxFrom/) } });
  });

  it('refuses tails past the per-token and global limits with 429, and frees a slot on close', async () => {
    setConfig({ tail: { interval: '100ms', maxPerToken: 2, maxOpen: 3 } });
    const first = [await openTail('', ADMIN), await openTail('', ADMIN)];
    const third = await openTail('', ADMIN);
    expect(third.response.status).toBe(429);
    expect(((await third.response.json()) as { error: string }).error).toMatch(/maxPerToken/);
    const shop = await openTail('', SHOP);
    expect(shop.response.status).toBe(200);
    const fourth = await openTail('', SHOP);
    expect(fourth.response.status).toBe(429);
    expect(((await fourth.response.json()) as { error: string }).error).toMatch(/maxOpen/);
    first[0]!.close();
    let again: Awaited<ReturnType<typeof openTail>> | undefined;
    for (let i = 0; i < 100 && again?.response.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      again = await openTail('', ADMIN);
    }
    expect(again?.response.status).toBe(200);
    for (const tail of [first[1]!, shop, again!]) tail.close();
  });

  it('ends or re-scopes open tails when a reload changes their token', async () => {
    setConfig({ tail: { interval: '100ms' } });
    const asked = await openTail('namespace=shop', SHOP);
    const scoped = await openTail('', SHOP);
    const removed = await openTail('', ADMIN);
    const stillAdmin = tokens.filter((t) => t.name !== 'admin');
    const auth = (list: typeof tokens) => httpSchema.parse({ auth: { tokens: list } }).auth;
    http.setAuth(auth([...stillAdmin.map((t) => ({ ...t, namespaces: ['bulk'] }))]));
    await until(() => removed.events.some((e) => e.event === 'end'), 'the removed token to end its tail');
    expect(removed.events.at(-1)!.data.reason).toMatch(/removed/);
    await until(() => asked.events.some((e) => e.event === 'end'), 'the tail asking for shop to end');
    expect(asked.events.at(-1)!.data.reason).toMatch(/may no longer read .*shop/);
    await store.write([
      record({ id: 'after-reload-shop', time: Date.now(), message: 'shop after reload', namespace: 'shop' }),
      record({ id: 'after-reload-bulk', time: Date.now(), message: 'bulk after reload', namespace: 'bulk' }),
    ]);
    await until(
      () => scoped.events.some((e) => e.data.doc?.message === 'bulk after reload'),
      'the bulk line',
    );
    expect(scoped.events.map((e) => e.data.doc?.message)).not.toContain('shop after reload');
    scoped.close();
    http.setAuth(auth(tokens));
  });
});
