/**
 * Calls `release` once `touch` has not been called for `idleMs`: memory kept
 * for reuse under load (batch buffers, read buffers) goes back when the load
 * has gone, so an idle process holds no more than it needs. The timer keeps
 * no process alive.
 */
export class IdleRelease {
  private readonly idleMs: number;
  private readonly release: () => void;
  private lastTouch = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(idleMs: number, release: () => void) {
    this.idleMs = idleMs;
    this.release = release;
  }

  touch(): void {
    this.lastTouch = performance.now();
    if (!this.timer) this.arm(this.idleMs);
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => {
      const idle = performance.now() - this.lastTouch;
      if (idle < this.idleMs) return this.arm(this.idleMs - idle);
      this.timer = undefined;
      this.release();
    }, ms);
    this.timer.unref();
  }
}

/** How long memory kept for reuse outlives its last use. */
export const KEEP_FOR_REUSE_MS = 5_000;
