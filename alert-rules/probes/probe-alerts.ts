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

interface WantedAlert {
  labels: Labels;
  annotations: Labels;
  activeAtMs: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

function downAlert(target: ProbeTarget, state: TargetState): Omit<WantedAlert, 'labels'> {
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

function flappingAlert(target: ProbeTarget, state: TargetState): Omit<WantedAlert, 'labels'> {
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

/** The alerts the target's state calls for now: labels, annotations and since when. */
export function wantedAlerts(target: ProbeTarget, state: TargetState, nowMs: number): WantedAlert[] {
  const found: (Omit<WantedAlert, 'labels'> & { labels: Labels })[] = [];
  const reported = reportedState(state);
  if (reported === 'down') found.push({ labels: { alertname: PROBE_DOWN }, ...downAlert(target, state) });
  if (reported === 'flapping')
    found.push({ labels: { alertname: PROBE_FLAPPING }, ...flappingAlert(target, state) });
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

/**
 * The probes' alerts, held per target as an alerting rule holds its alerts
 * (rules/alert.ts): firing while the state calls for them, then resolved and
 * kept for the resolved retention. After each result of a target its alerts
 * that need it are sent, as Prometheus sends after each evaluation: new and
 * resolved ones at once, firing and resolved ones again after the resend
 * delay, valid for four intervals or resend delays.
 */
export class ProbeAlerts {
  /** By target id: the target as last seen, and its alerts by label set. */
  private readonly held = new Map<string, { target: ProbeTarget; alerts: Map<string, Alert> }>();
  private readonly options: ProbeAlertsOptions;

  constructor(options: ProbeAlertsOptions) {
    this.options = options;
  }

  /** Brings the target's alerts in line with its state at `nowMs` and sends those due. */
  update(target: ProbeTarget, state: TargetState, nowMs: number): void {
    const alerts = this.held.get(target.id)?.alerts ?? new Map<string, Alert>();
    const wanted = new Set<string>();
    for (const alert of wantedAlerts(target, state, nowMs)) {
      const key = labelsKey(alert.labels);
      wanted.add(key);
      const existing = alerts.get(key);
      if (existing && existing.resolvedAtMs === 0) existing.annotations = alert.annotations;
      else alerts.set(key, firing(alert));
    }
    for (const [key, alert] of alerts) {
      if (wanted.has(key)) continue;
      if (alert.resolvedAtMs === 0) resolve(alert, nowMs);
      else if (nowMs - alert.resolvedAtMs > this.options.settings.resolvedRetention) alerts.delete(key);
    }
    this.keep(target, alerts);
    this.send(this.due(target, alerts.values(), nowMs));
  }

  /** A target removed: its firing alerts are sent resolved once, then forgotten. */
  remove(target: ProbeTarget, nowMs: number): void {
    const alerts = this.held.get(target.id)?.alerts;
    if (!alerts) return;
    this.held.delete(target.id);
    const firingAlerts = [...alerts.values()].filter((alert) => alert.resolvedAtMs === 0);
    for (const alert of firingAlerts) resolve(alert, nowMs);
    this.send(this.due(target, firingAlerts, nowMs));
  }

  /**
   * Sends every alert held now, as if never sent: a new receiver (the
   * dispatcher of a restart or of a new leader) holds none, and a target
   * probed hourly would otherwise leave it without them for an hour.
   */
  sendAllAgain(nowMs: number): void {
    const due: PostableAlert[] = [];
    for (const { target, alerts } of this.held.values()) {
      for (const alert of alerts.values()) alert.lastSentAtMs = 0;
      due.push(...this.due(target, alerts.values(), nowMs));
    }
    this.send(due);
  }

  /** Every firing alert (copies), for the alerts API. */
  firing(): Alert[] {
    return [...this.held.values()].flatMap(({ alerts }) =>
      [...alerts.values()].filter((alert) => alert.resolvedAtMs === 0).map((alert) => ({ ...alert })),
    );
  }

  /** The target's alerts, resolved ones still retained included (copies). */
  alertsOf(id: string): Alert[] {
    return [...(this.held.get(id)?.alerts.values() ?? [])].map((alert) => ({ ...alert }));
  }

  /** Takes over the target's alerts as saved, send times included, so a restart repeats nothing. */
  adopt(target: ProbeTarget, alerts: readonly Alert[]): void {
    this.keep(target, new Map(alerts.map((alert) => [labelsKey(alert.labels), { ...alert }])));
  }

  private keep(target: ProbeTarget, alerts: Map<string, Alert>): void {
    if (alerts.size > 0) this.held.set(target.id, { target, alerts });
    else this.held.delete(target.id);
  }

  /** The alerts that need sending now, marked as sent. */
  private due(target: ProbeTarget, alerts: Iterable<Alert>, nowMs: number): PostableAlert[] {
    const { settings } = this.options;
    const link = settings.externalURL
      ? `${settings.externalURL.replace(/\/+$/, '')}/api/probes/${encodeURIComponent(target.id)}/results`
      : '';
    const due: PostableAlert[] = [];
    for (const alert of alerts) {
      if (!needsSending(alert, nowMs, settings.resendDelay)) continue;
      alert.lastSentAtMs = nowMs;
      alert.validUntilMs = nowMs + 4 * Math.max(target.intervalMs, settings.resendDelay);
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
