import { Writable } from 'node:stream';
import { afterEach, expect, it } from 'vitest';
import { createHttpApp, type HttpApp } from '../../core/http.ts';
import { httpSchema } from '../../core/http-config.ts';
import { createLogger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import type { Probes } from '../probes/probes.ts';
import { registerProbesApi } from './probes-api.ts';

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

/** The signals `/probe` handed to the probes; a target named `slow` answers only when its signal aborts. */
const signals: AbortSignal[] = [];
const probes = {
  async probeOnce(target: string, _module: string, signal: AbortSignal): Promise<string> {
    signals.push(signal);
    if (target === 'slow') await new Promise((resolve) => signal.addEventListener('abort', resolve));
    return 'probe_success 1\n';
  },
} as unknown as Probes;

let http: HttpApp | undefined;
afterEach(async () => {
  await http?.close();
  signals.length = 0;
});

async function start(): Promise<string> {
  const config = httpSchema.parse({ listen: '127.0.0.1:0', auth: { enabled: false } });
  http = createHttpApp({ config, log: silent, metrics: new Metrics({ defaults: false }) });
  registerProbesApi(http.app, () => probes, 1024);
  return http.listen();
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

it('leaves the probe alone once its answer is sent', async () => {
  const base = await start();
  const answer = await fetch(`${base}/probe?target=fast`);
  expect(await answer.text()).toBe('probe_success 1\n');
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(signals).toHaveLength(1);
  expect(signals[0]!.aborted).toBe(false);
});

it('aborts the probe when the asker goes away before the answer', async () => {
  const base = await start();
  const asking = new AbortController();
  const answer = fetch(`${base}/probe?target=slow`, { signal: asking.signal }).catch(() => undefined);
  await until(() => signals.length === 1);
  asking.abort();
  await answer;
  await until(() => signals[0]!.aborted);
  expect(signals[0]!.aborted).toBe(true);
});

it('lets a viewer read the probes and only an editor change them', async () => {
  const config = httpSchema.parse({
    listen: '127.0.0.1:0',
    auth: {
      tokens: [
        { name: 'dev', token: 'viewer-token-0123456789', role: 'viewer' },
        { name: 'sre', token: 'editor-token-0123456789', role: 'editor' },
      ],
    },
  });
  http = createHttpApp({ config, log: silent, metrics: new Metrics({ defaults: false }) });
  const created: unknown[] = [];
  const fake = {
    list: () => [],
    moduleNames: () => ['http_2xx'],
    create: async (body: unknown) => {
      created.push(body);
      return { id: 'shop' };
    },
  } as unknown as Probes;
  registerProbesApi(http.app, () => fake, 1024);
  const base = await http.listen();
  const as = (token: string, method = 'GET', body?: unknown) =>
    fetch(`${base}/api/probes`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  const listed = await as('viewer-token-0123456789');
  expect(listed.status).toBe(200);
  expect(await listed.json()).toEqual({ probes: [], modules: ['http_2xx'] });
  expect((await as('viewer-token-0123456789', 'POST', { target: 'x', module: 'y' })).status).toBe(403);
  expect(created).toEqual([]);
  expect((await as('editor-token-0123456789', 'POST', { target: 'x', module: 'y' })).status).toBe(201);
  expect(created).toEqual([{ target: 'x', module: 'y' }]);
  expect((await fetch(`${base}/api/probes`)).status).toBe(401);
});
