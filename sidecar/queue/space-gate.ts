import { waitFor } from '../../core/waiters.ts';

/** The queue was closed while an operation waited on it, or an operation came after close. */
export class QueueClosedError extends Error {
  constructor(message = 'queue is closed') {
    super(message);
    this.name = 'QueueClosedError';
  }
}

/**
 * Backpressure: one appender at a time (the caller holds the append lock)
 * waits while the queue is full; acknowledgements call `check()`. The time
 * spent waiting is accumulated, including a wait still in progress.
 */
export class SpaceGate {
  private waiter: { full: () => boolean; resolve: () => void } | undefined;
  private waitingSince: number | undefined;
  private waitedMs = 0;
  private closed = false;

  async waitWhile(full: () => boolean, signal?: AbortSignal): Promise<void> {
    if (this.closed) throw new QueueClosedError();
    if (!full()) return;
    this.waitingSince = performance.now();
    try {
      while (full()) {
        if (this.closed) throw new QueueClosedError();
        await waitFor(
          (resolve) => {
            this.waiter = { full, resolve };
          },
          () => {
            this.waiter = undefined;
          },
          signal,
        );
      }
      if (this.closed) throw new QueueClosedError();
    } finally {
      this.waiter = undefined;
      this.waitedMs += performance.now() - this.waitingSince;
      this.waitingSince = undefined;
    }
  }

  /** Space may have been freed: let the waiting appender re-check. */
  check(): void {
    const waiter = this.waiter;
    if (waiter && !waiter.full()) {
      this.waiter = undefined;
      waiter.resolve();
    }
  }

  close(): void {
    this.closed = true;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve();
  }

  seconds(): number {
    const running = this.waitingSince === undefined ? 0 : performance.now() - this.waitingSince;
    return (this.waitedMs + running) / 1000;
  }
}
