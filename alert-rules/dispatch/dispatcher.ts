import { type Clock, systemClock } from '../../core/clock.ts';
import type { Logger } from '../../core/log.ts';
import type { Metrics } from '../../core/metrics.ts';
import { ReportThrottle } from '../../core/report-throttle.ts';
import type { SendResult } from '../../notify/chat-robots.ts';
import { GroupingEngine, type GroupScope } from '../../notify/grouping/engine.ts';
import type { Mentions, Notification } from '../../notify/message.ts';
import type { AlertNotifier, Labels, PostableAlert } from '../types.ts';
import { labelsFingerprint } from './fingerprint.ts';
import type { FiringAlert, Inhibitor } from './inhibit.ts';
import type { AlertMessagesConfig } from './messages/config.ts';
import { type AlertData, alertGroupData, quoteMeta, ZERO_TIME } from './messages/group-data.ts';
import { type AlertTemplate, alertNotification, templatedNotification } from './messages/notification.ts';
import { DISPATCH_METRICS } from './metrics.ts';
import type { NotificationLog, NotificationLogEntry } from './notification-log.ts';
import { groupKey, groupLabels, type MatchedRoute, type RouteTree } from './route-tree.ts';
import type { Silences } from './silences.ts';
import { isMuted, type TimeIntervals } from './time-intervals.ts';

/** Where a receiver's notifications go. */
export interface ReceiverTarget {
  robots: readonly string[];
  /** Tell when alerts resolve (Alertmanager's send_resolved). */
  sendResolved: boolean;
  mentions?: Mentions;
  /** The receiver's own message; the default one when unset or when it fails. */
  template?: AlertTemplate;
}

/**
 * A receiver as Lookout's Alertmanager files name them: the chat robot of the
 * same name, told when alerts resolve (webhook receivers' default).
 */
export function robotReceiver(name: string): ReceiverTarget {
  return { robots: [name], sendResolved: true };
}

/** What keeps alerts out of a notification; each part is optional. */
export interface AlertMutes {
  silences?: Pick<Silences, 'mutedBy'>;
  inhibitor?: Pick<Inhibitor, 'setAlerts' | 'inhibitedBy'>;
  /** The configuration's named time intervals, which routes mute or activate by name. */
  timeIntervals?: () => TimeIntervals;
}

export interface DispatcherSettings {
  /** Alerts held in all groups at most; more are dropped (counted, logged). */
  maxAlerts: number;
  /** The end given to an alert posted without one (Alertmanager's resolve_timeout). */
  resolveTimeoutMs: number;
}

export const DEFAULT_DISPATCHER_SETTINGS: DispatcherSettings = {
  maxAlerts: 10_000,
  resolveTimeoutMs: 5 * 60_000,
};

export interface DispatcherOptions {
  /** The route tree at start; `reload` replaces it. */
  routing: Pick<RouteTree, 'match'>;
  receiver(name: string): ReceiverTarget | undefined;
  chat: { send(robots: readonly string[], message: Notification): SendResult };
  notificationLog: NotificationLog;
  messages: AlertMessagesConfig;
  /** Where people reach alert-rules; `.ExternalURL` in templates. */
  externalURL: string;
  mutes?: AlertMutes;
  settings?: Partial<DispatcherSettings>;
  clock?: Clock;
  log: Logger;
  metrics?: Metrics;
}

interface HeldAlert {
  fingerprint: string;
  labels: Labels;
  annotations: Labels;
  startsAt: number;
  endsAt: number;
  generatorURL: string;
}

interface AggregationGroup {
  /** The route and the group key: unique across routes. */
  id: string;
  groupKey: string;
  route: MatchedRoute;
  groupLabels: Labels;
  alerts: Map<string, HeldAlert>;
  scope: GroupScope;
}

const LOG_INTERVAL_MS = 60_000;

const resolvedAt = (alert: HeldAlert, now: number) => alert.endsAt <= now;

/** Alertmanager's decision whether a group is told again (its DedupStage). */
export function needsUpdate(
  entry: NotificationLogEntry | undefined,
  firing: ReadonlySet<string>,
  resolved: ReadonlySet<string>,
  sendResolved: boolean,
  repeatIntervalMs: number,
  now: number,
): boolean {
  if (!entry) return firing.size > 0;
  const told = new Set(entry.firing);
  if ([...firing].some((fp) => !told.has(fp))) return true;
  // Everything resolved: told even without send_resolved, so the log forgets the firing ones.
  if (firing.size === 0) return entry.firing.length > 0;
  const toldResolved = new Set(entry.resolved);
  if (sendResolved && [...resolved].some((fp) => !toldResolved.has(fp))) return true;
  return entry.sentAt <= now - repeatIntervalMs;
}

/**
 * The built-in Alertmanager: takes the alerts Prometheus-style rule
 * evaluation sends, routes each through the route tree, gathers them into
 * aggregation groups (route and group_by labels), and tells each group's
 * receiver like Alertmanager's dispatcher and notification pipeline do.
 *
 * Timing comes from notify's grouping engine, one scope per aggregation
 * group: the first flush after group_wait (at once for an alert older than
 * that), then a flush every group_interval (the engine's repeat, at the
 * route's group interval) for as long as the group holds alerts. At a flush,
 * a route muted by its time intervals tells nothing; silenced and inhibited
 * alerts are left out; the notification log decides whether anything new is
 * to be told (new firing alerts, newly resolved ones with send_resolved, all
 * resolved, or repeat_interval passed). Resolved alerts leave the group after
 * the flush, and an empty group is forgotten.
 */
export class AlertDispatcher implements AlertNotifier {
  private readonly options: DispatcherOptions;
  private readonly settings: DispatcherSettings;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly engine: GroupingEngine<GroupScope, AggregationGroup>;
  private readonly groups = new Map<string, AggregationGroup>();
  private readonly metrics;
  private readonly dropThrottle = new ReportThrottle(LOG_INTERVAL_MS);
  /** Groups whose receiver's template is being written: stop waits for them. */
  private readonly writing = new Set<Promise<void>>();
  private alertCount = 0;
  /** The firing alerts handed to the inhibitor are stale once alerts change or one of them ends. */
  private firingStale = true;
  private firingValidUntil = Number.NEGATIVE_INFINITY;
  private stopped = false;
  private routing: Pick<RouteTree, 'match'>;

  constructor(options: DispatcherOptions) {
    this.options = options;
    this.routing = options.routing;
    this.settings = { ...DEFAULT_DISPATCHER_SETTINGS, ...options.settings };
    this.clock = options.clock ?? systemClock;
    this.log = options.log;
    const m = options.metrics;
    this.metrics = m && {
      alerts: m.gauge(DISPATCH_METRICS.alerts),
      groups: m.gauge(DISPATCH_METRICS.groups),
      dropped: m.counter(DISPATCH_METRICS.alertsDropped),
      muted: m.counter(DISPATCH_METRICS.muted),
      notifications: m.counter(DISPATCH_METRICS.notifications),
      failed: m.counter(DISPATCH_METRICS.notificationsFailed),
      templateFailures: m.counter(DISPATCH_METRICS.messageTemplateFailures),
    };
    this.engine = new GroupingEngine<GroupScope, AggregationGroup>({
      // Alerts are capped, and every group holds one at least: the engine's own cap is never reached.
      settings: {
        groupIntervalMs: 60_000,
        digestThreshold: Number.POSITIVE_INFINITY,
        maxGroups: this.settings.maxAlerts,
      },
      noun: 'alert groups',
      clock: this.clock,
      log: this.log,
      tell: (_scope, group, now) => this.flush(group.state, now),
    });
  }

  /** Groups holding alerts now. */
  get size(): number {
    return this.groups.size;
  }

  /** Takes the alerts of one evaluation; ignored after stop. */
  send(alerts: readonly PostableAlert[]): void {
    if (this.stopped) return;
    const now = this.clock.now();
    const { routing } = this;
    let invalid = 0;
    for (const posted of alerts) {
      const alert = this.held(posted, now);
      if (!alert) {
        invalid++;
        continue;
      }
      for (const route of routing.match(alert.labels)) this.insert(route, alert, now);
    }
    if (invalid > 0) this.dropped('invalid', invalid, now);
    this.firingStale = true;
    this.updateGauges();
  }

  /**
   * A new route tree: the groups are made again from the alerts they hold,
   * as Alertmanager does on a reload. The notification log knows groups by
   * Alertmanager's group key and receiver, so groups a reload left alone are
   * not told again, and no alert reads as resolved because it moved.
   */
  reload(routing: Pick<RouteTree, 'match'>): void {
    this.routing = routing;
    const held = new Map<string, HeldAlert>();
    for (const group of this.groups.values()) {
      for (const alert of group.alerts.values()) held.set(alert.fingerprint, alert);
      this.engine.forget(group.scope, '');
    }
    this.groups.clear();
    this.alertCount = 0;
    const now = this.clock.now();
    for (const alert of held.values()) {
      for (const route of routing.match(alert.labels)) this.insert(route, alert, now);
    }
    this.firingStale = true;
    this.updateGauges();
  }

  /** Cancels every group's timer, so nothing more is told; resolves once the notification log is kept. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.engine.stop();
    await Promise.all(this.writing);
    await this.options.notificationLog.saved();
  }

  private held(posted: PostableAlert, now: number): HeldAlert | undefined {
    const labels = Object.fromEntries(Object.entries(posted.labels ?? {}).filter(([, v]) => v !== ''));
    if (Object.keys(labels).length === 0) return undefined;
    const time = (text: string | undefined) => {
      const ms = text ? Date.parse(text) : Number.NaN;
      // Alertmanager's zero time (year 1) means "not set".
      return ms > 0 ? ms : undefined;
    };
    const endsAt = time(posted.endsAt) ?? now + this.settings.resolveTimeoutMs;
    const startsAt = time(posted.startsAt) ?? Math.min(now, endsAt);
    if (endsAt < startsAt) return undefined;
    return {
      fingerprint: labelsFingerprint(labels),
      labels,
      annotations: { ...posted.annotations },
      startsAt,
      endsAt,
      generatorURL: posted.generatorURL ?? '',
    };
  }

  private insert(route: MatchedRoute, alert: HeldAlert, now: number): void {
    const key = groupKey(route, alert.labels);
    // Sibling routes with the same matchers share Alertmanager's key: the route's id sets them apart.
    const id = JSON.stringify([route.id, key]);
    let group = this.groups.get(id);
    const old = group?.alerts.get(alert.fingerprint);
    if (!old && this.alertCount >= this.settings.maxAlerts) {
      this.dropped('limit', 1, now);
      return;
    }
    if (!group) {
      // An alert older than group_wait is told at once, as after a restart (Alertmanager does the same).
      const waitMs = alert.startsAt + route.groupWaitMs < now ? 0 : route.groupWaitMs;
      const scope: GroupScope = {
        id,
        groupWaitMs: waitMs,
        groupIntervalMs: route.groupIntervalMs,
        // Every group interval the group is looked at again; the notification log decides what is told.
        repeatIntervalMs: route.groupIntervalMs,
      };
      const created: AggregationGroup = {
        id,
        groupKey: key,
        route,
        groupLabels: groupLabels(route, alert.labels),
        alerts: new Map(),
        scope,
      };
      group = created;
      this.groups.set(id, created);
      this.engine.add(scope, '', { create: () => created, update: () => {} });
    }
    group.alerts.set(alert.fingerprint, old ? merged(old, alert, now) : alert);
    if (!old) this.alertCount++;
  }

  private flush(group: AggregationGroup, now: number): void {
    if (this.groups.get(group.id) !== group) return;
    const alerts = [...group.alerts.values()];
    this.notify(group, alerts, now);
    // Resolved alerts have been told (or muted): they leave the group.
    for (const alert of alerts) {
      if (!resolvedAt(alert, now)) continue;
      group.alerts.delete(alert.fingerprint);
      this.alertCount--;
      this.firingStale = true;
    }
    if (group.alerts.size === 0) {
      this.groups.delete(group.id);
      this.engine.forget(group.scope, '');
    }
    this.updateGauges();
  }

  private notify(group: AggregationGroup, alerts: readonly HeldAlert[], now: number): void {
    const { route } = group;
    if (this.timeMuted(route, now)) {
      this.metrics?.muted.inc({ reason: 'time_interval' }, alerts.length);
      return;
    }
    const visible = alerts.filter((alert) => !this.muted(alert, now));
    if (visible.length === 0) return;
    const receiver = this.options.receiver(route.receiver);
    if (!receiver) {
      this.failed(route.receiver, 'unknown_receiver', group);
      return;
    }
    const firing = new Set(visible.filter((a) => !resolvedAt(a, now)).map((a) => a.fingerprint));
    const resolved = new Set(visible.filter((a) => resolvedAt(a, now)).map((a) => a.fingerprint));
    const log = this.options.notificationLog;
    const entry = log.query(route.receiver, group.groupKey, now);
    if (!needsUpdate(entry, firing, resolved, receiver.sendResolved, route.repeatIntervalMs, now)) return;
    const told = receiver.sendResolved ? visible : visible.filter((a) => firing.has(a.fingerprint));
    const record = () =>
      void log.record(
        {
          receiver: route.receiver,
          groupKey: group.groupKey,
          firing: [...firing],
          resolved: [...resolved],
          sentAt: now,
        },
        route.repeatIntervalMs,
      );
    if (told.length === 0) {
      record();
      return;
    }
    const send = (notification: Notification) => {
      const result = this.options.chat.send(receiver.robots, notification);
      if (result.queued.length === 0) {
        this.failed(route.receiver, 'not_queued', group);
        return;
      }
      this.metrics?.notifications.inc({ receiver: route.receiver });
      record();
    };
    const data = this.groupData(group, told, now);
    const options = { config: this.options.messages, mentions: receiver.mentions };
    const { template } = receiver;
    if (!template) {
      send(alertNotification(data, options));
      return;
    }
    // Templates run asynchronously (regular expressions in a worker): the group is told once written.
    const writing = templatedNotification(data, options, template, (error) =>
      this.templateFailed(route.receiver, error),
    ).then(send);
    this.writing.add(writing);
    void writing.finally(() => this.writing.delete(writing));
  }

  private groupData(group: AggregationGroup, alerts: readonly HeldAlert[], now: number) {
    return alertGroupData(
      {
        receiver: quoteMeta(group.route.receiver),
        groupKey: group.groupKey,
        groupLabels: group.groupLabels,
        externalURL: this.options.externalURL,
      },
      [...alerts].sort((a, b) => a.startsAt - b.startsAt).map((a) => alertData(a, now)),
    );
  }

  private templateFailed(receiver: string, error: Error): void {
    this.metrics?.templateFailures.inc({ source: 'routing', name: receiver });
    this.log.warn(
      { receiver, error: error.message },
      "receiver's message template failed; sent the default message",
    );
  }

  private timeMuted(route: MatchedRoute, now: number): boolean {
    const intervals = this.options.mutes?.timeIntervals;
    return intervals !== undefined && isMuted(intervals(), route, now);
  }

  private muted(alert: HeldAlert, now: number): boolean {
    const { silences, inhibitor } = this.options.mutes ?? {};
    if (silences && silences.mutedBy(alert.labels, now).length > 0) {
      this.metrics?.muted.inc({ reason: 'silence' });
      return true;
    }
    if (!inhibitor) return false;
    this.refreshInhibitor(inhibitor, now);
    if (inhibitor.inhibitedBy(alert.labels).length === 0) return false;
    this.metrics?.muted.inc({ reason: 'inhibition' });
    return true;
  }

  /** Hands the inhibitor every alert firing now, when that changed since it last had them. */
  private refreshInhibitor(inhibitor: NonNullable<AlertMutes['inhibitor']>, now: number): void {
    if (!this.firingStale && now < this.firingValidUntil) return;
    const firing = new Map<string, FiringAlert>();
    let validUntil = Number.POSITIVE_INFINITY;
    for (const group of this.groups.values()) {
      for (const alert of group.alerts.values()) {
        if (resolvedAt(alert, now)) continue;
        firing.set(alert.fingerprint, { labels: alert.labels, fingerprint: alert.fingerprint });
        validUntil = Math.min(validUntil, alert.endsAt);
      }
    }
    inhibitor.setAlerts([...firing.values()]);
    this.firingStale = false;
    this.firingValidUntil = validUntil;
  }

  private failed(receiver: string, reason: 'unknown_receiver' | 'not_queued', group: AggregationGroup): void {
    this.metrics?.failed.inc({ receiver, reason });
    this.log.error(
      { receiver, reason, groupKey: group.groupKey },
      'alert group not notified; trying again at its next group interval',
    );
  }

  private dropped(reason: 'invalid' | 'limit', count: number, now: number): void {
    this.metrics?.dropped.inc({ reason }, count);
    const reported = this.dropThrottle.occur(count, now);
    if (reported === 0) return;
    this.log.warn(
      { alerts: reported, reason, maxAlerts: this.settings.maxAlerts },
      reason === 'limit'
        ? 'too many alerts held: dropped new ones'
        : 'dropped alerts without labels or with an end before their start',
    );
  }

  private updateGauges(): void {
    this.metrics?.alerts.set(this.alertCount);
    this.metrics?.groups.set(this.groups.size);
  }
}

/**
 * An alert posted again while the one held is active becomes the new one,
 * keeping the earliest start; a firing alert keeps the later end of the two
 * and a resolved one its own (Alertmanager's merge of overlapping alerts).
 */
function merged(old: HeldAlert, next: HeldAlert, now: number): HeldAlert {
  const overlaps =
    (next.endsAt > old.startsAt && next.endsAt < old.endsAt) ||
    (next.startsAt > old.startsAt && next.startsAt < old.endsAt);
  if (!overlaps) return next;
  const startsAt = Math.min(old.startsAt, next.startsAt);
  const keepOldEnd = resolvedAt(next, now)
    ? resolvedAt(old, now) && old.endsAt > next.endsAt
    : old.endsAt > next.endsAt;
  return { ...next, startsAt, endsAt: keepOldEnd ? old.endsAt : next.endsAt };
}

function alertData(alert: HeldAlert, now: number): AlertData {
  const resolved = resolvedAt(alert, now);
  return {
    status: resolved ? 'resolved' : 'firing',
    labels: alert.labels,
    annotations: alert.annotations,
    startsAt: new Date(alert.startsAt).toISOString(),
    endsAt: resolved ? new Date(alert.endsAt).toISOString() : ZERO_TIME,
    generatorURL: alert.generatorURL,
    fingerprint: alert.fingerprint,
  };
}
