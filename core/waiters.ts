/**
 * Small waiting primitives. None of them polls: every wait is a promise that
 * the event it waits for resolves.
 */

/**
 * Waits until the function handed to `register` is called. When the signal
 * aborts first, `unregister` takes that function back and the wait rejects
 * with the signal's reason: a wait given up leaves nothing behind, neither a
 * waiter nor a listener on a long-lived signal.
 */
export function waitFor(
  register: (wake: () => void) => void,
  unregister: (wake: () => void) => void,
  signal?: AbortSignal,
): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      unregister(wake);
      reject(signal?.reason);
    };
    const wake = () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    register(wake);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Wakes everyone waiting for "something changed". Take `mark()` before
 * checking the condition and wait with it, so a change in between is not missed.
 */
export class Notifier {
  private generation = 0;
  private readonly waiters = new Set<() => void>();

  mark(): number {
    return this.generation;
  }

  wait(mark: number, signal?: AbortSignal): Promise<void> {
    if (mark !== this.generation) return Promise.resolve();
    return waitFor(
      (wake) => this.waiters.add(wake),
      (wake) => this.waiters.delete(wake),
      signal,
    );
  }

  notify(): void {
    this.generation++;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }
}

/** A FIFO lock whose waiters can give up (abort) without disturbing the order of the others. */
export class Mutex {
  private locked = false;
  private readonly waiters: (() => void)[] = [];

  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.locked) {
      await waitFor(
        (wake) => this.waiters.push(wake),
        (wake) => {
          const i = this.waiters.indexOf(wake);
          if (i >= 0) this.waiters.splice(i, 1);
        },
        signal,
      );
    }
    this.locked = true;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      // Ownership passes straight to the next waiter, so nobody can barge in between.
      if (next) next();
      else this.locked = false;
    };
  }
}

/**
 * Runs an idempotent task (fsync, write the latest state to a file) on demand,
 * never twice at once: a call while a run is in progress is served by one
 * more run started after it, which all such callers share. Each caller's
 * promise therefore settles after a run that began after the call.
 */
export class Coalescer {
  private readonly task: () => Promise<void>;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(task: () => Promise<void>) {
    this.task = task;
  }

  run(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.running) return this.start();
    const after = this.running.then(
      () => undefined,
      () => undefined,
    );
    this.queued = after.then(() => {
      this.queued = undefined;
      return this.start();
    });
    return this.queued;
  }

  private start(): Promise<void> {
    const run = this.task().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }
}
