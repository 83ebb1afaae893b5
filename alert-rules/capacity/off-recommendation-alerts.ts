import type { Labels, PostableAlert } from '../types.ts';
import type { OffRecommendationAlertConfig } from './config.ts';

/** How long a resolved alert is still sent, as Prometheus does, so a receiver that missed the resolve learns it. */
const RESOLVED_RETENTION_MS = 15 * 60_000;

/** How many sends an alert outlives (endsAt), as Prometheus allows for two failed evaluations or sends and more. */
const VALID_SENDS = 4;

export type AlertState = 'pending' | 'firing' | 'resolved';

/** A workload whose running replicas are off the recommendation at this evaluation. */
export interface OffWorkload {
  labels: Labels;
  annotations: Labels;
}

interface TrackedAlert extends OffWorkload {
  state: AlertState;
  activeAtMs: number;
  firedAtMs?: number;
  resolvedAtMs?: number;
  lastSentMs?: number;
}

/**
 * Prometheus's alert life cycle for one recommendation's workloads: pending
 * from the first evaluation off the recommendation, firing once that lasted
 * `for`, resolved at the first evaluation back on it (a pending alert is just
 * dropped). Firing and resolved alerts are sent again every resendDelay, the
 * resolved ones for 15 minutes.
 */
export class OffRecommendationAlerts {
  private readonly config: OffRecommendationAlertConfig;
  private readonly generatorURL: string;
  private readonly alerts = new Map<string, TrackedAlert>();

  constructor(config: OffRecommendationAlertConfig, generatorURL: string) {
    this.config = config;
    this.generatorURL = generatorURL;
  }

  /** Every firing and resolved alert is sent at the next evaluation, as if it never was (a new receiver). */
  sendAllAgain(): void {
    for (const alert of this.alerts.values()) alert.lastSentMs = undefined;
  }

  stateOf(key: string): AlertState | undefined {
    return this.alerts.get(key)?.state;
  }

  /**
   * Moves every alert on, given the workloads off the recommendation (by key)
   * at `nowMs`, and returns the alerts due to be sent.
   */
  evaluate(off: ReadonlyMap<string, OffWorkload>, nowMs: number, intervalMs: number): PostableAlert[] {
    for (const [key, workload] of off) {
      const alert = this.alerts.get(key);
      if (alert && alert.state !== 'resolved') Object.assign(alert, workload);
      else this.alerts.set(key, { ...workload, state: 'pending', activeAtMs: nowMs });
    }
    for (const [key, alert] of this.alerts) {
      if (off.has(key)) {
        if (alert.state === 'pending' && nowMs - alert.activeAtMs >= this.config.for) {
          alert.state = 'firing';
          alert.firedAtMs = nowMs;
        }
      } else if (alert.state === 'pending' || this.expired(alert, nowMs)) {
        this.alerts.delete(key);
      } else if (alert.state === 'firing') {
        alert.state = 'resolved';
        alert.resolvedAtMs = nowMs;
      }
    }
    return this.due(nowMs, intervalMs);
  }

  private expired(alert: TrackedAlert, nowMs: number): boolean {
    return alert.resolvedAtMs !== undefined && nowMs - alert.resolvedAtMs > RESOLVED_RETENTION_MS;
  }

  private due(nowMs: number, intervalMs: number): PostableAlert[] {
    const validUntilMs = nowMs + VALID_SENDS * Math.max(this.config.resendDelay, intervalMs);
    const due: PostableAlert[] = [];
    for (const alert of this.alerts.values()) {
      if (!this.needsSending(alert, nowMs)) continue;
      alert.lastSentMs = nowMs;
      due.push({
        labels: alert.labels,
        annotations: alert.annotations,
        startsAt: new Date(alert.firedAtMs ?? alert.activeAtMs).toISOString(),
        endsAt: new Date(alert.resolvedAtMs ?? validUntilMs).toISOString(),
        generatorURL: this.generatorURL,
      });
    }
    return due;
  }

  private needsSending(alert: TrackedAlert, nowMs: number): boolean {
    if (alert.state === 'pending') return false;
    if (alert.lastSentMs === undefined) return true;
    if (alert.resolvedAtMs !== undefined && alert.resolvedAtMs > alert.lastSentMs) return true;
    // At least (Prometheus: more than) resendDelay ago, so a 1m interval resends every minute, not every other.
    return nowMs - alert.lastSentMs >= this.config.resendDelay;
  }
}
