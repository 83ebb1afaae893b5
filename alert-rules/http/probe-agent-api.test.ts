import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/fixtures/manual-clock.ts';
import { createHttpApp, type HttpApp } from '../../core/http.ts';
import { httpSchema } from '../../core/http-config.ts';
import { createLogger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import { createAddressGuard } from '../probes/address-guard.ts';
import { FakeProber, MODULES } from '../probes/fixtures/fakes.ts';
import { Probes } from '../probes/probes.ts';
import { probesSchema } from '../probes/probes-config.ts';
import { RecordingNotifier } from '../rules/fixtures/fakes.ts';
import { registerProbeAgentApi } from './probe-agent-api.ts';

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const TOKENS = {
  agent: 'agent-token-0123456789',
  west: 'west-agent-token-0123456789',
  viewer: 'viewer-token-0123456789',
};

let dataDir: string;
let http: HttpApp;
let probes: Probes;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'probe-agent-api-'));
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const metrics = new Metrics({ defaults: false });
  const config = probesSchema.parse({
    targets: [
      // Loopback: refused by the centre's own guard, but probed by agents through theirs.
      { name: 'shop', target: 'http://127.0.0.1:8080/', module: 'http_2xx', locations: ['east', 'west'] },
    ],
    agents: { maxBatchResults: 2 },
  });
  const guard = createAddressGuard(config);
  probes = new Probes({
    config,
    modules: MODULES,
    guard,
    prober: new FakeProber(clock).probe,
    clock,
    notifier: new RecordingNotifier(),
    dataDir,
    alerts: { resendDelay: 60_000, resolvedRetention: 900_000, externalLabels: {}, externalURL: '' },
    metrics,
    log: silent,
  });
  await probes.start();
  http = createHttpApp({
    config: httpSchema.parse({
      auth: {
        tokens: [
          { name: 'agents', token: TOKENS.agent, role: 'agent' },
          { name: 'west-agent', token: TOKENS.west, role: 'agent', locations: ['west'] },
          { name: 'console', token: TOKENS.viewer, role: 'viewer' },
        ],
      },
    }),
    log: silent,
    metrics,
  });
  registerProbeAgentApi(http.app, () => probes, 1024 * 1024);
});

afterEach(async () => {
  await http.close();
  await probes.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const call = (method: 'GET' | 'POST', url: string, token: string, headers = {}, body?: unknown) =>
  http.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}`, ...headers },
    ...(body === undefined ? {} : { payload: body as object }),
  });

const result = (seq: number) => ({
  seq,
  probe: 'shop',
  target: 'http://127.0.0.1:8080/',
  module: 'http_2xx',
  startedAtMs: Date.UTC(2026, 0, 1),
  durationMs: 3,
  success: true,
  samples: [{ name: 'probe_http_status_code', help: 'status', value: null }],
});

describe('the probe agents API', () => {
  it("hands an agent its location's targets with an ETag, and a 304 while they are unchanged", async () => {
    const first = await call('GET', '/api/probe-agent/targets?location=east', TOKENS.agent);
    expect(first.statusCode).toBe(200);
    expect(first.json().targets.map((t: { id: string }) => t.id)).toEqual(['shop']);
    const etag = first.headers.etag as string;
    const again = await call('GET', '/api/probe-agent/targets?location=east', TOKENS.agent, {
      'if-none-match': etag,
    });
    expect(again.statusCode).toBe(304);
    expect(
      (await call('GET', '/api/probe-agent/targets?location=north', TOKENS.agent)).json().targets,
    ).toEqual([]);
    expect((await call('GET', '/api/probe-agent/targets?location=../x', TOKENS.agent)).statusCode).toBe(400);
  });

  it('takes results only from an agent token, and says what it made of them', async () => {
    const batch = { agent: 'a1', location: 'east', sentAtMs: Date.UTC(2026, 0, 1), results: [result(1)] };
    expect((await call('POST', '/api/probe-agent/results', TOKENS.viewer, {}, batch)).statusCode).toBe(403);
    expect((await call('GET', '/api/probe-agent/targets?location=east', TOKENS.viewer)).statusCode).toBe(403);
    const taken = await call('POST', '/api/probe-agent/results', TOKENS.agent, {}, batch);
    expect(taken.json()).toEqual({ accepted: 1, late: 0, duplicates: 0, ignored: 0 });
    expect(probes.get('shop').locations?.find((l) => l.location === 'east')?.state).toBe('up');
    const agents = await call('GET', '/api/probe-agents', TOKENS.viewer);
    expect(agents.json().locations.map((l: { location: string; up: boolean }) => [l.location, l.up])).toEqual(
      [
        ['east', true],
        ['west', true],
      ],
    );
  });

  it('lets a token limited to some locations report only for those', async () => {
    const batch = { agent: 'a2', location: 'east', sentAtMs: Date.UTC(2026, 0, 1), results: [result(1)] };
    const refused = await call('POST', '/api/probe-agent/results', TOKENS.west, {}, batch);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toBe('token "west-agent" may not report for location east');
    expect((await call('GET', '/api/probe-agent/targets?location=east', TOKENS.west)).statusCode).toBe(403);
    expect((await call('GET', '/api/probe-agent/targets?location=west', TOKENS.west)).statusCode).toBe(200);
    const west = await call(
      'POST',
      '/api/probe-agent/results',
      TOKENS.west,
      {},
      { ...batch, location: 'west' },
    );
    expect(west.json()).toMatchObject({ accepted: 1 });
  });

  it('answers 413 to a batch of too many results and 400 to a malformed one', async () => {
    const base = { agent: 'a1', location: 'east', sentAtMs: 0 };
    const many = await call(
      'POST',
      '/api/probe-agent/results',
      TOKENS.agent,
      {},
      {
        ...base,
        results: [result(1), result(2), result(3)],
      },
    );
    expect(many.statusCode).toBe(413);
    const malformed = await call(
      'POST',
      '/api/probe-agent/results',
      TOKENS.agent,
      {},
      {
        ...base,
        results: [{ ...result(1), seq: 0 }],
      },
    );
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error).toContain('results[0].seq');
  });
});
