import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { trickle } from '../test/support/http-clients.ts';
import { httpSchema } from './http-config.ts';
import { createBasicHttpServer, type HttpServer } from './http-server.ts';
import { createLogger } from './log.ts';
import { Metrics } from './metrics.ts';

const VIEWER = 'viewer-token-0123456789';
const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

let current: HttpServer | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

async function start(auth: Record<string, unknown> = {}, options: Record<string, unknown> = {}) {
  const config = httpSchema.parse({
    listen: '127.0.0.1:0',
    ...options,
    auth: { tokens: [{ name: 'v', token: VIEWER, role: 'viewer' }], ...auth },
  });
  const metrics = new Metrics();
  metrics.counter({ type: 'counter', name: 'test_requests_total', help: 'requests seen by the test' }).inc(3);
  current = createBasicHttpServer({ config, log: silent, metrics });
  const address = await current.listen();
  const get = (path: string, token?: string, method = 'GET') =>
    fetch(`${address}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { server: current, address, get };
}

describe('the bare server of processes that serve no API of their own', () => {
  it('keeps health open and metrics behind a token, as the full server does', async () => {
    const { get } = await start();
    expect((await get('/healthz')).status).toBe(200);
    const closed = await get('/metrics');
    expect(closed.status).toBe(401);
    expect(closed.headers.get('www-authenticate')).toBe('Bearer');
    expect((await get('/metrics', 'wrong-token-0123456789')).status).toBe(401);
    const metrics = await get('/metrics', VIEWER);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toContain('lookout_test_requests_total 3');
  });

  it('opens metrics and closes health when configured, and swaps tokens on reload', async () => {
    const { server, get } = await start({ openHealth: false, openMetrics: true });
    expect((await get('/healthz')).status).toBe(401);
    expect((await get('/healthz', VIEWER)).status).toBe(200);
    expect((await get('/metrics')).status).toBe(200);
    server.setAuth({ enabled: true, openHealth: false, openMetrics: true, tokens: [] });
    expect((await get('/healthz', VIEWER)).status).toBe(401);
  });

  it('reports readiness from named checks', async () => {
    const { server, get } = await start();
    let up = false;
    server.readiness.add('sinks', () => up);
    server.readiness.add('broken', () => {
      throw new Error('no');
    });
    const down = await get('/readyz');
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ ready: false, checks: { sinks: false, broken: false } });
    server.readiness.remove('broken');
    up = true;
    expect(await (await get('/readyz')).json()).toEqual({
      status: 'ready',
      ready: true,
      checks: { sinks: true },
    });
  });

  it('lists its endpoints, and answers 404 and 405 elsewhere', async () => {
    const { get } = await start();
    const index = (await (await get('/')).json()) as { endpoints: unknown[] };
    expect(index.endpoints).toEqual(
      expect.arrayContaining([
        { method: 'GET', path: '/readyz', summary: 'readiness, with each check' },
        { method: 'GET', path: '/metrics', summary: 'Prometheus metrics' },
      ]),
    );
    expect((await get('/api/logs/search')).status).toBe(404);
    const post = await get('/healthz', undefined, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await get('/healthz', undefined, 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('cuts off a client that trickles its headers past headersTimeout', async () => {
    const { address } = await start({}, { requestTimeout: '1s', headersTimeout: '1s' });
    const { answer, closedAfterMs } = await trickle(
      address,
      'GET /healthz HTTP/1.1\r\nx-slow: ',
      300,
      20_000,
    );
    expect(closedAfterMs).toBeLessThan(10_000);
    expect(answer).toMatch(/^HTTP\/1.1 408/);
  });

  it('refuses a second server on a port in use', async () => {
    const { address } = await start();
    const config = httpSchema.parse({ listen: address.replace('http://', '') });
    const second = createBasicHttpServer({ config, log: silent, metrics: new Metrics() });
    await expect(second.listen()).rejects.toThrow(/EADDRINUSE/);
  });
});
