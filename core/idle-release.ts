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
    lastTouchAnywhere = this.lastTouch;
    if (!this.timer) this.arm(this.idleMs);
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => {
      const idle = performance.now() - this.lastTouch;
      if (idle < this.idleMs) return this.arm(this.idleMs - idle);
      this.timer = undefined;
      this.release();
      collectSoon();
    }, ms);
    this.timer.unref();
  }
}

let collection: NodeJS.Timeout | undefined;
let lastTouchAnywhere = 0;
/** Memory still in use somewhere within this long means the process is not idle. */
const BUSY_WITHIN_MS = 1000;

/**
 * One full garbage collection shortly after memory kept for reuse was let go. A buffer leaves the
 * process only when V8 collects the object that owns it, and a process with nothing to do allocates
 * nothing, so no collection would come: an idle sidecar kept some 40 MiB of batches it no longer
 * used. A full collection under load would only cost time, so it waits for the process to be idle:
 * while any other holder of reuse memory is still busy, its own release collects later. It needs `gc`,
 * which only processes started with --expose-gc have (the sidecar, see memory-limit.ts).
 */
function collectSoon(): void {
  const gc = globalThis.gc;
  if (!gc || collection) return;
  collection = setTimeout(() => {
    collection = undefined;
    if (performance.now() - lastTouchAnywhere < BUSY_WITHIN_MS) return;
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  }, 100);
  collection.unref();
}

/** How long memory kept for reuse outlives its last use. */
export const KEEP_FOR_REUSE_MS = 5_000;
