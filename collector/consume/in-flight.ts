import { setTimeout as delay } from 'node:timers/promises';

/**
 * The bytes of records read from Kafka and not yet stored, against a budget:
 * the consumer fetches only while less than the budget is held, so what it
 * holds stays within the budget and one fetch. A record counts by its value as
 * fetched (decompressed), from the fetch that brought it until its slice is
 * stored and committed, or given up.
 */
export class InFlightBytes {
  readonly budget: number;
  private held = 0;
  private readonly waiting = new Set<() => void>();
  private readonly onChange: (bytes: number) => void;

  constructor(budget: number, onChange: (bytes: number) => void = () => {}) {
    this.budget = budget;
    this.onChange = onChange;
  }

  get bytes(): number {
    return this.held;
  }

  get hasRoom(): boolean {
    return this.held < this.budget;
  }

  hold(bytes: number): void {
    this.held += bytes;
    this.onChange(this.held);
  }

  release(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
    this.onChange(this.held);
    if (!this.hasRoom) return;
    for (const wake of this.waiting) wake();
    this.waiting.clear();
  }

  /**
   * Resolves true once there is room, false when `stop()` says to stop first; `stop` is asked again every
   * `recheckMs`, for conditions that come without a release (a partition taken away).
   */
  async room(stop: () => boolean, recheckMs: number): Promise<boolean> {
    while (!this.hasRoom) {
      if (stop()) return false;
      let wake: () => void = () => {};
      const released = new Promise<void>((resolve) => {
        wake = resolve;
      });
      this.waiting.add(wake);
      const timer = new AbortController();
      await Promise.race([released, delay(recheckMs, undefined, { signal: timer.signal }).catch(() => {})]);
      timer.abort();
      this.waiting.delete(wake);
    }
    return !stop();
  }
}

/** Compressed bytes one fetch brings at most, and one partition's part of it. */
export interface FetchSizes {
  maxBytes: number;
  maxBytesPerPartition: number;
}

/**
 * A partition's part, some 20,000 gzip-compressed records of 600 bytes:
 * larger fetches only keep more decoded records alive at once.
 */
const FETCH_BYTES_PER_PARTITION = 1024 * 1024;
const MIN_FETCH_BYTES = 64 * 1024;

/**
 * Fetch sizes for a budget of bytes in flight: a sixteenth of it, compressed,
 * which log lines gzip'd some 5 to 10 times over decode to well within it, so
 * what the consumer holds stays under one and a half times the budget.
 */
export function fetchSizes(maxBytesInFlight: number): FetchSizes {
  const maxBytes = Math.max(MIN_FETCH_BYTES, Math.floor(maxBytesInFlight / 16));
  return { maxBytes, maxBytesPerPartition: Math.min(FETCH_BYTES_PER_PARTITION, maxBytes) };
}

/**
 * Fetches of 1 MiB, as many as one partition's: in the benchmark a budget of
 * 8 MiB stored as fast as one of 64 MiB, with 80 MiB less at the peak.
 */
const DEFAULT_BYTES_IN_FLIGHT = 16 * 1024 ** 2;

/** Unset, the budget is an eighth of the container's memory limit, or 16 MiB without one (or when less). */
export function defaultMaxBytesInFlight(memoryLimitBytes: number | undefined): number {
  return memoryLimitBytes === undefined
    ? DEFAULT_BYTES_IN_FLIGHT
    : Math.min(DEFAULT_BYTES_IN_FLIGHT, Math.floor(memoryLimitBytes / 8));
}
