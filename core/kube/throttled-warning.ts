import type { Logger } from '../log.ts';
import { ReportThrottle } from '../report-throttle.ts';

/**
 * Logs a failure that recurs (every event, every lease renewal while the API server is away) at most once
 * per interval, saying how many were left out since, so the log shows the trouble without drowning in it.
 */
export class ThrottledWarning {
  private readonly log: Logger;
  private readonly throttle: ReportThrottle;

  constructor(log: Logger, intervalMs = 60_000) {
    this.log = log;
    this.throttle = new ReportThrottle(intervalMs);
  }

  warn(fields: Record<string, unknown>, message: string): void {
    const covered = this.throttle.occur(1);
    if (covered === 0) return;
    this.log.warn(covered > 1 ? { ...fields, similarLeftOut: covered - 1 } : fields, message);
  }
}
