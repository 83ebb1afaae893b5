import type { Logger } from '../log.ts';

/**
 * Logs a failure that recurs (every event, every lease renewal while the API server is away) at most once
 * per interval, saying how many were left out since, so the log shows the trouble without drowning in it.
 */
export class ThrottledWarning {
  private readonly log: Logger;
  private readonly intervalMs: number;
  private lastLoggedAt = Number.NEGATIVE_INFINITY;
  private leftOut = 0;

  constructor(log: Logger, intervalMs = 60_000) {
    this.log = log;
    this.intervalMs = intervalMs;
  }

  warn(fields: Record<string, unknown>, message: string): void {
    const now = Date.now();
    if (now - this.lastLoggedAt < this.intervalMs) {
      this.leftOut++;
      return;
    }
    this.log.warn(this.leftOut > 0 ? { ...fields, similarLeftOut: this.leftOut } : fields, message);
    this.lastLoggedAt = now;
    this.leftOut = 0;
  }
}
