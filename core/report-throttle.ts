/**
 * Lets one report through per interval and counts the occurrences held back
 * meanwhile, so a flood of drops or refusals logs a line now and then with a
 * count, not a line per event.
 */
export class ReportThrottle {
  private readonly intervalMs: number;
  private last = Number.NEGATIVE_INFINITY;
  private held = 0;

  constructor(intervalMs: number) {
    this.intervalMs = intervalMs;
  }

  /** Notes `count` occurrences; when a report is due, returns how many it covers, else 0. */
  occur(count: number, now = Date.now()): number {
    this.held += count;
    if (now - this.last < this.intervalMs) return 0;
    this.last = now;
    return this.take();
  }

  /** The occurrences not reported yet, now counted as reported. */
  take(): number {
    const held = this.held;
    this.held = 0;
    return held;
  }

  /** The next occurrence is reported at once. */
  reset(): void {
    this.last = Number.NEGATIVE_INFINITY;
    this.held = 0;
  }
}
