import { IdleRelease, KEEP_FOR_REUSE_MS } from './idle-release.ts';

/**
 * Buffers of one size, kept for reuse while they are used. A Buffer's memory is freed only when
 * V8 collects its wrapper, and V8 starts a full collection for every few
 * megabytes of buffers allocated when its old generation is capped (as it is
 * under a container's memory limit): a batch buffer taken from here instead
 * of allocated keeps those collections, and the memory waiting for them, away.
 * Free buffers are freed once none has been taken for `idleMs`.
 */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];
  /** What this pool allocated: nothing else is taken back, however large. */
  private readonly own = new WeakSet<ArrayBufferLike>();
  readonly size: number;
  private readonly keep: number;
  private readonly idle: IdleRelease;

  /** Keeps at most `keep` free buffers of `size` bytes. */
  constructor(size: number, keep: number, idleMs = KEEP_FOR_REUSE_MS) {
    this.size = size;
    this.keep = keep;
    this.idle = new IdleRelease(idleMs, () => {
      // Detached, their memory is freed now: dropped, it would wait for a collection, which an
      // idle process may not run for minutes.
      for (const memory of this.free.splice(0)) memory.transfer(0);
    });
  }

  /** Free buffers held now. */
  get held(): number {
    return this.free.length;
  }

  take(): Buffer {
    this.idle.touch();
    const memory = this.free.pop();
    if (memory) return Buffer.from(memory);
    const made = Buffer.allocUnsafeSlow(this.size);
    this.own.add(made.buffer);
    return made;
  }

  /**
   * Gives back the memory behind `view` once nothing reads or writes it any
   * more; memory the pool did not make (a buffer that grew past it) is left
   * to the garbage collector.
   */
  give(view: Uint8Array): void {
    const memory = view.buffer;
    if (memory instanceof ArrayBuffer && this.own.has(memory) && this.free.length < this.keep) {
      this.free.push(memory);
    }
  }
}
