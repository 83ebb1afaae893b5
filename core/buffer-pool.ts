/**
 * Buffers of one size, kept for reuse. A Buffer's memory is freed only when
 * V8 collects its wrapper, and V8 starts a full collection for every few
 * megabytes of buffers allocated when its old generation is capped (as it is
 * under a container's memory limit): a batch buffer taken from here instead
 * of allocated keeps those collections, and the memory waiting for them, away.
 */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];
  readonly size: number;
  private readonly keep: number;

  /** Keeps at most `keep` free buffers of `size` bytes. */
  constructor(size: number, keep: number) {
    this.size = size;
    this.keep = keep;
  }

  take(): Buffer {
    const memory = this.free.pop();
    return memory ? Buffer.from(memory) : Buffer.allocUnsafeSlow(this.size);
  }

  /**
   * Gives back the memory behind `view` once nothing reads or writes it any
   * more; memory of another size (a buffer that grew, or was never the
   * pool's) is left to the garbage collector.
   */
  give(view: Uint8Array): void {
    const memory = view.buffer;
    if (memory instanceof ArrayBuffer && memory.byteLength === this.size && this.free.length < this.keep) {
      this.free.push(memory);
    }
  }
}
