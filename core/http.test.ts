import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { trickle } from '../test/support/http-clients.ts';
import { type Principal, scopeNamespaces } from './auth.ts';
import { createHttpApp, type HttpApp } from './http.ts';
import { httpSchema } from './http-config.ts';
import { createLogger } from './log.ts';
import { Metrics } from './metrics.ts';

const TOKENS = {
  viewer: 'viewer-token-0123456789',
  editor: 'editor-token-0123456789',
  admin: 'admin-token-01234567890',
  shop: 'shop-only-token-0123456',
  agent: 'agent-token-01234567890',
};

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

/** Holds `/api/again` after authentication, until the test releases it. */
let held = Promise.withResolvers<void>();

function build(auth: Record<string, unknown> = {}, options: Record<string, unknown> = {}): HttpApp {
  const config = httpSchema.parse({
    listen: '127.0.0.1:0',
    ...options,
    auth: {
      tokens: [
        { name: 'v', token: TOKENS.viewer, role: 'viewer' },
        { name: 'e', token: TOKENS.editor, role: 'editor' },
        { name: 'a', token: TOKENS.admin, role: 'admin' },
        { name: 'shop-team', token: TOKENS.shop, role: 'viewer', namespaces: ['shop'] },
        { name: 'probe-agent', token: TOKENS.agent, role: 'agent' },
      ],
      ...auth,
    },
  });
  const metrics = new Metrics();
  metrics.counter({ type: 'counter', name: 'test_requests_total', help: 'requests seen by the test' }).inc(3);
  const http = createHttpApp({ config, log: silent, metrics });
  http.app.get('/api/read', { config: { summary: 'who am I' } }, async (req) => ({
    who: req.principal.name,
  }));
  http.app.get('/api/again', async (req) => {
    await held.promise;
    return { now: req.reauthorize()?.name ?? null };
  });
  http.app.post('/api/write', { config: { role: 'editor' } }, async () => ({ ok: true }));
  http.app.delete('/api/admin', { config: { role: 'admin' } }, async () => ({ ok: true }));
  http.app.post('/api/report', { config: { role: 'agent' } }, async () => ({ ok: true }));
  http.app.get<{ Querystring: { namespace?: string } }>('/api/scoped', async (req) => ({
    namespaces: scopeNamespaces(req.principal, req.query.namespace?.split(',')) ?? 'all',
  }));
  return http;
}

let current: HttpApp | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

const call = (http: HttpApp, method: 'GET' | 'POST' | 'DELETE', url: string, token?: string) =>
  http.app.inject({ method, url, headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('http app', () => {
  it('answers 401 without a valid token, 403 without the role, 200 with it', async () => {
    current = build();
    expect((await call(current, 'GET', '/api/read')).statusCode).toBe(401);
    expect((await call(current, 'GET', '/api/read', 'wrong-token-0123456789')).statusCode).toBe(401);
    expect((await call(current, 'GET', '/api/read', TOKENS.viewer)).json()).toEqual({ who: 'v' });
    expect((await call(current, 'POST', '/api/write', TOKENS.viewer)).statusCode).toBe(403);
    expect((await call(current, 'POST', '/api/write', TOKENS.editor)).statusCode).toBe(200);
    expect((await call(current, 'POST', '/api/write', TOKENS.admin)).statusCode).toBe(200);
    expect((await call(current, 'DELETE', '/api/admin', TOKENS.editor)).statusCode).toBe(403);
    expect((await call(current, 'DELETE', '/api/admin', TOKENS.admin)).statusCode).toBe(200);
    const denied = await call(current, 'POST', '/api/write', TOKENS.viewer);
    expect(denied.json().error).toContain('editor');
    expect(denied.body).not.toContain(TOKENS.viewer);
  });

  it('lets an agent token call only the routes of its role, which of the people only an admin may call', async () => {
    current = build();
    expect((await call(current, 'POST', '/api/report', TOKENS.agent)).statusCode).toBe(200);
    expect((await call(current, 'POST', '/api/report', TOKENS.admin)).statusCode).toBe(200);
    expect((await call(current, 'POST', '/api/report', TOKENS.editor)).statusCode).toBe(403);
    expect((await call(current, 'POST', '/api/report', TOKENS.viewer)).statusCode).toBe(403);
    expect((await call(current, 'GET', '/api/read', TOKENS.agent)).statusCode).toBe(403);
    expect((await call(current, 'POST', '/api/write', TOKENS.agent)).statusCode).toBe(403);
  });

  it('keeps health open and metrics closed by default, and can change both', async () => {
    current = build();
    expect((await call(current, 'GET', '/healthz')).statusCode).toBe(200);
    expect((await call(current, 'GET', '/readyz')).statusCode).toBe(200);
    expect((await call(current, 'GET', '/metrics')).statusCode).toBe(401);
    const metrics = await call(current, 'GET', '/metrics', TOKENS.viewer);
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('lookout_test_requests_total 3');
    expect(metrics.body).toContain('process_cpu_user_seconds_total');
    await current.close();

    current = build({ openHealth: false, openMetrics: true });
    expect((await call(current, 'GET', '/healthz')).statusCode).toBe(401);
    expect((await call(current, 'GET', '/healthz', TOKENS.viewer)).statusCode).toBe(200);
    expect((await call(current, 'GET', '/metrics')).statusCode).toBe(200);
  });

  it('reports readiness from named checks', async () => {
    current = build();
    let kafkaUp = false;
    current.readiness.add('kafka', () => kafkaUp);
    current.readiness.add('store', async () => true);
    const down = await call(current, 'GET', '/readyz');
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ ready: false, checks: { kafka: false, store: true } });
    kafkaUp = true;
    expect((await call(current, 'GET', '/readyz')).statusCode).toBe(200);
  });

  it('scopes namespaces to what a token may read', async () => {
    current = build();
    expect((await call(current, 'GET', '/api/scoped', TOKENS.viewer)).json()).toEqual({ namespaces: 'all' });
    expect((await call(current, 'GET', '/api/scoped?namespace=a,b', TOKENS.viewer)).json()).toEqual({
      namespaces: ['a', 'b'],
    });
    expect((await call(current, 'GET', '/api/scoped', TOKENS.shop)).json()).toEqual({ namespaces: ['shop'] });
    expect((await call(current, 'GET', '/api/scoped?namespace=shop', TOKENS.shop)).json()).toEqual({
      namespaces: ['shop'],
    });
    const forbidden = await call(current, 'GET', '/api/scoped?namespace=shop,payments', TOKENS.shop);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error).toContain('payments');
  });

  it('lets everything through as admin when auth is disabled', async () => {
    current = build({ enabled: false });
    expect((await call(current, 'DELETE', '/api/admin')).statusCode).toBe(200);
    expect((await call(current, 'GET', '/metrics')).statusCode).toBe(200);
  });

  it('swaps tokens on reload', async () => {
    current = build();
    current.setAuth({
      enabled: true,
      openHealth: true,
      openMetrics: false,
      tokens: [{ name: 'new', token: 'brand-new-token-012345', role: 'viewer' }],
    });
    expect((await call(current, 'GET', '/api/read', TOKENS.viewer)).statusCode).toBe(401);
    expect((await call(current, 'GET', '/api/read', 'brand-new-token-012345')).statusCode).toBe(200);
  });

  it('tells a request held open whether its token still counts after a reload', async () => {
    current = build();
    held = Promise.withResolvers<void>();
    const before = call(current, 'GET', '/api/again', TOKENS.viewer);
    const after = call(current, 'GET', '/api/again', TOKENS.editor);
    // Both passed authentication and wait in the handler while the tokens change.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { tokens } = httpSchema.parse({
      auth: { tokens: [{ name: 'v', token: TOKENS.viewer, role: 'viewer' }] },
    }).auth;
    current.setAuth({ enabled: true, openHealth: true, openMetrics: false, tokens });
    held.resolve();
    expect((await before).json()).toEqual({ now: 'v' });
    expect((await after).json()).toEqual({ now: null });
    current.setAuth({ enabled: false, openHealth: true, openMetrics: false, tokens: [] });
    expect((await call(current, 'GET', '/api/again')).json()).toEqual({ now: 'anonymous' });
  });

  it('lists its endpoints at / without a token', async () => {
    current = build();
    const index = await call(current, 'GET', '/');
    expect(index.statusCode).toBe(200);
    expect(index.json()).toMatchObject({ service: 'lookout', auth: expect.stringMatching(/Bearer/) });
    expect(index.json().endpoints).toEqual(
      expect.arrayContaining([
        { method: 'GET', path: '/api/read', summary: 'who am I' },
        { method: 'GET', path: '/healthz', summary: 'liveness' },
        { method: 'POST', path: '/api/write' },
      ]),
    );
  });

  it('cuts off a request whose body trickles in past requestTimeout', async () => {
    current = build({}, { requestTimeout: '1s', headersTimeout: '1s' });
    // One byte every 300 ms would take 30 s for the whole body.
    const { answer, closedAfterMs } = await trickle(
      await current.listen(),
      `POST /api/write HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TOKENS.editor}\r\ncontent-type: text/plain\r\ncontent-length: 100\r\n\r\n`,
      300,
      20_000,
    );
    expect(closedAfterMs).toBeLessThan(10_000);
    expect(answer).toMatch(/^HTTP\/1.1 408/);
  });

  it('listens on a real port', async () => {
    current = build();
    const address = await current.listen();
    const response = await fetch(`${address}/healthz`);
    expect(response.status).toBe(200);
  });
});

describe('scopeNamespaces', () => {
  const unrestricted: Principal = { name: 'ops', role: 'admin' };
  it('passes requests through for unrestricted tokens', () => {
    expect(scopeNamespaces(unrestricted)).toBeUndefined();
    expect(scopeNamespaces(unrestricted, [])).toBeUndefined();
    expect(scopeNamespaces(unrestricted, ['x'])).toEqual(['x']);
  });
});
