import type { Counter, Gauge } from 'prom-client';
import { describeError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { Metrics } from '../../core/metrics.ts';
import { type Clock, systemClock } from '../../notify/clock.ts';
import type { Notification } from '../../notify/message.ts';
import type { ObservedEvent } from '../event.ts';
import type { RouteTarget } from '../routes/tree.ts';
import type { AggregationSettings } from './config.ts';
import { OccurrenceCounter } from './occurrences.ts';
import { type GroupReport, RouteTemplates, renderGroup, renderStorm } from './render.ts';

export type Verdict = 'new' | 'update';

export interface AggregatorOptions extends Partial<AggregationSettings> {
  /** Hands a message to the route's robots; `Notifier.send` returns at once and never throws. */
  send: (target: RouteTarget, message: Notification) => void;
  clock?: Clock;
  log?: Logger;
  metrics?: Metrics;
}

const DEFAULTS: AggregationSettings = {
  groupIntervalMs: 5 * 60_000,
  stormThreshold: 10,
  topObjects: 5,
  maxGroups: 10_000,
};

const EVICTION_LOG_INTERVAL_MS = 60_000;

/** Event objects whose counts are remembered, per group allowed. */
const EVENTS_PER_GROUP = 5;

/** One object and reason on one route: what its messages have told and what waits to be told. */
interface Group {
  key: string;
  route: RouteState;
  event: ObservedEvent;
  firstTime: number;
  lastTime: number;
  total: number;
  /** Occurrences no message has told yet; the group waits in its route's `pending` while above 0. */
  pending: number;
  /** The end of the route window the pending occurrences joined. */
  windowEnd: number;
  sentAt: number | undefined;
  /** Its first occurrence was an update of an incident told before the router (re)started. */
  continues: boolean;
}

interface RouteState {
  /** The route as of the newest event: a reload may change its robots or template. */
  target: RouteTarget;
  pending: Set<Group>;
  /** The open window's end; occurrences arriving before it are sent together at it. */
  windowEnd: number;
  timer: { at: number; abort: AbortController } | undefined;
}

interface AggregatorMetrics {
  messages: Counter<'kind'>;
  evicted: Counter;
  groups: Gauge;
}

function aggregatorMetrics(metrics: Metrics): AggregatorMetrics {
  return {
    messages: metrics.counter(
      'event_router_messages_total',
      'Messages made from routed events: single, update or storm (a summary of many objects)',
      ['kind'],
    ),
    evicted: metrics.counter(
      'event_router_groups_evicted_total',
      'Groups forgotten at the group cap while occurrences were still waiting to be sent (those are lost)',
    ),
    groups: metrics.gauge('event_router_groups', 'Groups (route, object, reason) remembered'),
  };
}

/**
 * Gathers routed events into chat messages, the way Alertmanager groups alerts,
 * because a chat robot allows 20 messages a minute and people read even fewer:
 *
 * - A group is (route, namespace, kind, name, reason). The first occurrence on
 *   a route opens a window of the route's group wait; everything that arrives
 *   within it goes out together when it ends, so a burst reads as one batch
 *   and a storm can be recognised as such.
 * - After a group's message, its further occurrences wait until the group
 *   interval has passed and then go out as one update with the count, so a
 *   BackOff repeated 30 times is one message and one update, never 30.
 * - When one window holds more than `stormThreshold` objects with the same
 *   reason, they become one summary naming the top objects.
 * - A group quiet for two intervals is forgotten: its incident is over, and a
 *   recurrence is news again. A cap on groups bounds memory whatever the load.
 */
export class Aggregator {
  private readonly send: AggregatorOptions['send'];
  private readonly clock: Clock;
  private readonly log: Logger | undefined;
  private readonly metrics: AggregatorMetrics | undefined;
  private readonly templates: RouteTemplates;
  private settings: AggregationSettings;
  /** Least recently touched first, so the cap evicts the stalest group. */
  private readonly groups = new Map<string, Group>();
  private readonly routes = new Map<string, RouteState>();
  private readonly occurrences: OccurrenceCounter;
  private lastSweep: number;
  private evictedUnlogged = 0;
  private evictionLoggedAt = Number.NEGATIVE_INFINITY;
  private stopped = false;

  constructor(options: AggregatorOptions) {
    const { send, clock, log, metrics, ...settings } = options;
    this.send = send;
    this.clock = clock ?? systemClock;
    this.log = log;
    this.metrics = metrics && aggregatorMetrics(metrics);
    this.templates = new RouteTemplates(log);
    this.settings = { ...DEFAULTS, ...settings };
    this.occurrences = new OccurrenceCounter(this.settings.maxGroups * EVENTS_PER_GROUP);
    this.lastSweep = this.clock.now();
  }

  /** Groups remembered now. */
  get size(): number {
    return this.groups.size;
  }

  /** New settings from a reload; they apply to what is pending too. */
  configure(settings: Partial<AggregationSettings>): void {
    this.settings = { ...this.settings, ...settings };
    this.occurrences.resize(this.settings.maxGroups * EVENTS_PER_GROUP);
    while (this.groups.size > this.settings.maxGroups) this.evictOldest();
    this.metrics?.groups.set(this.groups.size);
    for (const route of this.routes.values()) this.reschedule(route);
  }

  /** Takes an event the resume point judged new or an update, with the routes it goes to. */
  add(event: ObservedEvent, verdict: Verdict, targets: readonly RouteTarget[]): void {
    if (this.stopped) return;
    const now = this.clock.now();
    if (now - this.lastSweep >= this.settings.groupIntervalMs) this.sweep(now);
    const fresh = this.occurrences.take(event, now);
    if (fresh.count === 0) return;
    const continues = verdict === 'update' && !fresh.known;
    for (const target of targets) this.gather(target, event, fresh.count, fresh.firstTime, continues, now);
    this.metrics?.groups.set(this.groups.size);
  }

  /** Sends everything pending now, due or not (on shutdown), and cancels the timers. */
  flush(): void {
    const now = this.clock.now();
    for (const route of this.routes.values()) {
      this.cancelTimer(route);
      this.deliver(route, [...route.pending], now);
    }
  }

  /** Cancels the timers; what is pending is not sent, and later events are ignored. */
  stop(): void {
    this.stopped = true;
    for (const route of this.routes.values()) this.cancelTimer(route);
  }

  private gather(
    target: RouteTarget,
    event: ObservedEvent,
    count: number,
    firstTime: number,
    continues: boolean,
    now: number,
  ): void {
    const route = this.routeState(target);
    const key = `${target.id} ${event.namespace}/${event.kind}/${event.name} ${event.reason}`;
    let group = this.groups.get(key);
    if (group) {
      this.groups.delete(key);
    } else {
      if (this.groups.size >= this.settings.maxGroups) this.evictOldest();
      group = {
        key,
        route,
        event,
        firstTime,
        lastTime: event.lastTime,
        total: 0,
        pending: 0,
        windowEnd: 0,
        sentAt: undefined,
        continues,
      };
    }
    this.groups.set(key, group);
    if (event.lastTime >= group.lastTime) group.event = event;
    group.firstTime = Math.min(group.firstTime, firstTime);
    group.lastTime = Math.max(group.lastTime, event.lastTime);
    group.total += count;
    if (group.pending === 0) {
      if (route.windowEnd <= now) route.windowEnd = now + target.groupWaitMs;
      group.windowEnd = route.windowEnd;
      route.pending.add(group);
    }
    group.pending += count;
    const due = this.dueAt(group);
    if (!route.timer || due < route.timer.at) this.schedule(route, due);
  }

  private routeState(target: RouteTarget): RouteState {
    let route = this.routes.get(target.id);
    if (!route) {
      route = { target, pending: new Set(), windowEnd: 0, timer: undefined };
      this.routes.set(target.id, route);
    }
    route.target = target;
    return route;
  }

  /** A group goes out when its window ends, and an update not before an interval after the last message. */
  private dueAt(group: Group): number {
    const interval = group.sentAt === undefined ? 0 : group.sentAt + this.settings.groupIntervalMs;
    return Math.max(group.windowEnd, interval);
  }

  private schedule(route: RouteState, at: number): void {
    this.cancelTimer(route);
    const abort = new AbortController();
    route.timer = { at, abort };
    void this.clock.sleep(Math.max(0, at - this.clock.now()), abort.signal).then(() => {
      if (abort.signal.aborted) return;
      route.timer = undefined;
      this.fire(route);
    });
  }

  private cancelTimer(route: RouteState): void {
    route.timer?.abort.abort();
    route.timer = undefined;
  }

  private reschedule(route: RouteState): void {
    let next = Number.POSITIVE_INFINITY;
    for (const group of route.pending) next = Math.min(next, this.dueAt(group));
    if (Number.isFinite(next)) this.schedule(route, next);
    else this.cancelTimer(route);
  }

  private fire(route: RouteState): void {
    const now = this.clock.now();
    this.deliver(
      route,
      [...route.pending].filter((group) => this.dueAt(group) <= now),
      now,
    );
    this.reschedule(route);
  }

  /** Sends the groups of one route window: a storm per reason with too many objects, else one message each. */
  private deliver(route: RouteState, groups: Group[], now: number): void {
    const byReason = new Map<string, Group[]>();
    for (const group of groups) {
      const same = byReason.get(group.event.reason);
      if (same) same.push(group);
      else byReason.set(group.event.reason, [group]);
    }
    for (const [reason, same] of byReason) {
      if (same.length > this.settings.stormThreshold) {
        const storm = { key: `${route.target.id} storm ${reason}`, reason, groups: same.map(report) };
        this.emit(route, renderStorm(storm, this.settings.topObjects), 'storm', now);
      } else {
        for (const group of same) {
          const r = report(group);
          this.emit(route, renderGroup(r), r.update ? 'update' : 'single', now);
        }
      }
      for (const group of same) {
        group.sentAt = now;
        group.pending = 0;
        route.pending.delete(group);
      }
    }
  }

  private emit(
    route: RouteState,
    message: Notification,
    kind: 'single' | 'update' | 'storm',
    now: number,
  ): void {
    this.metrics?.messages.inc({ kind });
    try {
      this.send(route.target, this.templates.apply(route.target, message, now));
    } catch (err) {
      this.log?.error(
        { route: route.target.id, key: message.key, error: describeError(err) },
        'message not sent',
      );
    }
  }

  private evictOldest(): void {
    const oldest = this.groups.values().next();
    if (oldest.done) return;
    this.forget(oldest.value);
    if (oldest.value.pending === 0) return;
    this.metrics?.evicted.inc();
    // At the cap every new object evicts one: one line a minute says it, with how many, instead of a flood.
    this.evictedUnlogged++;
    const now = this.clock.now();
    if (now - this.evictionLoggedAt < EVICTION_LOG_INTERVAL_MS) return;
    this.log?.warn(
      { groups: this.evictedUnlogged, maxGroups: this.settings.maxGroups, lastKey: oldest.value.key },
      'too many event groups: forgot the oldest before they were sent',
    );
    this.evictedUnlogged = 0;
    this.evictionLoggedAt = now;
  }

  private forget(group: Group): void {
    this.groups.delete(group.key);
    group.route.pending.delete(group);
  }

  /** Forgets groups quiet for two intervals, and routes with nothing left (a reload may have removed them). */
  private sweep(now: number): void {
    this.lastSweep = now;
    const idle = 2 * this.settings.groupIntervalMs;
    for (const group of this.groups.values()) {
      if (group.pending === 0 && group.sentAt !== undefined && now - group.sentAt > idle) this.forget(group);
    }
    const used = new Set<RouteState>();
    for (const group of this.groups.values()) used.add(group.route);
    for (const [id, route] of this.routes) {
      if (!used.has(route)) {
        this.cancelTimer(route);
        this.routes.delete(id);
      }
    }
    this.occurrences.sweep(now);
  }
}

function report(group: Group): GroupReport {
  return {
    key: group.key,
    event: group.event,
    count: group.pending,
    total: group.total,
    firstTime: group.firstTime,
    lastTime: group.lastTime,
    update: group.sentAt !== undefined || group.continues,
  };
}
