import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/fixtures/manual-clock.ts';
import { createLogger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import type { AlertingRuleSpec, LogRuleSpec, RuleGroupSpec, RuleSpec } from '../types.ts';
import { evalTimestamp } from './eval-timestamp.ts';
import { fakeRender, MemoryRemoteWriter, RecordingNotifier, ScriptedQueryApi } from './fixtures/fakes.ts';
import { highLoadRule, LOAD_EXPR, loadOf, MIN } from './fixtures/specs.ts';
import { formatGoTime } from './go-format.ts';
import type { LogRuleServices } from './log-rule.ts';
import type { LogSearch } from './log-search-client.ts';
import { ALERT_STATE_FILE, RuleManager, type RuleManagerSettings } from './rule-manager.ts';

const FILE = 'rules/node.yml';
const EXPR = LOAD_EXPR;
const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

const highLoad = (overrides: Partial<AlertingRuleSpec> = {}): RuleSpec =>
  highLoadRule({ annotations: { summary: 'load is {{ $value }}' }, ...overrides });

const group = (rules: RuleSpec[], extra: Partial<RuleGroupSpec> = {}): RuleGroupSpec => ({
  file: FILE,
  name: 'node',
  intervalMs: undefined,
  limit: 0,
  queryOffsetMs: undefined,
  labels: {},
  rules,
  ...extra,
});

let dataDir: string;
let clock: ManualClock;
/** The group's first evaluation slot after the start. */
let first: number;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'rules-eval-'));
  clock = new ManualClock(Date.UTC(2026, 11, 1, 12, 0, 7));
  first = evalTimestamp(FILE, 'node', MIN, clock.now()) + MIN;
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function setup(
  settings: Partial<RuleManagerSettings> = {},
  api = new ScriptedQueryApi(clock),
  logs?: LogRuleServices,
) {
  const notifier = new RecordingNotifier();
  const writer = new MemoryRemoteWriter();
  const metrics = new Metrics({ defaults: false });
  const manager = new RuleManager({
    queryApi: api,
    logs,
    remoteWriter: writer,
    notifier,
    render: fakeRender,
    clock,
    log: silent,
    metrics,
    dataDir,
    settings: {
      externalURL: 'https://lookout.example',
      generatorURLBase: 'https://prometheus.example/',
      externalLabels: { cluster: 'prod' },
      ...settings,
    },
  });
  return { manager, api, notifier, writer, metrics };
}

const advanceTo = (at: number) => clock.advance(at - clock.now());

describe('RuleManager scheduling', () => {
  it("evaluates at Prometheus's slots, querying at the slot minus the query offset", async () => {
    const { manager, api } = setup();
    await manager.start([group([highLoad()], { queryOffsetMs: 15_000 })]);
    await advanceTo(first - 1);
    expect(api.calls).toEqual([]);
    await advanceTo(first + 2 * MIN);
    expect(api.calls.map((c) => c.timeMs)).toEqual(
      [first, first + MIN, first + 2 * MIN].map((t) => t - 15_000),
    );
    await manager.stop();
  });

  it('goes on evaluating and sending while remote write hangs, dropping and counting what cannot be written', async () => {
    const { manager, api, writer, notifier, metrics } = setup({ writeAlertSeries: true });
    writer.hang = true;
    api.answer(EXPR, [loadOf('a')]);
    await manager.start([group([highLoad({ forMs: 0 })])]);
    await advanceTo(first + 5 * MIN);
    expect(api.calls).toHaveLength(6);
    expect(writer.calls).toBe(1);
    expect(notifier.take().filter((a) => a.labels.alertname === 'HighLoad').length).toBeGreaterThanOrEqual(3);
    const text = await metrics.text();
    expect(text).toContain(`lookout_alert_rules_group_iterations_missed_total{rule_group="${FILE};node"} 0`);
    expect(text).toMatch(/lookout_alert_rules_remote_write_dropped_samples_total [1-9]/);
    expect(manager.rules().groups[0]!.rules[0]).toMatchObject({
      health: 'err',
      lastError: expect.stringContaining('still being written'),
    });
    await manager.stop();
  });

  it('never overlaps evaluations: a slow one skips slots and counts them as missed', async () => {
    const { manager, api, metrics } = setup({ queryTimeoutMs: 10 * MIN });
    api.delayMs = 2.5 * MIN;
    await manager.start([group([highLoad()])]);
    await advanceTo(first + 10 * MIN);
    expect(api.maxRunning).toBe(1);
    const times = api.calls.map((c) => c.timeMs - first);
    expect(times).toEqual([0, 2 * MIN, 5 * MIN, 7 * MIN, 10 * MIN]);
    expect(await metrics.text()).toContain(
      `lookout_alert_rules_group_iterations_missed_total{rule_group="${FILE};node"} 6`,
    );
    await manager.stop();
  });

  it('never overlaps evaluations of a slow log rule either: it skips slots and counts them as missed', async () => {
    let running = 0;
    let maxRunning = 0;
    const counted: number[] = [];
    const search: LogSearch = {
      async count(request, _groupBy, signal) {
        counted.push(request.toMs);
        maxRunning = Math.max(maxRunning, ++running);
        await clock.sleep(2.5 * MIN, signal);
        running--;
        return { total: 0, groups: [], truncated: false };
      },
      lines: async () => [],
      namespaces: async () => undefined,
    };
    const logs = {
      search,
      consoleUrl: 'https://lookout.example',
      sampleLines: 3,
      sampleLineBytes: 300,
      alertsWithLines: 10,
    };
    const { manager, metrics } = setup({ queryTimeoutMs: 10 * MIN }, undefined, logs);
    const rule: LogRuleSpec = {
      kind: 'log',
      alert: 'Errors',
      type: 'count',
      query: 'level:error',
      namespaces: [],
      windowMs: 5 * MIN,
      above: 10,
      minCount: 1,
      groupBy: [],
      maxAlerts: 10,
      forMs: 0,
      keepFiringForMs: 0,
      labels: {},
      annotations: {},
    };
    await manager.start([group([rule])]);
    await advanceTo(first + 10 * MIN);
    expect(maxRunning).toBe(1);
    expect(counted.map((t) => t - first)).toEqual([0, 2 * MIN, 5 * MIN, 7 * MIN, 10 * MIN]);
    expect(await metrics.text()).toContain(
      `lookout_alert_rules_group_iterations_missed_total{rule_group="${FILE};node"} 6`,
    );
    await manager.stop();
  });

  it('abandons a query after the query timeout and counts the failure', async () => {
    const { manager, api, metrics } = setup({ queryTimeoutMs: 20_000 });
    api.delayMs = 30_000;
    await manager.start([group([highLoad()])]);
    await advanceTo(first + 30_000);
    expect(manager.rules().groups[0]?.rules[0]).toMatchObject({
      health: 'err',
      lastError: 'query timed out after 20000 ms',
    });
    expect(await metrics.text()).toContain(
      `lookout_alert_rules_rule_evaluation_failures_total{rule_group="${FILE};node"} 1`,
    );
    await manager.stop();
  });
});

describe('RuleManager sending', () => {
  it('sends a firing alert as Prometheus posts it, again after more than the resend delay, and its resolve', async () => {
    const { manager, api, notifier } = setup();
    api.answer(EXPR, [loadOf('a')]);
    await manager.start([group([highLoad({ forMs: 0 })])]);
    await advanceTo(first);
    expect(notifier.take()).toEqual([
      {
        labels: { alertname: 'HighLoad', cluster: 'prod', instance: 'a', severity: 'page' },
        annotations: { summary: 'load is 2' },
        startsAt: new Date(first).toISOString(),
        endsAt: new Date(first + 4 * MIN).toISOString(),
        generatorURL: 'https://prometheus.example/graph?g0.expr=node_load1+%3E+1&g0.tab=1',
      },
    ]);
    await advanceTo(first + MIN);
    expect(notifier.take()).toEqual([]);
    await advanceTo(first + 2 * MIN);
    expect(notifier.take()).toHaveLength(1);
    api.answer(EXPR, []);
    await advanceTo(first + 3 * MIN);
    expect(notifier.take()).toMatchObject([
      { startsAt: new Date(first).toISOString(), endsAt: new Date(first + 3 * MIN).toISOString() },
    ]);
    await manager.stop();
  });

  it('shows and links the query as Prometheus prints it, and queries it as written', async () => {
    const { manager, api, notifier } = setup();
    const written = 'node_load1  >  1 AND ON() vector(1)';
    api.answer(written, [loadOf('a')]);
    await manager.start([group([highLoad({ expr: written, forMs: 0 })])]);
    await advanceTo(first);
    expect(api.calls.map((c) => c.expr)).toEqual([written]);
    expect(manager.rules().groups[0]?.rules[0]?.query).toBe('node_load1 > 1 and on () vector(1)');
    expect(notifier.take()[0]?.generatorURL).toBe(
      'https://prometheus.example/graph?g0.expr=node_load1+%3E+1+and+on+%28%29+vector%281%29&g0.tab=1',
    );
    await manager.stop();
  });

  it('sends nothing while pending', async () => {
    const { manager, api, notifier } = setup();
    api.answer(EXPR, [loadOf('a')]);
    await manager.start([group([highLoad()])]);
    await advanceTo(first + MIN);
    expect(notifier.batches).toEqual([]);
    await advanceTo(first + 2 * MIN);
    expect(notifier.take()).toMatchObject([{ startsAt: new Date(first + 2 * MIN).toISOString() }]);
    await manager.stop();
  });
});

describe('RuleManager recording rules and series', () => {
  it('writes recording rule results and ALERTS series at the query time, and exports ALERTS on /metrics', async () => {
    const { manager, api, writer, metrics } = setup();
    api.answer('sum by (job) (up)', [{ labels: { job: 'api' }, value: 3 }]);
    api.answer(EXPR, [loadOf('a')]);
    const record: RuleSpec = {
      kind: 'recording',
      record: 'job:up:sum',
      expr: 'sum by (job) (up)',
      labels: {},
    };
    await manager.start([
      group([record, highLoad()], { queryOffsetMs: 10_000, labels: { source: 'lookout' } }),
    ]);
    await advanceTo(first);
    const [recorded, ...alertSeries] = writer.samples;
    expect(recorded).toEqual({
      labels: { __name__: 'job:up:sum', job: 'api', source: 'lookout' },
      value: 3,
      timeMs: first - 10_000,
    });
    expect(alertSeries.map((s) => [s.labels.__name__, s.labels.source, s.timeMs])).toEqual([
      ['ALERTS', 'lookout', first - 10_000],
      ['ALERTS_FOR_STATE', 'lookout', first - 10_000],
    ]);
    const text = await metrics.text();
    expect(text).toContain(
      'lookout_alert_rules_alerts{alertname="HighLoad",alertstate="pending",instance="a",severity="page",source="lookout"} 1',
    );
    expect(text).toContain(
      `lookout_alert_rules_alerts_for_state{alertname="HighLoad",instance="a",severity="page",source="lookout"} ${Math.floor(first / 1000)}`,
    );
    await manager.stop();
  });

  it('marks the series a rule stopped writing as stale, as Prometheus does', async () => {
    const { manager, api, writer } = setup();
    api.answer('up', [
      { labels: { __name__: 'up', job: 'a' }, value: 1 },
      { labels: { __name__: 'up', job: 'b' }, value: 1 },
    ]);
    await manager.start([group([{ kind: 'recording', record: 'up:copy', expr: 'up', labels: {} }])]);
    await advanceTo(first);
    api.answer('up', [{ labels: { __name__: 'up', job: 'a' }, value: 1 }]);
    await advanceTo(first + MIN);
    expect(writer.samples.slice(2)).toEqual([
      { labels: { __name__: 'up:copy', job: 'a' }, value: 1, timeMs: first + MIN },
      { labels: { __name__: 'up:copy', job: 'b' }, value: Number.NaN, timeMs: first + MIN, stale: true },
    ]);
    await advanceTo(first + 2 * MIN);
    expect(writer.samples.slice(4)).toEqual([
      { labels: { __name__: 'up:copy', job: 'a' }, value: 1, timeMs: first + 2 * MIN },
    ]);
    await manager.stop();
  });

  it('fails a recording rule whose series collide or exceed the limit, writing nothing', async () => {
    const { manager, api, writer } = setup();
    api.answer('up', [
      { labels: { __name__: 'up', job: 'a' }, value: 1 },
      { labels: { __name__: 'up', job: 'b' }, value: 1 },
    ]);
    const rules: RuleSpec[] = [
      { kind: 'recording', record: 'up:same', expr: 'up', labels: { job: 'x' } },
      { kind: 'recording', record: 'up:copy', expr: 'up', labels: {} },
    ];
    await manager.start([group(rules, { limit: 1 })]);
    await advanceTo(first);
    expect(manager.rules().groups[0]?.rules.map((r) => r.lastError)).toEqual([
      'vector contains metrics with the same labelset after applying rule labels',
      'exceeded limit of 1 with 2 series',
    ]);
    expect(writer.samples).toEqual([]);
    await manager.stop();
  });
});

describe('RuleManager state across restarts', () => {
  async function firingThenStopped() {
    const first$ = setup();
    first$.api.answer(EXPR, [loadOf('a')]);
    await first$.manager.start([group([highLoad()])]);
    await advanceTo(first + 2 * MIN);
    expect(first$.notifier.take()).toHaveLength(1);
    await first$.manager.stop();
    await clock.advance(10_000);
  }

  it('keeps a firing alert firing after a restart without sending it again', async () => {
    await firingThenStopped();
    const { manager, api, notifier } = setup();
    api.answer(EXPR, [loadOf('a', 5)]);
    await manager.start([group([highLoad()])]);
    await advanceTo(first + 3 * MIN);
    expect(notifier.batches).toEqual([]);
    expect(manager.alerts().alerts).toMatchObject([
      { state: 'firing', activeAt: formatGoTime(first), value: '5e+00' },
    ]);
    await advanceTo(first + 4 * MIN);
    expect(notifier.take()).toMatchObject([{ startsAt: new Date(first + 2 * MIN).toISOString() }]);
    await manager.stop();
  });

  it('sends the resolve of an alert whose condition ended while it was down', async () => {
    await firingThenStopped();
    await advanceTo(first + 5 * MIN + 30_000);
    const { manager, notifier } = setup();
    await manager.start([group([highLoad()])]);
    await advanceTo(first + 6 * MIN);
    expect(notifier.take()).toMatchObject([
      {
        labels: { alertname: 'HighLoad', instance: 'a' },
        startsAt: new Date(first + 2 * MIN).toISOString(),
        endsAt: new Date(first + 6 * MIN).toISOString(),
      },
    ]);
    await manager.stop();
  });

  it('sends a resolve that was saved but not yet sent', async () => {
    await firingThenStopped();
    const path = join(dataDir, ALERT_STATE_FILE);
    const saved = JSON.parse(await readFile(path, 'utf8'));
    const alert = saved.groups[0].rules[0].alerts[0];
    Object.assign(alert, { state: 'inactive', resolvedAtMs: first + 2 * MIN, lastSentAtMs: first + MIN });
    await writeFile(path, JSON.stringify(saved));
    const { manager, api, notifier } = setup();
    api.answer(EXPR, []);
    await manager.start([group([highLoad()])]);
    await advanceTo(first + 3 * MIN);
    expect(notifier.take()).toMatchObject([{ endsAt: new Date(first + 2 * MIN).toISOString() }]);
    await manager.stop();
  });

  it('starts afresh, never crashing, on a state file it cannot read', async () => {
    await writeFile(join(dataDir, ALERT_STATE_FILE), '{"version": 1, "groups": [tru');
    const { manager, api, metrics } = setup();
    api.answer(EXPR, [loadOf('a')]);
    await manager.start([group([highLoad()])]);
    await advanceTo(first);
    expect(manager.alerts().alerts).toMatchObject([{ state: 'pending' }]);
    expect(await metrics.text()).toContain('lookout_alert_rules_state_restore_failures_total 1');
    await manager.stop();
  });

  it('saves no state larger than its bound, and says so', async () => {
    const { manager, api, metrics } = setup({ stateMaxBytes: 100 });
    api.answer(EXPR, [loadOf('a')]);
    await manager.start([group([highLoad({ forMs: 0 })])]);
    await advanceTo(first);
    await manager.stop();
    expect(await metrics.text()).toContain(
      'lookout_alert_rules_state_save_failures_total{reason="too_large"} 2',
    );
  });

  it('counts time spent pending before the stop, not the time down', async () => {
    const before = setup();
    before.api.answer(EXPR, [loadOf('a')]);
    await before.manager.start([group([highLoad({ forMs: 5 * MIN })])]);
    await advanceTo(first + 2 * MIN);
    await before.manager.stop();
    await advanceTo(first + 10 * MIN + 1000);
    const { manager, api } = setup();
    api.answer(EXPR, [loadOf('a')]);
    await manager.start([group([highLoad({ forMs: 5 * MIN })])]);
    await advanceTo(first + 13 * MIN);
    expect(manager.alerts().alerts).toMatchObject([{ state: 'pending' }]);
    await advanceTo(first + 14 * MIN);
    expect(manager.alerts().alerts).toMatchObject([{ state: 'firing' }]);
    await manager.stop();
  });
});

describe('RuleManager reload', () => {
  it('keeps unchanged groups running and carries alerts into changed ones', async () => {
    const { manager, api, notifier } = setup();
    api.answer(EXPR, [loadOf('a')]);
    await manager.start([group([highLoad()])]);
    await advanceTo(first + 2 * MIN);
    expect(notifier.take()).toHaveLength(1);
    const running = manager.groups()[0];

    await manager.update([group([highLoad()])]);
    expect(manager.groups()[0]).toBe(running);

    await manager.update([group([highLoad({ annotations: { summary: 'changed' } })])]);
    expect(manager.groups()[0]).not.toBe(running);
    await advanceTo(first + 3 * MIN);
    expect(notifier.batches).toEqual([]);
    expect(manager.alerts().alerts).toMatchObject([{ state: 'firing', annotations: { summary: 'changed' } }]);

    await manager.update([]);
    expect(manager.groups()).toEqual([]);
    await manager.stop();
  });
});
