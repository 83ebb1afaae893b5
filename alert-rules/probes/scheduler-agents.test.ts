import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/fixtures/manual-clock.ts';
import { createLogger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import { RecordingNotifier } from '../rules/fixtures/fakes.ts';
import type { PostableAlert } from '../types.ts';
import type { ReportedResult, ResultBatch } from './agent-protocol.ts';
import { agentsSchema } from './agents-config.ts';
import { latestExposition } from './exposition.ts';
import { FakeProber, testTarget } from './fixtures/fakes.ts';
import { ProbeScheduler } from './scheduler.ts';
import type { ProbeTarget } from './target-config.ts';

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const S = 1_000;
const LOCATIONS = ['hangzhou', 'beijing', 'shanghai'];

let dataDir: string;
let clock: ManualClock;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'probe-agents-'));
  clock = new ManualClock(T0);
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function setup() {
  const notifier = new RecordingNotifier();
  const metrics = new Metrics({ defaults: false });
  const scheduler = new ProbeScheduler({
    prober: new FakeProber(clock).probe,
    clock,
    notifier,
    dataDir,
    metrics,
    log: silent,
    settings: { agents: agentsSchema.parse({ downAfter: '30s', labels: { team: 'sre' } }) },
  });
  return { scheduler, notifier, metrics };
}

const shop = (): ProbeTarget =>
  testTarget('shop', { interval: '10s', failuresBeforeDown: 1, locations: LOCATIONS });

/** Each agent numbers its own results. */
const sequences = new Map<string, number>();
beforeEach(() => sequences.clear());

function result(target: ProbeTarget, failure?: string, agoMs = 100): Omit<ReportedResult, 'seq'> {
  return {
    probe: target.id,
    target: target.target,
    module: target.moduleName,
    startedAtMs: clock.now() - agoMs,
    durationMs: 50,
    success: failure === undefined,
    ...(failure === undefined ? {} : { failure }),
    samples: [
      { name: 'probe_http_status_code', help: 'Response HTTP status code', value: failure ? 503 : 200 },
    ],
  };
}

function batch(location: string, results: Omit<ReportedResult, 'seq'>[], skewMs = 0): ResultBatch {
  const agent = `agent-${location}`;
  let seq = sequences.get(agent) ?? 0;
  const numbered = results.map((r) => ({ ...r, seq: ++seq, startedAtMs: r.startedAtMs + skewMs }));
  sequences.set(agent, seq);
  return { agent, location, sentAtMs: clock.now() + skewMs, results: numbered };
}

const named = (alerts: PostableAlert[], name: string) => alerts.filter((a) => a.labels.alertname === name);
const isFiring = (alert: PostableAlert) => Date.parse(alert.endsAt) > clock.now();

describe('targets probed from several locations', () => {
  it('is down when the locationsDown of its locations see it down, and says which and why', async () => {
    const { scheduler, notifier } = setup();
    const target = shop();
    await scheduler.start([target]);
    scheduler.report(batch('hangzhou', [result(target, 'connect: connection refused')]));
    scheduler.report(batch('beijing', [result(target)]));
    scheduler.report(batch('shanghai', [result(target)]));
    expect(scheduler.results('shop')?.state).toBe('up');
    expect(notifier.take()).toEqual([]);

    await clock.advance(10 * S);
    scheduler.report(batch('beijing', [result(target, 'status 503')]));
    const [down] = named(notifier.take(), 'ProbeDown');
    expect(down?.labels).toMatchObject({ probe: 'shop', instance: 'https://shop.example/' });
    expect(down?.labels.location).toBeUndefined();
    expect(down?.annotations.summary).toBe(
      'https://shop.example/ is down from 2 of 3 locations: hangzhou (connect: connection refused), beijing (status 503)',
    );
    expect(down?.annotations.locations).toBe('hangzhou, beijing');
    expect(down?.annotations.description).toContain('it is down when 2 are');

    const results = scheduler.results('shop')!;
    expect(results.state).toBe('down');
    expect(results.locations?.map((l) => [l.location, l.state])).toEqual([
      ['hangzhou', 'down'],
      ['beijing', 'down'],
      ['shanghai', 'up'],
    ]);
    expect(results.results[0]).toMatchObject({ location: 'beijing', success: false, failure: 'status 503' });
    expect(results.uptime['24h']).toMatchObject({ probes: 4, successes: 2 });

    // A third location seeing it down is sent at once, not at the next resend.
    scheduler.report(batch('shanghai', [result(target, 'status 503')]));
    expect(named(notifier.take(), 'ProbeDown').map((a) => a.annotations.locations)).toEqual([
      'hangzhou, beijing, shanghai',
    ]);
    await scheduler.stop();
  });

  it('counts a batch sent again once, and the gap before a batch as lost', async () => {
    const { scheduler, metrics } = setup();
    const target = shop();
    await scheduler.start([target]);
    const first = batch('hangzhou', [result(target), result(target)]);
    expect(scheduler.report(first)).toEqual({ accepted: 2, late: 0, duplicates: 0, ignored: 0 });
    expect(scheduler.report(first)).toEqual({ accepted: 0, late: 0, duplicates: 2, ignored: 0 });
    sequences.set('agent-hangzhou', 5);
    scheduler.report(batch('hangzhou', [result(target)]));
    expect(scheduler.results('shop')?.results).toHaveLength(3);
    const text = await metrics.text();
    expect(text).toContain('lookout_probe_agents_results_total{location="hangzhou",status="duplicate"} 2');
    expect(text).toContain('lookout_probe_agents_results_total{location="hangzhou",status="lost"} 3');
    await scheduler.stop();
  });

  it('keeps late results in the history, marked, without moving the state; clocks need not agree', async () => {
    const { scheduler } = setup();
    const target = shop();
    await scheduler.start([target]);
    // The agent's clock is an hour behind: its times are moved to the centre's.
    scheduler.report(batch('hangzhou', [result(target)], -3_600_000));
    expect(scheduler.results('shop')?.locations?.[0]).toMatchObject({ state: 'up' });
    await clock.advance(60 * S);
    // Results buffered for a minute while the centre was unreachable: a down one among them changes nothing.
    const late = batch(
      'hangzhou',
      [result(target, 'status 503', 50 * S), result(target, undefined, 40 * S)],
      -3_600_000,
    );
    expect(scheduler.report(late)).toMatchObject({ accepted: 0, late: 2 });
    const results = scheduler.results('shop')!;
    expect(results.locations?.[0]).toMatchObject({ state: 'up' });
    expect(results.results.filter((r) => r.late)).toHaveLength(2);
    expect(Date.parse(results.results[0]!.startedAt)).toBe(clock.now() - 40 * S);
    expect(results.uptime['24h']).toMatchObject({ probes: 3, successes: 2 });
    await scheduler.stop();
  });

  it('ignores results of targets the location does not probe, or probed at an old address', async () => {
    const { scheduler } = setup();
    const target = shop();
    await scheduler.start([target]);
    const moved = { ...result(target), target: 'https://old.example/' };
    const other = { ...result(target), probe: 'nothing-here' };
    expect(scheduler.report(batch('hangzhou', [moved, other]))).toMatchObject({ ignored: 2 });
    expect(scheduler.report(batch('guangzhou', [result(target)]))).toMatchObject({ ignored: 1 });
    await scheduler.stop();
  });

  it('fires ProbeAgentDown for a silent location, stops counting what it saw, and resolves when it reports', async () => {
    const { scheduler, notifier, metrics } = setup();
    const target = shop();
    await scheduler.start([target]);
    for (const location of ['hangzhou', 'beijing'])
      scheduler.report(batch(location, [result(target, 'status 503')]));
    scheduler.report(batch('shanghai', [result(target)]));
    expect(named(notifier.take(), 'ProbeDown').filter(isFiring)).toHaveLength(1);

    // Beijing's agent goes silent; the others go on reporting.
    for (let i = 0; i < 8; i++) {
      await clock.advance(5 * S);
      scheduler.report(batch('hangzhou', [result(target, 'status 503')]));
      scheduler.report(batch('shanghai', [result(target)]));
    }
    const sent = notifier.take();
    const [agentDown] = named(sent, 'ProbeAgentDown');
    expect(agentDown?.labels).toEqual({ alertname: 'ProbeAgentDown', location: 'beijing', team: 'sre' });
    expect(isFiring(agentDown!)).toBe(true);
    expect(agentDown?.annotations.description).toContain(
      'No probe agent at beijing reports: none has reported since',
    );
    expect(agentDown?.generatorURL).toBe('');
    // Hangzhou alone is not enough: the ProbeDown resolves.
    expect(named(sent, 'ProbeDown').filter((a) => !isFiring(a))).toHaveLength(1);
    expect(scheduler.results('shop')?.locations?.find((l) => l.location === 'beijing')?.counted).toBe(false);
    expect(await metrics.text()).toContain('lookout_probe_agents_up{location="beijing"} 0');
    expect(scheduler.agentLocations().map((l) => [l.location, l.up])).toEqual([
      ['beijing', false],
      ['hangzhou', true],
      ['shanghai', true],
    ]);

    scheduler.report(batch('beijing', []));
    await clock.advance(5 * S);
    const back = notifier.take();
    expect(named(back, 'ProbeAgentDown').filter((a) => !isFiring(a))).toHaveLength(1);
    // What beijing saw before its silence does not count: only what it sees now.
    expect(named(back, 'ProbeDown')).toEqual([]);
    scheduler.report(batch('beijing', [result(target, 'status 503')]));
    expect(named(notifier.take(), 'ProbeDown').filter(isFiring)).toHaveLength(1);
    await scheduler.stop();
  });

  it('gives each location its state back after a restart, telling nothing again', async () => {
    const first = setup();
    const target = shop();
    await first.scheduler.start([target]);
    for (const location of ['hangzhou', 'beijing'])
      first.scheduler.report(batch(location, [result(target, 'status 503')]));
    expect(named(first.notifier.take(), 'ProbeDown')).toHaveLength(1);
    await first.scheduler.stop();

    const second = setup();
    await second.scheduler.start([target]);
    expect(second.scheduler.results('shop')?.state).toBe('down');
    await clock.advance(5 * S);
    second.scheduler.report(batch('hangzhou', [result(target, 'status 503')]));
    expect(second.notifier.take()).toEqual([]);
    // Sequence numbers are kept too: a batch sent again to the restarted centre is recognised.
    sequences.set('agent-hangzhou', 0);
    expect(second.scheduler.report(batch('hangzhou', [result(target)]))).toMatchObject({ duplicates: 1 });
    await second.scheduler.stop();
  });

  it("assigns each location its targets with their modules, and shows the agents' results with a location", async () => {
    const { scheduler } = setup();
    const own = testTarget('own');
    await scheduler.start([shop(), own]);
    expect(scheduler.assignment('beijing')).toEqual({
      location: 'beijing',
      targets: [
        {
          id: 'shop',
          target: 'https://shop.example/',
          module: 'http_2xx',
          intervalMs: 10_000,
          timeoutMs: 5_000,
        },
      ],
      modules: { http_2xx: { prober: 'http', timeout: '5000ms' } },
    });
    expect(scheduler.assignment('elsewhere').targets).toEqual([]);
    scheduler.report(batch('beijing', [result(shop())]));
    const text = latestExposition(scheduler.latestResults());
    expect(text).toContain(
      'probe_http_status_code{instance="https://shop.example/",probe="shop",location="beijing"} 200',
    );
    await scheduler.stop();
  });
});
