import type { Clock } from '../../notify/clock.ts';

interface Timer {
  at: number;
  fire: () => void;
}

/**
 * A clock whose time moves only when someone sleeps: on the next turn of the
 * event loop it jumps to the earliest wake-up. Minutes of rate limits and
 * digests then pass in milliseconds, while HTTP requests still go over real
 * sockets. Share one instance between the code under test and the robot
 * server so both see the same minute.
 */
export class VirtualClock implements Clock {
  private time: number;
  private timers: Timer[] = [];
  private scheduled = false;

  constructor(start = Date.UTC(2024, 0, 1)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer: Timer = {
        at: this.time + Math.max(0, ms),
        fire: () => {
          signal?.removeEventListener('abort', cancel);
          resolve();
        },
      };
      const cancel = () => {
        this.timers = this.timers.filter((t) => t !== timer);
        resolve();
      };
      signal?.addEventListener('abort', cancel, { once: true });
      this.timers.push(timer);
      this.schedule();
    });
  }

  /** Moves time forward by hand, firing what falls due. */
  advance(ms: number): void {
    this.time += ms;
    this.fireDue();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const next = Math.min(...this.timers.map((t) => t.at));
      if (Number.isFinite(next)) this.time = Math.max(this.time, next);
      this.fireDue();
    });
  }

  private fireDue(): void {
    const due = this.timers.filter((t) => t.at <= this.time);
    this.timers = this.timers.filter((t) => t.at > this.time);
    for (const timer of due) timer.fire();
    if (this.timers.length > 0) this.schedule();
  }
}
