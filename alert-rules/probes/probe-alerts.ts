import type { Counter } from 'prom-client';
import { type Alert, needsSending } from '../rules/alert.ts';
import { labelsKey, sortedLabels } from '../rules/labels.ts';
import { postableAlert } from '../rules/postable-alerts.ts';
import type { AlertNotifier, Labels, PostableAlert } from '../types.ts';
import type { ProbeTarget } from './target-config.ts';
import { crossedExpiryThresholds, reportedState, type TargetState } from './target-state.ts';

/** The alert names probes fire (`alertname`). */
export const PROBE_DOWN = 'ProbeDown';
export const PROBE_FLAPPING = 'ProbeFlapping';
export const CERTIFICATE_EXPIRING = 'CertificateExpiring';

/** The label a target's receivers are named in, one alert per receiver, for the route tree to match. */
export const RECEIVER_LABEL = 'receiver';

const DAY_MS = 86_400_000;

export interface ProbeAlertSettings {
  /** A firing alert is sent again after this long, so the receiver does not expire it. */
  resendDelay: number;
  /** Resolved alerts are kept, and sent again, this long. */
  resolvedRetention: number;
  /** Added to every alert that lacks them. */
  externalLabels: Labels;
  /** Lookout's own URL: alerts link to the target's results there. Empty: no link. */
  externalURL: string;
}

export interface WantedAlert {
  labels: Labels;
  annotations: Labels;
  activeAtMs: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** What the locations of a target probed by agents see: the input of its alerts' words. */
export interface LocationsSeen {
  /** The counted locations that see the target down or flapping, in the order they began to. */
  failing: { location: string; failure: string; sinceMs: number }[];
  /** Locations whose agent reports; the others' results do not count. */
  counted: number;
  total: number;
  /** How many must see it down (`locationsDown`). */
  needed: number;
}

function listFailing(seen: LocationsSeen, separator: string, withSince: boolean): string {
  return seen.failing
    .map(({ location, failure, sinceMs }) =>
      withSince ? `${location} since ${iso(sinceMs)}: ${failure}` : `${location} (${failure})`,
    )
    .join(separator);
}

function notCounted(seen: LocationsSeen): string {
  const silent = seen.total - seen.counted;
  if (silent === 0) return '';
  return ` ${silent} of its locations ${silent === 1 ? 'is' : 'are'} not counted: their probe agents do not report.`;
}

function locationsAnnotations(target: ProbeTarget, seen: LocationsSeen, what: string): Labels {
  const count = `${seen.failing.length} of ${seen.total} locations`;
  return {
    summary: `${target.target} is ${what} from ${count}: ${listFailing(seen, ', ', false)}`,
    description: `The ${target.moduleName} probe of ${target.target} is ${what} from ${count} (it is down when ${seen.needed} are): ${listFailing(seen, '; ', true)}.${notCounted(seen)}`,
    locations: seen.failing.map((f) => f.location).join(', '),
  };
}

function downAlert(
  target: ProbeTarget,
  state: TargetState,
  seen?: LocationsSeen,
): Omit<WantedAlert, 'labels'> {
  if (seen)
    return { activeAtMs: state.healthSinceMs, annotations: locationsAnnotations(target, seen, 'down') };
  const failures = state.consecutiveFailures;
  const inARow =
    failures > 1 ? ` (${failures} failed probes in a row)` : failures === 1 ? ' (1 failed probe)' : '';
  return {
    activeAtMs: state.healthSinceMs,
    annotations: {
      summary: `${target.target} is down: ${state.lastFailure}`,
      description: `The ${target.moduleName} probe of ${target.target} has failed since ${iso(state.healthSinceMs)}${inARow}. Last failure: ${state.lastFailure}.`,
    },
  };
}

function flappingAlert(
  target: ProbeTarget,
  state: TargetState,
  seen?: LocationsSeen,
): Omit<WantedAlert, 'labels'> {
  if (seen)
    return {
      activeAtMs: state.flappingSinceMs,
      annotations: locationsAnnotations(target, seen, 'flapping or down'),
    };
  const { probes } = target.flapping;
  const lastFailure = state.lastFailure ? ` Last failure: ${state.lastFailure}.` : '';
  return {
    activeAtMs: state.flappingSinceMs,
    annotations: {
      summary: `${target.target} is flapping between up and down`,
      description: `${target.target} went down or came back up ${state.changes.length === 1 ? 'once' : `${state.changes.length} times`} in its last ${probes} probes (flapping since ${iso(state.flappingSinceMs)}); ups and downs are not told one by one until ${probes} probes in a row show none. It is ${state.health} now.${lastFailure}`,
    },
  };
}

function expiryAlert(target: ProbeTarget, state: TargetState, days: number, nowMs: number) {
  const expires = state.certificateExpiresAtMs;
  const left = Math.floor((expires - nowMs) / DAY_MS);
  const when = expires <= nowMs ? 'has expired' : left === 0 ? 'expires today' : `expires in ${left} days`;
  return {
    activeAtMs: nowMs,
    annotations: {
      summary: `The certificate of ${target.target} ${when}`,
      description: `The earliest certificate ${target.target} shows ${expires <= nowMs ? 'expired' : 'expires'} at ${iso(expires)}, within the ${days}-day warning.`,
    },
  };
}

/**
 * The alerts the target's state calls for now: labels, annotations and since
 * when. A target probed from several locations passes what they see, which
 * its messages list.
 */
export function wantedAlerts(
  target: ProbeTarget,
  state: TargetState,
  nowMs: number,
  seen?: LocationsSeen,
): WantedAlert[] {
  const found: (Omit<WantedAlert, 'labels'> & { labels: Labels })[] = [];
  const reported = reportedState(state);
  if (reported === 'down')
    found.push({ labels: { alertname: PROBE_DOWN }, ...downAlert(target, state, seen) });
  if (reported === 'flapping')
    found.push({ labels: { alertname: PROBE_FLAPPING }, ...flappingAlert(target, state, seen) });
  for (const days of crossedExpiryThresholds(state, target, nowMs)) {
    found.push({
      labels: { alertname: CERTIFICATE_EXPIRING, days: String(days) },
      ...expiryAlert(target, state, days, nowMs),
    });
  }
  const base = { ...target.labels, instance: target.target, probe: target.id };
  const receivers = target.receivers.length > 0 ? target.receivers : [undefined];
  return found.flatMap((alert) =>
    receivers.map((receiver) => ({
      ...alert,
      labels: sortedLabels({
        ...base,
        ...alert.labels,
        ...(receiver === undefined ? {} : { [RECEIVER_LABEL]: receiver }),
      }),
    })),
  );
}

function firing(wanted: WantedAlert): Alert {
  return {
    state: 'firing',
    labels: wanted.labels,
    annotations: wanted.annotations,
    value: 0,
    activeAtMs: wanted.activeAtMs,
    firedAtMs: wanted.activeAtMs,
    resolvedAtMs: 0,
    lastSentAtMs: 0,
    validUntilMs: 0,
    keepFiringSinceMs: 0,
  };
}

export interface ProbeAlertsOptions {
  notifier: AlertNotifier;
  settings: ProbeAlertSettings;
  sent: Counter;
}

/** What holds a set of alerts: a target, or a probe agent's location. */
export interface AlertOwner {
  /** Unique among owners: a target's id, `@<location>` for a location. */
  key: string;
  /** Where the alerts link to, below `externalURL`. */
  path: string;
  /** How often its alerts are brought up to date: they stay valid four of these (or resend delays). */
  intervalMs: number;
}

/** A target as the owner of its alerts, which link to its results. */
export function targetOwner(target: ProbeTarget): AlertOwner {
  return {
    key: target.id,
    path: `/api/probes/${encodeURIComponent(target.id)}/results`,
    intervalMs: target.intervalMs,
  };
}

/**
 * The probes' alerts, held per owner as an alerting rule holds its alerts
 * (rules/alert.ts): firing while the owner's state calls for them, then
 * resolved and kept for the resolved retention. After each update of an
 * owner its alerts that need it are sent, as Prometheus sends after each
 * evaluation: new and resolved ones at once, firing and resolved ones again
 * after the resend delay, valid for four intervals or resend delays.
 */
export class ProbeAlerts {
  /** By owner key: the owner as last seen, and its alerts by label set. */
  private readonly held = new Map<string, { owner: AlertOwner; alerts: Map<string, Alert> }>();
  private readonly options: ProbeAlertsOptions;

  constructor(options: ProbeAlertsOptions) {
    this.options = options;
  }

  /** Brings the target's alerts in line with its state at `nowMs` and sends those due. */
  update(target: ProbeTarget, state: TargetState, nowMs: number, seen?: LocationsSeen): void {
    this.set(targetOwner(target), wantedAlerts(target, state, nowMs, seen), nowMs);
  }

  /** Makes `wanted` the owner's firing alerts at `nowMs`, resolving the others, and sends those due. */
  set(owner: AlertOwner, wanted: readonly WantedAlert[], nowMs: number): void {
    const alerts = this.held.get(owner.key)?.alerts ?? new Map<string, Alert>();
    const keys = new Set<string>();
    for (const alert of wanted) {
      const key = labelsKey(alert.labels);
      keys.add(key);
      const existing = alerts.get(key);
      if (existing && existing.resolvedAtMs === 0) {
        // Where a target is seen down is news: told now, not at the next resend, so a message being grouped lists them all.
        if (existing.annotations.locations !== alert.annotations.locations) existing.lastSentAtMs = 0;
        existing.annotations = alert.annotations;
      } else alerts.set(key, firing(alert));
    }
    for (const [key, alert] of alerts) {
      if (keys.has(key)) continue;
      if (alert.resolvedAtMs === 0) resolve(alert, nowMs);
      else if (nowMs - alert.resolvedAtMs > this.options.settings.resolvedRetention) alerts.delete(key);
    }
    this.keep(owner, alerts);
    this.send(this.due(owner, alerts.values(), nowMs));
  }

  /** An owner removed: its firing alerts are sent resolved once, then forgotten. */
  remove(owner: AlertOwner, nowMs: number): void {
    const alerts = this.held.get(owner.key)?.alerts;
    if (!alerts) return;
    this.held.delete(owner.key);
    const firingAlerts = [...alerts.values()].filter((alert) => alert.resolvedAtMs === 0);
    for (const alert of firingAlerts) resolve(alert, nowMs);
    this.send(this.due(owner, firingAlerts, nowMs));
  }

  /**
   * Sends every alert held now, as if never sent: a new receiver (the
   * dispatcher of a restart or of a new leader) holds none, and a target
   * probed hourly would otherwise leave it without them for an hour.
   */
  sendAllAgain(nowMs: number): void {
    const due: PostableAlert[] = [];
    for (const { owner, alerts } of this.held.values()) {
      for (const alert of alerts.values()) alert.lastSentAtMs = 0;
      due.push(...this.due(owner, alerts.values(), nowMs));
    }
    this.send(due);
  }

  /** Every firing alert (copies), for the alerts API. */
  firing(): Alert[] {
    return [...this.held.values()].flatMap(({ alerts }) =>
      [...alerts.values()].filter((alert) => alert.resolvedAtMs === 0).map((alert) => ({ ...alert })),
    );
  }

  /** The owner's alerts, resolved ones still retained included (copies). */
  alertsOf(key: string): Alert[] {
    return [...(this.held.get(key)?.alerts.values() ?? [])].map((alert) => ({ ...alert }));
  }

  /** Takes over the owner's alerts as saved, send times included, so a restart repeats nothing. */
  adopt(owner: AlertOwner, alerts: readonly Alert[]): void {
    this.keep(owner, new Map(alerts.map((alert) => [labelsKey(alert.labels), { ...alert }])));
  }

  private keep(owner: AlertOwner, alerts: Map<string, Alert>): void {
    if (alerts.size > 0) this.held.set(owner.key, { owner, alerts });
    else this.held.delete(owner.key);
  }

  /** The alerts that need sending now, marked as sent. */
  private due(owner: AlertOwner, alerts: Iterable<Alert>, nowMs: number): PostableAlert[] {
    const { settings } = this.options;
    const link = settings.externalURL ? `${settings.externalURL.replace(/\/+$/, '')}${owner.path}` : '';
    const due: PostableAlert[] = [];
    for (const alert of alerts) {
      if (!needsSending(alert, nowMs, settings.resendDelay)) continue;
      alert.lastSentAtMs = nowMs;
      alert.validUntilMs = nowMs + 4 * Math.max(owner.intervalMs, settings.resendDelay);
      due.push(postableAlert(alert, link, settings.externalLabels));
    }
    return due;
  }

  private send(alerts: PostableAlert[]): void {
    if (alerts.length === 0) return;
    this.options.notifier.send(alerts);
    this.options.sent.inc(alerts.length);
  }
}

function resolve(alert: Alert, nowMs: number): void {
  alert.state = 'inactive';
  alert.resolvedAtMs = nowMs;
}
