import { labelsKey } from './rules/labels.ts';
import type { AlertNotifier, PostableAlert } from './types.ts';

export interface LeadingNotifierOptions {
  /** How long an alert is remembered after its endsAt: as long as the rules keep sending a resolved alert. */
  retentionMs: number;
  now?: () => number;
}

/** Forgetting looks at every remembered alert, so it runs at most this often. */
const FORGET_EVERY_MS = 60_000;

/**
 * The notifier the rules send to: whatever this replica sends to while it
 * leads, and nothing while another replica does (its rules keep evaluating,
 * so a takeover starts from their state). The rules send an alert again
 * only every resend delay, so the latest of each is kept and given to a new
 * target at once: a new leader learns of a resolve it saw as a standby, and
 * of the alerts still firing, without waiting for the next resend.
 */
export class LeadingNotifier implements AlertNotifier {
  private readonly retentionMs: number;
  private readonly now: () => number;
  private readonly latest = new Map<string, { alert: PostableAlert; endsAtMs: number }>();
  private target: AlertNotifier | undefined;
  private forgotAt = 0;

  constructor(options: LeadingNotifierOptions) {
    this.retentionMs = options.retentionMs;
    this.now = options.now ?? Date.now;
  }

  send(alerts: readonly PostableAlert[]): void {
    for (const alert of alerts)
      this.latest.set(labelsKey(alert.labels), { alert, endsAtMs: Date.parse(alert.endsAt) });
    this.forgetEnded(false);
    this.target?.send(alerts);
  }

  /** Sends to `target` from now on, starting with the latest of every alert not long ended. */
  lead(target: AlertNotifier): void {
    this.target = target;
    this.forgetEnded(true);
    if (this.latest.size > 0) target.send([...this.latest.values()].map(({ alert }) => alert));
  }

  unlead(): void {
    this.target = undefined;
  }

  private forgetEnded(now: boolean): void {
    const at = this.now();
    if (!now && at - this.forgotAt < FORGET_EVERY_MS) return;
    this.forgotAt = at;
    for (const [key, { endsAtMs }] of this.latest)
      if (endsAtMs + this.retentionMs < at) this.latest.delete(key);
  }
}
