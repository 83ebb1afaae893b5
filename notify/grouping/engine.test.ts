import { describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../core/fixtures/manual-clock.ts';
import type { Logger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import { GroupingEngine, type GroupingOptions, type GroupingSettings, type GroupScope } from './engine.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** An Alertmanager-style alert group: the alerts firing under one set of group_by label values. */
interface AlertGroup {
  firing: Map<string, string>;
  resolved: string[];
}

interface Told {
  at: number;
  key: string;
  alerts: string[];
  resolved: string[];
  repeat: boolean;
  update: boolean;
}

const route: GroupScope = { id: 'root', groupWaitMs: 30 * SECOND };

function setup(
  settings: Partial<GroupingSettings> = {},
  extra: Partial<GroupingOptions<GroupScope, AlertGroup>> = {},
) {
  const clock = new ManualClock(0);
  const told: Told[] = [];
  const engine = new GroupingEngine<GroupScope, AlertGroup>({
    settings: { groupIntervalMs: 5 * MINUTE, digestThreshold: 10, maxGroups: 1000, ...settings },
    noun: 'alert groups',
    clock,
    tell: (_scope, group, now) => {
      told.push({
        at: now,
        key: group.key,
        alerts: [...group.state.firing.keys()].sort(),
        resolved: group.state.resolved.splice(0),
        repeat: group.repeat,
        update: group.sentAt !== undefined,
      });
    },
    ...extra,
  });
  /** An alert with `labels` fires, grouped by its `alertname` and `cluster` labels. */
  const alert = (labels: Record<string, string>) => {
    const id = JSON.stringify(labels);
    engine.add(route, `{alertname="${labels.alertname}",cluster="${labels.cluster}"}`, {
      create: () => ({ firing: new Map(), resolved: [] }),
      update: (group) => group.firing.set(id, id),
    });
  };
  return { clock, told, engine, alert };
}

describe('GroupingEngine', () => {
  it('tells the alerts of one group_by value together after group wait, and other values as other groups', async () => {
    const { clock, told, alert } = setup();
    alert({ alertname: 'HighLatency', cluster: 'a', instance: '1' });
    await clock.advance(10 * SECOND);
    alert({ alertname: 'HighLatency', cluster: 'a', instance: '2' });
    alert({ alertname: 'HighLatency', cluster: 'b', instance: '1' });
    await clock.advance(20 * SECOND - 1);
    expect(told).toEqual([]);
    await clock.advance(1);
    expect(told.map((t) => [t.at, t.key, t.alerts.length])).toEqual([
      [30 * SECOND, 'root {alertname="HighLatency",cluster="a"}', 2],
      [30 * SECOND, 'root {alertname="HighLatency",cluster="b"}', 1],
    ]);
  });

  it('holds a change for the group interval, then tells it as an update', async () => {
    const { clock, told, alert } = setup();
    alert({ alertname: 'Down', cluster: 'a', instance: '1' });
    await clock.advance(30 * SECOND);
    alert({ alertname: 'Down', cluster: 'a', instance: '2' });
    await clock.advance(5 * MINUTE - 1);
    expect(told).toHaveLength(1);
    await clock.advance(1);
    expect(told.map((t) => [t.at, t.alerts.length, t.update])).toEqual([
      [30 * SECOND, 1, false],
      [5 * MINUTE + 30 * SECOND, 2, true],
    ]);
  });

  it('repeats an unchanged group every repeat interval and keeps it past the idle sweep', async () => {
    const { clock, told, engine, alert } = setup({ groupIntervalMs: MINUTE, repeatIntervalMs: 4 * MINUTE });
    alert({ alertname: 'Down', cluster: 'a' });
    await clock.advance(9 * MINUTE);
    alert({ alertname: 'Other', cluster: 'a' });
    expect(told.map((t) => [t.at, t.repeat])).toEqual([
      [30 * SECOND, false],
      [4 * MINUTE + 30 * SECOND, true],
      [8 * MINUTE + 30 * SECOND, true],
    ]);
    expect(engine.size).toBe(2);
  });

  it('tells a resolved group once and forgets it, so the next firing is a first message again', async () => {
    const { clock, told, engine } = setup({ repeatIntervalMs: 4 * MINUTE });
    const news = (state: 'firing' | 'resolved') => ({
      create: () => ({ firing: new Map<string, string>(), resolved: [] as string[] }),
      update: (group: AlertGroup) => {
        if (state === 'firing') group.firing.set('x', 'x');
        else if (group.firing.delete('x')) group.resolved.push('x');
      },
      resolved: state === 'resolved',
    });
    engine.add(route, 'Down', news('firing'));
    await clock.advance(MINUTE);
    engine.add(route, 'Down', news('resolved'));
    await clock.advance(5 * MINUTE);
    expect(told.map((t) => [t.at, t.alerts, t.resolved])).toEqual([
      [30 * SECOND, ['x'], []],
      [5 * MINUTE + 30 * SECOND, [], ['x']],
    ]);
    expect(engine.size).toBe(0);
    engine.add(route, 'Down', news('firing'));
    await clock.advance(30 * SECOND);
    expect(told[2]).toMatchObject({ alerts: ['x'], update: false });
    await clock.advance(20 * MINUTE);
    expect(told.slice(3).every((t) => t.repeat)).toBe(true);
  });

  it('tells more groups than the threshold with one digest key as one digest', async () => {
    const digests: [string, number][] = [];
    const { clock, told, alert } = setup(
      { digestThreshold: 3 },
      {
        digestKey: (group) => ([...group.firing.values()][0]!.includes('Down') ? 'Down' : 'other'),
        tellDigest: (_scope, key, groups) => digests.push([key, groups.length]),
      },
    );
    for (let i = 0; i < 5; i++) alert({ alertname: 'Down', cluster: `c${i}` });
    alert({ alertname: 'Slow', cluster: 'a' });
    await clock.advance(30 * SECOND);
    expect(digests).toEqual([['Down', 5]]);
    expect(told.map((t) => t.key)).toEqual(['root {alertname="Slow",cluster="a"}']);
  });

  it('bounds the groups it keeps, counting only those forgotten with untold news', async () => {
    const metrics = new Metrics({ defaults: false });
    const log = { warn: vi.fn() };
    const { clock, engine, told, alert } = setup(
      { maxGroups: 2 },
      {
        log: log as unknown as Logger,
        metrics: {
          evicted: metrics.counter({ type: 'counter', name: 'test_evicted_total', help: 'x' }),
          groups: metrics.gauge({ type: 'gauge', name: 'test_groups', help: 'x' }),
        },
      },
    );
    alert({ alertname: 'A', cluster: 'a' });
    await clock.advance(30 * SECOND);
    alert({ alertname: 'B', cluster: 'a' });
    alert({ alertname: 'C', cluster: 'a' });
    alert({ alertname: 'D', cluster: 'a' });
    expect(engine.size).toBe(2);
    await clock.advance(30 * SECOND);
    expect(told.map((t) => t.key)).toEqual([
      'root {alertname="A",cluster="a"}',
      'root {alertname="C",cluster="a"}',
      'root {alertname="D",cluster="a"}',
    ]);
    const evicted = await metrics.registry.getSingleMetric('lookout_test_evicted_total')?.get();
    expect(evicted?.values[0]?.value).toBe(1);
    expect(log.warn.mock.calls[0]?.[1]).toBe(
      'too many alert groups: forgot the oldest before they were sent',
    );
  });

  it('flushes news but not repeats, and tells nothing after stop', async () => {
    const { clock, told, engine, alert } = setup({ repeatIntervalMs: MINUTE });
    alert({ alertname: 'A', cluster: 'a' });
    await clock.advance(30 * SECOND);
    alert({ alertname: 'B', cluster: 'a' });
    engine.flush();
    expect(told.map((t) => [t.key, t.repeat])).toEqual([
      ['root {alertname="A",cluster="a"}', false],
      ['root {alertname="B",cluster="a"}', false],
    ]);
    engine.stop();
    alert({ alertname: 'C', cluster: 'a' });
    await clock.advance(10 * MINUTE);
    expect(told).toHaveLength(2);
    expect(clock.pendingTimers).toBe(0);
  });

  it("uses a scope's own group and repeat intervals over the engine's", async () => {
    const { clock, told, engine } = setup({ groupIntervalMs: 5 * MINUTE });
    const fast: GroupScope = {
      id: 'fast',
      groupWaitMs: 0,
      groupIntervalMs: MINUTE,
      repeatIntervalMs: MINUTE,
    };
    engine.add(fast, 'g', { create: () => ({ firing: new Map(), resolved: [] }), update: () => {} });
    await clock.advance(3 * MINUTE);
    expect(told.map((t) => [t.at, t.repeat])).toEqual([
      [0, false],
      [MINUTE, true],
      [2 * MINUTE, true],
      [3 * MINUTE, true],
    ]);
  });

  it('forgets a group its caller says is empty, with its timer', async () => {
    const { clock, told, engine, alert } = setup({ repeatIntervalMs: MINUTE });
    alert({ alertname: 'A', cluster: 'a' });
    await clock.advance(30 * SECOND);
    engine.forget(route, '{alertname="A",cluster="a"}');
    await clock.advance(10 * MINUTE);
    expect(told).toHaveLength(1);
    expect(engine.size).toBe(0);
  });
});
