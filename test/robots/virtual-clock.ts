import { TimerClock } from '../../core/fixtures/manual-clock.ts';

/**
 * A clock whose time moves only when someone sleeps: on the next turn of the
 * event loop it jumps to the earliest wake-up. Minutes of rate limits and
 * digests then pass in milliseconds, while HTTP requests still go over real
 * sockets. Share one instance between the code under test and the robot
 * server so both see the same minute.
 */
export class VirtualClock extends TimerClock {
  private scheduled = false;

  constructor(start = Date.UTC(2024, 0, 1)) {
    super(start);
  }

  /** Moves time forward by hand, firing what falls due. */
  advance(ms: number): void {
    this.time += ms;
    this.fireDue();
  }

  protected override slept(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const next = Math.min(...this.timers.map((t) => t.at));
      if (Number.isFinite(next)) this.time = Math.max(this.time, next);
      this.fireDue();
    });
  }

  protected override fireDue(): void {
    super.fireDue();
    if (this.timers.length > 0) this.slept();
  }
}
