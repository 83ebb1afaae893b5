import type { Labels } from '../types.ts';

export type AlertState = 'pending' | 'firing' | 'inactive';

/**
 * One alert instance of an alerting rule, with Prometheus's fields. Times
 * are milliseconds since the epoch; 0 means never (Go's zero time).
 */
export interface Alert {
  state: AlertState;
  labels: Labels;
  annotations: Labels;
  /** The value at the last evaluation of the expression. */
  value: number;
  activeAtMs: number;
  firedAtMs: number;
  resolvedAtMs: number;
  lastSentAtMs: number;
  validUntilMs: number;
  keepFiringSinceMs: number;
}

/**
 * Prometheus's `needsSending`: never while pending; always once resolved
 * after the last send; otherwise when the last send is more than
 * `resendDelayMs` old (strictly, so with a one-minute interval and resend
 * delay a firing alert goes out every second evaluation, as in Prometheus).
 */
export function needsSending(alert: Alert, nowMs: number, resendDelayMs: number): boolean {
  if (alert.state === 'pending') return false;
  if (alert.resolvedAtMs > alert.lastSentAtMs) return true;
  return alert.lastSentAtMs + resendDelayMs < nowMs;
}
