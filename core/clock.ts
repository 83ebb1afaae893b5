import { setTimeout as delay } from 'node:timers/promises';

/**
 * Time as timers and rate limits see it. Injected so that tests of per-minute
 * limits, group intervals and expiry run in virtual time instead of waiting
 * out real minutes.
 */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or early when the signal aborts; never rejects. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => delay(ms, undefined, { signal }).catch(() => undefined),
};
