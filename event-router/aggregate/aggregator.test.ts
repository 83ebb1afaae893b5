import { describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../core/fixtures/manual-clock.ts';
import type { Logger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import type { Notification } from '../../notify/message.ts';
import type { ObservedEvent } from '../event.ts';
import { observedEvent } from '../fixtures/observed-event.ts';
import type { RouteTarget } from '../routes/tree.ts';
import { Hold } from '../watch/resume.ts';
import { Aggregator, type AggregatorOptions } from './aggregator.ts';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const SECOND = 1000;
const MINUTE = 60 * SECOND;

const route = (id: string, fields: Partial<RouteTarget> = {}): RouteTarget => ({
  id,
  robots: ['oncall'],
  template: undefined,
  groupWaitMs: 30 * SECOND,
  ...fields,
});

interface Sent {
  at: number;
  route: string;
  message: Notification;
}

function setup(options: Partial<AggregatorOptions> = {}) {
  const clock = new ManualClock(T0);
  const sent: Sent[] = [];
  const aggregator = new Aggregator({
    send: (target, message) => sent.push({ at: clock.now() - T0, route: target.id, message }),
    clock,
    ...options,
  });
  /** An Event object as the API server has it now: the same uid with a growing count is the same incident. */
  const event = (fields: Partial<ObservedEvent> = {}): ObservedEvent =>
    observedEvent({
      uid: `uid-${fields.namespace ?? 'shop'}-${fields.name ?? 'order-7f9c'}-${fields.reason ?? 'BackOff'}`,
      firstTime: T0,
      lastTime: clock.now(),
      ...fields,
    });
  const titles = () => sent.map((s) => s.message.title);
  return { clock, sent, aggregator, event, titles };
}

const root = route('root');

describe('Aggregator', () => {
  it('tells the hold of an event once every message that covers it is handed over, single or storm', async () => {
    const { clock, aggregator, event } = setup({ stormThreshold: 2 });
    const fast = route('fast', { groupWaitMs: 5 * SECOND });
    const single = new Hold();
    aggregator.add(event({ name: 'one' }), 'new', [root, fast], single);
    single.done();
    const stormed = [new Hold(), new Hold(), new Hold()];
    stormed.forEach((hold, i) => {
      aggregator.add(event({ name: `pod-${i}`, reason: 'FailedScheduling' }), 'new', [root], hold);
      hold.done();
    });
    await clock.advance(5 * SECOND);
    expect(single.told).toBe(false);
    await clock.advance(25 * SECOND);
    expect(single.told).toBe(true);
    expect(stormed.map((hold) => hold.told)).toEqual([true, true, true]);
  });

  it('turns a BackOff counted 30 times into one message and one update with the count', async () => {
    const { clock, sent, aggregator, event } = setup();
    aggregator.add(event({ owner: { kind: 'Deployment', name: 'order' } }), 'new', [root]);
    for (let count = 2; count <= 30; count++) {
      await clock.advance(10 * SECOND);
      aggregator.add(event({ count, owner: { kind: 'Deployment', name: 'order' } }), 'update', [root]);
    }
    await clock.advance(20 * MINUTE);

    expect(sent.map((s) => [s.at, s.message.title])).toEqual([
      [30 * SECOND, 'BackOff: Pod shop/order-7f9c (×3)'],
      [330 * SECOND, 'BackOff: Pod shop/order-7f9c (×30, still happening)'],
    ]);
    const [first, update] = sent.map((s) => s.message);
    expect(first?.fields).toEqual({
      namespace: 'shop',
      object: 'Pod/order-7f9c',
      reason: 'BackOff',
      count: 3,
      first: '2024-05-01T12:00:00Z',
      last: '2024-05-01T12:00:20Z',
      owner: 'Deployment/order',
      node: 'node-1',
    });
    expect(first?.severity).toBe('warning');
    expect(first?.key).toBe('root shop/Pod/order-7f9c BackOff');
    expect(update?.text).toMatch(
      /^Still happening: 30 times since 2024-05-01T12:00:00Z, 27 since the last message\./,
    );
    expect(update?.fields).toMatchObject({ count: 30, last: '2024-05-01T12:04:50Z' });
  });

  it('sends a route window together when its group wait ends', async () => {
    const { clock, sent, aggregator, event } = setup();
    const fast = route('root.1', { groupWaitMs: 10 * SECOND });
    aggregator.add(event(), 'new', [root]);
    await clock.advance(5 * SECOND);
    aggregator.add(event({ name: 'cart-1' }), 'new', [root, fast]);
    await clock.advance(10 * SECOND - 1);
    expect(sent).toEqual([]);
    await clock.advance(1);
    expect(sent.map((s) => [s.at, s.route])).toEqual([[15 * SECOND, 'root.1']]);
    await clock.advance(15 * SECOND - 1);
    expect(sent).toHaveLength(1);
    await clock.advance(1);
    expect(sent.slice(1).map((s) => [s.at, s.route, s.message.title])).toEqual([
      [30 * SECOND, 'root', 'BackOff: Pod shop/order-7f9c'],
      [30 * SECOND, 'root', 'BackOff: Pod shop/cart-1'],
    ]);
  });

  it('holds updates for the group interval, sends nothing without new occurrences, and takes a new interval on reload', async () => {
    const { clock, sent, aggregator, event } = setup({ groupIntervalMs: 5 * MINUTE });
    aggregator.add(event(), 'new', [root]);
    await clock.advance(30 * SECOND);
    expect(sent).toHaveLength(1);

    // No occurrence during an interval: nothing to tell.
    await clock.advance(6 * MINUTE);
    expect(sent).toHaveLength(1);

    // Long after the interval, an update still waits for a window to gather its neighbours.
    aggregator.add(event({ count: 2 }), 'update', [root]);
    await clock.advance(30 * SECOND);
    expect(sent.map((s) => s.at)).toEqual([30 * SECOND, 7 * MINUTE]);

    aggregator.add(event({ count: 3 }), 'update', [root]);
    await clock.advance(1 * MINUTE);
    expect(sent).toHaveLength(2);
    aggregator.configure({ groupIntervalMs: 2 * MINUTE });
    await clock.advance(1 * MINUTE);
    expect(sent.map((s) => s.at)).toEqual([30 * SECOND, 7 * MINUTE, 9 * MINUTE]);
    expect(sent[2]?.message.title).toBe('BackOff: Pod shop/order-7f9c (×3, still happening)');
  });

  it('counts an Event delivered twice once, and one without a count by its time', async () => {
    const { clock, sent, aggregator, event } = setup();
    const seriesless = { uid: 'uid-x', count: 1 };
    aggregator.add(event(seriesless), 'new', [root]);
    aggregator.add(event(seriesless), 'new', [root]);
    await clock.advance(10 * SECOND);
    aggregator.add(event(seriesless), 'update', [root]);
    await clock.advance(20 * SECOND);
    expect(sent[0]?.message.fields?.count).toBe(2);
  });

  it('tells an update of an incident it never saw (after a restart) as still happening, with its whole count', async () => {
    const { clock, sent, aggregator, event } = setup();
    aggregator.add(event({ count: 45, firstTime: T0 - 30 * MINUTE }), 'update', [root]);
    await clock.advance(30 * SECOND);
    expect(sent[0]?.message.title).toBe('BackOff: Pod shop/order-7f9c (×45, still happening)');
    expect(sent[0]?.message.text).toMatch(/^Still happening: 45 times since 2024-05-01T11:30:00Z\./);
  });

  it('summarises a storm of 300 pods in one message, naming the top objects', async () => {
    const { clock, sent, aggregator, event, titles } = setup();
    for (let i = 0; i < 300; i++) {
      const name = `web-${String(i).padStart(3, '0')}`;
      aggregator.add(
        event({
          name,
          reason: 'FailedScheduling',
          count: i < 5 ? 20 - i : 1,
          message: `0/3 nodes are available (${i})`,
        }),
        'new',
        [root],
      );
      if (i % 10 === 0) await clock.advance(50);
    }
    await clock.advance(30 * SECOND);
    expect(titles()).toEqual(['FailedScheduling: 300 objects (×385)']);
    expect(sent[0]?.message.text).toContain(
      ['- Pod shop/web-000 ×20', '- Pod shop/web-001 ×19', '- Pod shop/web-002 ×18', '- Pod shop/web-003 ×17']
        .concat('- Pod shop/web-004 ×16', 'and 295 more')
        .join('\n'),
    );

    // The storm goes on: one summary per interval, not 300 updates.
    await clock.advance(MINUTE);
    for (let i = 0; i < 300; i++) {
      const name = `web-${String(i).padStart(3, '0')}`;
      aggregator.add(event({ name, reason: 'FailedScheduling', count: i < 5 ? 21 - i : 2 }), 'update', [
        root,
      ]);
    }
    await clock.advance(10 * MINUTE);
    expect(titles()).toEqual([
      'FailedScheduling: 300 objects (×385)',
      'FailedScheduling: 300 objects (×300)',
    ]);
  });

  it('sends groups below the storm threshold normally in the same window', async () => {
    const { clock, aggregator, event, titles } = setup({ stormThreshold: 10 });
    for (let i = 0; i < 30; i++)
      aggregator.add(event({ name: `web-${i}`, reason: 'FailedScheduling' }), 'new', [root]);
    for (let i = 0; i < 10; i++)
      aggregator.add(event({ name: `api-${i}`, reason: 'Unhealthy' }), 'new', [root]);
    aggregator.add(event(), 'new', [root]);
    await clock.advance(30 * SECOND);
    expect(titles()).toHaveLength(12);
    expect(titles()).toContain('FailedScheduling: 30 objects (×30)');
    expect(titles()).toContain('BackOff: Pod shop/order-7f9c');
    expect(titles().filter((t) => t.startsWith('Unhealthy: Pod shop/api-'))).toHaveLength(10);
  });

  it('keeps each route its own groups and windows', async () => {
    const { clock, sent, aggregator, event } = setup();
    const team = route('root.0', { robots: ['team'], groupWaitMs: 5 * SECOND });
    aggregator.add(event(), 'new', [team, root]);
    aggregator.add(event({ count: 2 }), 'update', [team, root]);
    await clock.advance(30 * SECOND);
    expect(sent.map((s) => [s.at, s.route, s.message.fields?.count])).toEqual([
      [5 * SECOND, 'root.0', 2],
      [30 * SECOND, 'root', 2],
    ]);
  });

  it('forgets quiet groups, so a recurrence much later is news again', async () => {
    const { clock, sent, aggregator, event } = setup({ groupIntervalMs: MINUTE });
    aggregator.add(event(), 'new', [root]);
    aggregator.add(event({ name: 'other' }), 'new', [root]);
    await clock.advance(30 * SECOND);
    expect(aggregator.size).toBe(2);
    await clock.advance(3 * MINUTE);
    aggregator.add(event({ name: 'third' }), 'new', [root]);
    expect(aggregator.size).toBe(1);
    aggregator.add(event({ uid: 'uid-later' }), 'new', [root]);
    await clock.advance(30 * SECOND);
    expect(sent.map((s) => s.message.title).slice(2)).toEqual([
      'BackOff: Pod shop/third',
      'BackOff: Pod shop/order-7f9c',
    ]);
  });

  it('bounds the groups it keeps, counting those forgotten before they were sent', async () => {
    const metrics = new Metrics({ defaults: false });
    const log = { warn: vi.fn(), error: vi.fn() };
    const { clock, sent, aggregator, event } = setup({
      maxGroups: 100,
      metrics,
      log: log as unknown as Logger,
    });
    for (let i = 0; i < 250; i++)
      aggregator.add(event({ name: `pod-${i}`, reason: `R${i % 3}` }), 'new', [root]);
    expect(aggregator.size).toBe(100);
    await clock.advance(30 * SECOND);
    expect(sent).toHaveLength(3);
    expect(sent.map((s) => s.message.fields?.objects)).toEqual([34, 33, 33]);
    const evicted = await metrics.registry
      .getSingleMetric('lookout_event_router_groups_evicted_total')
      ?.get();
    expect(evicted?.values[0]?.value).toBe(150);
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn.mock.calls[0]?.[0]).toMatchObject({ groups: 1, maxGroups: 100 });

    // A smaller cap on reload applies at once.
    aggregator.configure({ maxGroups: 10 });
    expect(aggregator.size).toBe(10);
  });

  it('applies the route template and keeps Chinese text intact', async () => {
    const { clock, sent, aggregator, event } = setup();
    const zh = route('root.2', { template: '{{fields.object}} ×{{fields.count}}：{{text}}' });
    aggregator.add(event({ message: '拉取镜像失败：镜像 "商城/订单:v2" 不存在' }), 'new', [zh, root]);
    await clock.advance(30 * SECOND);
    expect(sent.map((s) => s.message.text)).toEqual([
      'Pod/order-7f9c ×1：拉取镜像失败：镜像 "商城/订单:v2" 不存在',
      '拉取镜像失败：镜像 "商城/订单:v2" 不存在',
    ]);
  });

  it('sends everything pending on flush, and nothing after stop', async () => {
    const { clock, sent, aggregator, event } = setup();
    aggregator.add(event(), 'new', [root]);
    await clock.advance(30 * SECOND);
    aggregator.add(event({ count: 2 }), 'update', [root]);
    aggregator.add(event({ name: 'new-one' }), 'new', [root]);
    aggregator.flush();
    expect(sent.map((s) => [s.at, s.message.title])).toEqual([
      [30 * SECOND, 'BackOff: Pod shop/order-7f9c'],
      [30 * SECOND, 'BackOff: Pod shop/order-7f9c (×2, still happening)'],
      [30 * SECOND, 'BackOff: Pod shop/new-one'],
    ]);
    aggregator.add(event({ name: 'late' }), 'new', [root]);
    aggregator.stop();
    aggregator.add(event({ name: 'later' }), 'new', [root]);
    await clock.advance(10 * MINUTE);
    expect(sent).toHaveLength(3);
    expect(clock.pendingTimers).toBe(0);
  });

  it('logs a send that throws and goes on', async () => {
    const log = { warn: vi.fn(), error: vi.fn() };
    const clock = new ManualClock(T0);
    const sent: string[] = [];
    const aggregator = new Aggregator({
      clock,
      log: log as unknown as Logger,
      send: (_target, message) => {
        if (sent.length === 0) {
          sent.push('failed');
          throw new Error('robot gone');
        }
        sent.push(message.title);
      },
    });
    const base = setup().event;
    aggregator.add(base({ name: 'a' }), 'new', [root]);
    aggregator.add(base({ name: 'b' }), 'new', [root]);
    await clock.advance(30 * SECOND);
    expect(sent).toEqual(['failed', 'BackOff: Pod shop/b']);
    expect(log.error).toHaveBeenCalledWith(
      expect.objectContaining({ error: 'robot gone' }),
      'message not sent',
    );
  });
});
