import { type Clock, systemClock } from '../../core/clock.ts';
import { describeError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { Metrics } from '../../core/metrics.ts';
import { type DueGroup, GroupingEngine, type GroupingSettings } from '../../notify/grouping/engine.ts';
import type { Notification } from '../../notify/message.ts';
import type { ObservedEvent } from '../event.ts';
import { EVENT_ROUTER_METRICS } from '../metrics.ts';
import type { RouteTarget } from '../routes/tree.ts';
import type { Hold } from '../watch/resume.ts';
import type { AggregationSettings } from './config.ts';
import { OccurrenceCounter } from './occurrences.ts';
import { type GroupReport, RouteTemplates, renderGroup, renderStorm } from './render.ts';

export type Verdict = 'new' | 'update';

/** What a message is about, beside its text. */
export interface MessageAbout {
  kind: 'single' | 'update' | 'storm';
  /** The namespaces of the objects it tells of. */
  namespaces: string[];
}

/** A group as it stands: one object and reason on one route. */
export interface EventGroupStatus {
  route: RouteTarget;
  /** The group's newest event. */
  event: ObservedEvent;
  /** Occurrences since the group began. */
  total: number;
  /** Occurrences waiting for the next message. */
  pending: number;
  firstTime: number;
  lastTime: number;
  sentAt: number | undefined;
  dueAt: number | undefined;
}

export interface AggregatorOptions extends Partial<AggregationSettings> {
  /** Hands a message to the route's robots; `ChatRobots.send` returns at once and never throws. */
  send: (target: RouteTarget, message: Notification, about: MessageAbout) => void;
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

/** Event objects whose counts are remembered, per group allowed. */
const EVENTS_PER_GROUP = 5;

/** What the messages of one object and reason on one route have told and what waits to be told. */
interface EventGroup {
  event: ObservedEvent;
  firstTime: number;
  lastTime: number;
  total: number;
  /** Occurrences no message has told yet. */
  pending: number;
  /** Its first occurrence was an update of an incident told before the router (re)started. */
  continues: boolean;
  /** The judged events whose occurrences wait here: they are handled once this group's message is written. */
  holds: Hold[];
}

/** The group's message is in the robots' outbox: what it waited for is handled. */
function told(group: EventGroup): void {
  group.pending = 0;
  for (const hold of group.holds.splice(0)) hold.done();
}

function engineSettings(settings: AggregationSettings): GroupingSettings {
  return {
    groupIntervalMs: settings.groupIntervalMs,
    digestThreshold: settings.stormThreshold,
    maxGroups: settings.maxGroups,
  };
}

/**
 * Gathers routed events into chat messages with notify's grouping engine:
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
  private readonly messages;
  private readonly templates: RouteTemplates;
  private settings: AggregationSettings;
  private readonly engine: GroupingEngine<RouteTarget, EventGroup>;
  private readonly occurrences: OccurrenceCounter;

  constructor(options: AggregatorOptions) {
    const { send, clock, log, metrics, ...settings } = options;
    this.send = send;
    this.clock = clock ?? systemClock;
    this.log = log;
    this.messages = metrics?.counter(EVENT_ROUTER_METRICS.messages);
    this.templates = new RouteTemplates(log);
    this.settings = { ...DEFAULTS, ...settings };
    this.occurrences = new OccurrenceCounter(this.settings.maxGroups * EVENTS_PER_GROUP);
    this.engine = new GroupingEngine<RouteTarget, EventGroup>({
      settings: engineSettings(this.settings),
      noun: 'event groups',
      clock: this.clock,
      log,
      metrics: metrics && {
        evicted: metrics.counter(EVENT_ROUTER_METRICS.groupsEvicted),
        groups: metrics.gauge(EVENT_ROUTER_METRICS.groups),
      },
      tell: (route, group, now) => {
        const r = report(group);
        const about: MessageAbout = { kind: r.update ? 'update' : 'single', namespaces: [r.event.namespace] };
        this.emit(route, renderGroup(r), about, now);
        told(group.state);
      },
      digestKey: (group) => group.event.reason,
      tellDigest: (route, reason, groups, now) => {
        const storm = { key: `${route.id} storm ${reason}`, reason, groups: groups.map(report) };
        const namespaces = [...new Set(storm.groups.map((g) => g.event.namespace))];
        this.emit(route, renderStorm(storm, this.settings.topObjects), { kind: 'storm', namespaces }, now);
        for (const group of groups) told(group.state);
      },
      onSweep: (now) => this.occurrences.sweep(now),
    });
  }

  /** Groups remembered now. */
  get size(): number {
    return this.engine.size;
  }

  /** The groups held now, the most recently touched first. */
  groups(): EventGroupStatus[] {
    return this.engine.list().map(({ scope, state, sentAt, dueAt }) => ({
      route: scope,
      event: state.event,
      total: state.total,
      pending: state.pending,
      firstTime: state.firstTime,
      lastTime: state.lastTime,
      sentAt,
      dueAt,
    }));
  }

  /** New settings from a reload; they apply to what is pending too. */
  configure(settings: Partial<AggregationSettings>): void {
    this.settings = { ...this.settings, ...settings };
    this.occurrences.resize(this.settings.maxGroups * EVENTS_PER_GROUP);
    this.engine.configure(engineSettings(this.settings));
  }

  /**
   * Takes an event the resume point judged new or an update, with the routes it goes to; `hold` is told
   * once every message that covers the event is handed to the robots.
   */
  add(event: ObservedEvent, verdict: Verdict, targets: readonly RouteTarget[], hold?: Hold): void {
    this.engine.maintain();
    const fresh = this.occurrences.take(event, this.clock.now());
    if (fresh.count === 0) return;
    const continues = verdict === 'update' && !fresh.known;
    const key = `${event.namespace}/${event.kind}/${event.name} ${event.reason}`;
    for (const target of targets) {
      hold?.add();
      this.engine.add(target, key, {
        create: () => ({
          event,
          firstTime: fresh.firstTime,
          lastTime: event.lastTime,
          total: 0,
          pending: 0,
          continues,
          holds: [],
        }),
        update: (group) => {
          if (hold) group.holds.push(hold);
          if (event.lastTime >= group.lastTime) group.event = event;
          group.firstTime = Math.min(group.firstTime, fresh.firstTime);
          group.lastTime = Math.max(group.lastTime, event.lastTime);
          group.total += fresh.count;
          group.pending += fresh.count;
        },
      });
    }
  }

  /** Sends everything pending now, due or not (on shutdown), and cancels the timers. */
  flush(): void {
    this.engine.flush();
  }

  /** Cancels the timers; what is pending is not sent, and later events are ignored. */
  stop(): void {
    this.engine.stop();
  }

  private emit(route: RouteTarget, message: Notification, about: MessageAbout, now: number): void {
    this.messages?.inc({ kind: about.kind });
    try {
      this.send(route, this.templates.apply(route, message, now), about);
    } catch (err) {
      this.log?.error({ route: route.id, key: message.key, error: describeError(err) }, 'message not sent');
    }
  }
}

function report(group: DueGroup<EventGroup>): GroupReport {
  const { state } = group;
  return {
    key: group.key,
    event: state.event,
    count: state.pending,
    total: state.total,
    firstTime: state.firstTime,
    lastTime: state.lastTime,
    update: group.sentAt !== undefined || state.continues,
  };
}
