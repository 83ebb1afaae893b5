import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/fixtures/manual-clock.ts';
import { createLogger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import { RecordingNotifier } from '../rules/fixtures/fakes.ts';
import type { PostableAlert } from '../types.ts';
import { down, FakeProber, testTarget, UP } from './fixtures/fakes.ts';
import { PROBE_HISTORY_FILE, PROBE_STATE_FILE } from './probe-files.ts';
import { nextSlot } from './probe-runner.ts';
import { ProbeLimitError, ProbeScheduler, type ProbeSchedulerSettings } from './scheduler.ts';
import type { ProbeTarget } from './target-config.ts';

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const MIN = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

let dataDir: string;
let clock: ManualClock;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'probes-'));
  clock = new ManualClock(T0);
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function setup(settings: Partial<ProbeSchedulerSettings> = {}, prober = new FakeProber(clock)) {
  const notifier = new RecordingNotifier();
  const metrics = new Metrics({ defaults: false });
  const scheduler = new ProbeScheduler({
    prober: prober.probe,
    clock,
    notifier,
    dataDir,
    metrics,
    log: silent,
    settings: { externalURL: 'https://lookout.example/', externalLabels: { cluster: 'prod' }, ...settings },
  });
  return { scheduler, prober, notifier, metrics };
}

const advanceTo = (at: number) => clock.advance(at - clock.now());
const first = (target: ProbeTarget) => nextSlot(target.id, target.intervalMs, T0);
/** Moves to the target's n-th slot (1 the first) after T0. */
const toSlot = (target: ProbeTarget, n: number) => advanceTo(first(target) + (n - 1) * target.intervalMs);

/** The sum of a metric's series with these labels; `name` may be a histogram's `_bucket` or `_count`. */
async function metric(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const base = name.replace(/_(bucket|count)$/, '');
  const data = await metrics.registry.getSingleMetric(`lookout_${base}`)?.get();
  return (data?.values ?? [])
    .filter((v) => ((v as { metricName?: string }).metricName ?? `lookout_${base}`) === `lookout_${name}`)
    .filter((v) => Object.entries(labels).every(([key, value]) => String(v.labels[key]) === value))
    .reduce((sum, v) => sum + v.value, 0);
}

const named = (alerts: PostableAlert[], name: string) => alerts.filter((a) => a.labels.alertname === name);
const firing = (alerts: PostableAlert[]) => alerts.filter((a) => Date.parse(a.endsAt) > clock.now());
const resolved = (alerts: PostableAlert[]) => alerts.filter((a) => Date.parse(a.endsAt) <= clock.now());

describe('retries, recovery and resend', () => {
  it('fires ProbeDown after failuresBeforeDown failures in a row, resends it, and resolves it on recovery', async () => {
    const target = testTarget('shop', { failuresBeforeDown: 3, labels: { team: 'web' } });
    const { scheduler, prober, notifier } = setup({ resendDelay: MIN, resolvedRetention: 5 * MIN });
    prober.set(target, down('status 503'));
    await scheduler.start([target]);

    await toSlot(target, 2);
    expect(scheduler.results('shop')?.state).toBe('pending');
    expect(notifier.take()).toEqual([]);

    await toSlot(target, 3);
    const downAt = clock.now();
    expect(notifier.take()).toEqual([
      {
        labels: {
          alertname: 'ProbeDown',
          cluster: 'prod',
          instance: 'https://shop.example/',
          probe: 'shop',
          team: 'web',
        },
        annotations: {
          summary: 'https://shop.example/ is down: status 503',
          description: `The http_2xx probe of https://shop.example/ has failed since ${new Date(downAt).toISOString()} (3 failed probes in a row). Last failure: status 503.`,
        },
        startsAt: new Date(downAt).toISOString(),
        endsAt: new Date(downAt + 4 * MIN).toISOString(),
        generatorURL: 'https://lookout.example/api/probes/shop/results',
      },
    ]);

    expect(scheduler.firingAlerts().map((alert) => [alert.labels.alertname, alert.state])).toEqual([
      ['ProbeDown', 'firing'],
    ]);

    // Sent again when the last send is more than resendDelay old, as Prometheus does.
    await toSlot(target, 4);
    expect(notifier.take()).toEqual([]);
    await toSlot(target, 5);
    expect(firing(named(notifier.take(), 'ProbeDown'))).toHaveLength(1);

    prober.set(target, UP);
    await toSlot(target, 6);
    const up = notifier.take();
    expect(up.map((a) => [a.labels.alertname, a.startsAt, a.endsAt])).toEqual([
      ['ProbeDown', new Date(downAt).toISOString(), new Date(clock.now()).toISOString()],
    ]);
    expect(scheduler.results('shop')?.state).toBe('up');
    expect(scheduler.firingAlerts()).toEqual([]);

    // The resolved alert is sent again for the resolved retention, then forgotten.
    await toSlot(target, 14);
    expect(resolved(notifier.take()).length).toBeGreaterThan(0);
    await toSlot(target, 16);
    notifier.take();
    await toSlot(target, 18);
    expect(notifier.take()).toEqual([]);
    await scheduler.stop();
  });

  it('tells each of the target receivers with a receiver label', async () => {
    const target = testTarget('shop', { failuresBeforeDown: 1, receivers: ['shop-robot', 'ops-robot'] });
    const { scheduler, prober, notifier } = setup();
    prober.set(target, down());
    await scheduler.start([target]);
    await toSlot(target, 1);
    expect(notifier.take().map((a) => a.labels.receiver)).toEqual(['shop-robot', 'ops-robot']);
    await scheduler.stop();
  });

  it('starts afresh when the target changes, resolving what was firing; labels changed fire anew', async () => {
    const target = testTarget('shop', { failuresBeforeDown: 1 });
    const { scheduler, prober, notifier } = setup();
    prober.set(target, down());
    await scheduler.start([target]);
    await toSlot(target, 1);
    notifier.take();

    const relabelled = testTarget('shop', { failuresBeforeDown: 1, labels: { team: 'web' } });
    scheduler.upsert(relabelled);
    await toSlot(target, 2);
    const sent = notifier.take();
    expect(resolved(sent).map((a) => a.labels.team)).toEqual([undefined]);
    expect(firing(sent).map((a) => a.labels.team)).toEqual(['web']);

    const moved = testTarget('shop', { failuresBeforeDown: 1, target: 'https://new.example/' });
    scheduler.upsert(moved);
    expect(scheduler.results('shop')?.state).toBe('unknown');
    expect(scheduler.results('shop')?.results).toEqual([]);
    await toSlot(target, 3);
    expect(resolved(notifier.take()).map((a) => a.labels.instance)).toEqual(['https://shop.example/']);
    expect(scheduler.results('shop')?.state).toBe('up');
    await scheduler.stop();
  });
});

describe('flapping', () => {
  it('reports a flapping target once as ProbeFlapping instead of a stream of downs and ups', async () => {
    const target = testTarget('shop', { failuresBeforeDown: 1, flapping: { stateChanges: 4, probes: 10 } });
    const { scheduler, prober, notifier } = setup({ resendDelay: 10 * MIN });
    await scheduler.start([target]);
    const sent: PostableAlert[][] = [];
    for (let n = 1; n <= 24; n++) {
      prober.set(target, n % 2 === 0 ? down() : UP);
      await toSlot(target, n);
      sent.push(notifier.take());
    }
    const downsFired = sent.map((batch) => firing(named(batch, 'ProbeDown')).length);
    // Down at 2 and 4; the fourth change (up at 5) makes it flapping, and downs are no longer told.
    expect(downsFired).toEqual([0, 1, 0, 1, ...Array(20).fill(0)]);
    const flapping = sent.flatMap((batch) => named(batch, 'ProbeFlapping'));
    expect(new Set(flapping.map((a) => a.startsAt)).size).toBe(1);
    expect(flapping[0]?.annotations.summary).toBe('https://shop.example/ is flapping between up and down');
    expect(scheduler.results('shop')?.state).toBe('flapping');

    // Ten probes in a row without a change end it.
    prober.set(target, UP);
    for (let n = 25; n <= 35; n++) await toSlot(target, n);
    const end = notifier.take();
    expect(resolved(named(end, 'ProbeFlapping'))).toHaveLength(1);
    expect(named(end, 'ProbeDown')).toEqual([]);
    expect(scheduler.results('shop')?.state).toBe('up');
    await scheduler.stop();
  });
});

describe('certificate expiry', () => {
  it('fires CertificateExpiring once per threshold crossed, and resolves them all on renewal', async () => {
    const target = testTarget('shop', { interval: '1h' });
    const { scheduler, prober, notifier } = setup();
    prober.set(target, { up: true, certificateExpiresAtMs: T0 + 22 * DAY });
    await scheduler.start([target]);
    /** Each threshold fired so far, with when it started (resends repeat it). */
    const days = () =>
      [
        ...new Set(
          firing(named(notifier.batches.flat(), 'CertificateExpiring')).map(
            (a) => `${a.labels.days} ${a.startsAt}`,
          ),
        ),
      ]
        .map((fired) => fired.split(' ')[0])
        .sort();

    await toSlot(target, 1);
    expect(days()).toEqual([]);
    await toSlot(target, 24 + 1);
    expect(days()).toEqual(['21']);
    await toSlot(target, 8 * 24 + 1);
    expect(days()).toEqual(['14', '21']);
    const last = scheduler.results('shop');
    expect(last?.certificateExpiresAt).toBe(new Date(T0 + 22 * DAY).toISOString());
    // The list shows it too, so a status board needs no call per target.
    expect(scheduler.states()[0]?.certificateExpiresAt).toBe(last?.certificateExpiresAt);

    prober.set(target, { up: true, certificateExpiresAtMs: T0 + 90 * DAY });
    notifier.take();
    await toSlot(target, 8 * 24 + 2);
    const renewed = notifier.take();
    expect(
      resolved(renewed)
        .map((a) => a.labels.days)
        .sort(),
    ).toEqual(['14', '21']);
    expect(firing(renewed)).toEqual([]);
    await scheduler.stop();
  });
});

describe('scheduling', () => {
  it('spreads targets over the interval by a hash of their id, the same after a restart', async () => {
    const targets = Array.from({ length: 600 }, (_, i) => testTarget(`site-${i}`));
    const { scheduler, prober } = setup();
    await scheduler.start(targets);
    await advanceTo(T0 + MIN);
    expect(prober.calls).toHaveLength(600);
    const perSecond = new Map<number, number>();
    for (const { atMs } of prober.calls)
      perSecond.set(Math.floor(atMs / 1000), (perSecond.get(Math.floor(atMs / 1000)) ?? 0) + 1);
    expect(perSecond.size).toBeGreaterThan(55);
    expect(Math.max(...perSecond.values())).toBeLessThan(30);
    const phases = prober.calls.map((call) => call.atMs % MIN).sort((a, b) => a - b);
    await scheduler.stop();

    clock = new ManualClock(T0 + 7 * MIN + 12_345);
    const again = setup();
    await again.scheduler.start(targets);
    await clock.advance(MIN);
    expect(again.prober.calls.map((call) => call.atMs % MIN).sort((a, b) => a - b)).toEqual(phases);
    await again.scheduler.stop();
  });

  it('never runs two probes of one target at once: a probe still running makes the next one skipped', async () => {
    const target = testTarget('slow', { interval: '10s', timeout: '10s' });
    const { scheduler, prober, metrics } = setup({ abandonAfter: 5_000 });
    prober.set(target, 'hang');
    await scheduler.start([target]);
    await advanceTo(first(target) + 60_000);
    // Each probe is given up 15 s after its start, so every second slot finds it still running.
    expect(prober.calls.map((call) => call.atMs - first(target))).toEqual([0, 20_000, 40_000, 60_000]);
    expect(await metric(metrics, 'probes_skipped_total', { reason: 'running' })).toBe(3);
    expect(await metric(metrics, 'probes_abandoned_total')).toBe(3);
    expect(scheduler.results('slow')?.results[0]?.failure).toBe('timeout after 10s; the probe did not stop');
    // A stop does not wait for the probe that hangs, nor leaves a timer behind for it.
    await scheduler.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('aborts a probe at its timeout, bounded by the interval', async () => {
    const target = testTarget('slow', { interval: '2s', failuresBeforeDown: 1 });
    const prober = new FakeProber(clock);
    prober.durationMs = 4_000;
    const { scheduler } = setup({}, prober);
    await scheduler.start([target]);
    await advanceTo(first(target) + 2_000);
    expect(prober.calls[0]?.signal.aborted).toBe(true);
    // The prober is told the bounded timeout (the module's is 5s), so its reason says how long it had.
    expect(prober.calls[0]?.timeoutMs).toBe(2_000);
    expect(scheduler.results('slow')?.results[0]).toMatchObject({ success: false, durationSeconds: 2 });
    expect(prober.overlapped).toBe(false);
    await scheduler.stop();
  });

  it('drops the result of a probe whose target is removed while it runs', async () => {
    const target = testTarget('gone', { failuresBeforeDown: 1 });
    const prober = new FakeProber(clock);
    prober.durationMs = 3_000;
    const { scheduler, notifier, metrics } = setup({}, prober);
    prober.set(target, down());
    await scheduler.start([target]);
    await toSlot(target, 2);
    notifier.take();
    await clock.advance(1_000);
    expect(scheduler.remove('gone')).toBe(true);
    expect(prober.calls[1]?.signal.aborted).toBe(true);
    // Its firing alert is told resolved at once.
    expect(resolved(notifier.take()).map((a) => a.labels.probe)).toEqual(['gone']);
    await clock.advance(5 * MIN);
    expect(notifier.take()).toEqual([]);
    expect(scheduler.results('gone')).toBeUndefined();
    expect(prober.calls).toHaveLength(2);
    expect(await metric(metrics, 'probes_total')).toBe(1);
    expect(await metric(metrics, 'probes_running')).toBe(0);
    expect(scheduler.remove('gone')).toBe(false);
    await scheduler.stop();
  });

  it('holds at most `concurrency` probes at once; the rest wait for a slot and start late', async () => {
    const targets = Array.from({ length: 15 }, (_, i) => testTarget(`t${i}`, { interval: '10s' }));
    const prober = new FakeProber(clock);
    prober.durationMs = 1_000;
    const { scheduler, metrics } = setup({ concurrency: 2 }, prober);
    await scheduler.start(targets);
    await clock.advance(60_000);
    // 15 probes of 1 s every 10 s fit through 2 slots, but those due together wait.
    expect(prober.maxRunning).toBe(2);
    expect(prober.calls.length).toBeGreaterThanOrEqual(15 * 5);
    expect(await metric(metrics, 'probes_start_delay_seconds_count')).toBe(prober.calls.length);
    const onTime = await metric(metrics, 'probes_start_delay_seconds_bucket', { le: '0.001' });
    expect(onTime).toBeLessThan(prober.calls.length);
    expect(prober.overlapped).toBe(false);
    await scheduler.stop();
  });

  it('schedules 10,000 targets within the concurrency cap and on time, and refuses more than maxTargets', async () => {
    const targets = Array.from({ length: 10_000 }, (_, i) => testTarget(`target-${i}`));
    const prober = new FakeProber(clock);
    prober.durationMs = 200;
    const { scheduler, metrics } = setup({ concurrency: 100, maxTargets: 10_000 }, prober);
    for (const target of targets) scheduler.upsert(target);
    expect(() => scheduler.upsert(testTarget('one-too-many'))).toThrow(ProbeLimitError);
    await scheduler.start();
    await clock.advance(MIN);
    expect(prober.calls).toHaveLength(10_000);
    expect(prober.maxRunning).toBeLessThanOrEqual(100);
    const started = await metric(metrics, 'probes_start_delay_seconds_count');
    const withinASecond = await metric(metrics, 'probes_start_delay_seconds_bucket', { le: '1' });
    expect(withinASecond / started).toBeGreaterThanOrEqual(0.99);
    expect(await metric(metrics, 'probes_targets', { state: 'up' })).toBeGreaterThan(9_900);
    expect(scheduler.stateOf('target-9999')).toMatchObject({ id: 'target-9999', state: 'up' });
    expect(scheduler.stateOf('one-too-many')).toBeUndefined();
    // Removing them all mid-interval leaves nothing running or scheduled.
    await clock.advance(MIN / 2);
    for (const target of targets) scheduler.remove(target.id);
    await clock.advance(MIN);
    expect(prober.calls.length).toBeLessThan(20_000);
    expect(await metric(metrics, 'probes_running')).toBe(0);
    await scheduler.stop();
  }, 60_000);
});

describe('restart', () => {
  it('keeps each target state, alerts and history, so a down alert is not told again', async () => {
    const target = testTarget('shop', { failuresBeforeDown: 2 });
    const before = setup({ resendDelay: 10 * MIN });
    before.prober.set(target, down('connect: connection refused'));
    await before.scheduler.start([target]);
    await toSlot(target, 2);
    expect(firing(before.notifier.take())).toHaveLength(1);
    const downSince = before.scheduler.results('shop')?.since;
    await clock.advance(10_000);
    await before.scheduler.stop();

    const after = setup({ resendDelay: 10 * MIN });
    after.prober.set(target, down('connect: connection refused'));
    await after.scheduler.start([target]);
    expect(after.scheduler.results('shop')).toMatchObject({ state: 'down', since: downSince });
    expect(after.scheduler.results('shop')?.results).toHaveLength(2);
    for (let n = 3; n <= 11; n++) await toSlot(target, n);
    expect(after.notifier.take()).toEqual([]);
    // Sent again only when the resend delay since the send before the restart is over.
    await toSlot(target, 12);
    expect(after.notifier.take()).toEqual([]);
    await toSlot(target, 13);
    const resent = after.notifier.take();
    expect(resent.map((a) => a.startsAt)).toEqual([downSince]);
    await after.scheduler.stop();
  });

  it('sends every alert held at once when asked to, for a new dispatcher', async () => {
    const target = testTarget('shop', { failuresBeforeDown: 1, interval: '1h' });
    const before = setup();
    before.prober.set(target, down());
    await before.scheduler.start([target]);
    await toSlot(target, 1);
    const told = firing(before.notifier.take());
    await clock.advance(MIN);
    await before.scheduler.stop();

    const after = setup();
    await after.scheduler.start([target]);
    after.scheduler.sendAllAgain();
    const again = after.notifier.take();
    expect(again.map((a) => [a.labels.alertname, a.startsAt])).toEqual(
      told.map((a) => [a.labels.alertname, a.startsAt]),
    );
    expect(Date.parse(again[0]?.endsAt ?? '')).toBe(clock.now() + 4 * 3_600_000);
    await after.scheduler.stop();
  });

  it('forgets saved state of targets no longer defined and of targets now probing something else', async () => {
    const kept = testTarget('kept', { failuresBeforeDown: 1 });
    const changed = testTarget('changed', { failuresBeforeDown: 1 });
    const before = setup();
    before.prober.set(kept, down());
    before.prober.set(changed, down());
    await before.scheduler.start([kept, changed, testTarget('removed')]);
    await advanceTo(T0 + MIN);
    await before.scheduler.stop();

    const after = setup();
    after.prober.set(kept, down());
    const moved = testTarget('changed', { failuresBeforeDown: 1, target: 'https://elsewhere.example/' });
    await after.scheduler.start([kept, moved]);
    expect(after.scheduler.states().map((s) => [s.id, s.state])).toEqual([
      ['kept', 'down'],
      ['changed', 'unknown'],
    ]);
    // The alert of what it probed before is resolved by its first result.
    await advanceTo(T0 + 2 * MIN);
    expect(resolved(after.notifier.take()).map((a) => a.labels.instance)).toEqual([
      'https://changed.example/',
    ]);
    await after.scheduler.stop();
    const saved = JSON.parse(await readFile(join(dataDir, PROBE_STATE_FILE), 'utf8'));
    expect(saved.targets.map((t: { id: string }) => t.id).sort()).toEqual(['changed', 'kept']);
  });

  it('moves a corrupt file aside, counts it and starts empty', async () => {
    await writeFile(join(dataDir, PROBE_STATE_FILE), '{"version":1,"targets":[{"id":');
    await writeFile(join(dataDir, PROBE_HISTORY_FILE), JSON.stringify({ version: 99 }));
    const { scheduler, metrics } = setup();
    const target = testTarget('shop');
    await scheduler.start([target]);
    expect(scheduler.results('shop')?.state).toBe('unknown');
    expect(await metric(metrics, 'probes_restore_failures_total', { file: 'state' })).toBe(1);
    expect(await metric(metrics, 'probes_restore_failures_total', { file: 'history' })).toBe(1);
    expect((await readdir(dataDir)).sort()).toEqual([
      `${PROBE_HISTORY_FILE}.corrupt`,
      `${PROBE_STATE_FILE}.corrupt`,
    ]);
    await scheduler.stop();
    expect((await readdir(dataDir)).sort()).toContain(PROBE_STATE_FILE);
  });

  it('saves in batches, not per result, and bounds the history file', async () => {
    const targets = Array.from({ length: 50 }, (_, i) => testTarget(`t${i}`, { interval: '1s' }));
    const { scheduler, metrics } = setup({ stateSaveInterval: 10_000, maxHistoryBytes: 20_000 });
    await scheduler.start(targets);
    await clock.advance(9_000);
    expect(await readdir(dataDir)).toEqual([]);
    await scheduler.stop();
    const history = JSON.parse(await readFile(join(dataDir, PROBE_HISTORY_FILE), 'utf8'));
    expect(history.targets).toHaveLength(50);
    expect(history.targets[0].recent).toEqual([]);
    expect(await metric(metrics, 'probes_saved_bytes', { file: 'history' })).toBeLessThanOrEqual(20_000);
  });
});
