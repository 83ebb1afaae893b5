import { setTimeout as delay } from 'node:timers/promises';
import { type Clock, systemClock } from './clock.ts';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half
 * random, so many clients retrying after one outage spread out but none
 * retries immediately.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Resolves after ms, or rejects as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal });
}

export interface RetryStreakOptions {
  backoff: BackoffOptions;
  /** The first retry of a streak goes at once: for work whose ends are normal and only a quick series of them is a fault. */
  firstRetryAtOnce?: boolean;
  /** For the jitter; injectable so tests are repeatable. */
  random?: () => number;
  clock?: Pick<Clock, 'now'>;
}

/**
 * One thing that fails and recovers (a sink, a store, a watch, a robot): how
 * many attempts failed in a row, since when, and how long to wait before the
 * next. The caller logs "failing" when `fail()` starts a streak and
 * "recovered" with what `succeed()` returns, so an outage is two log lines,
 * not one per attempt.
 */
export class RetryStreak {
  private options: RetryStreakOptions;
  private readonly clock: Pick<Clock, 'now'>;
  private count = 0;
  private since: number | undefined;

  constructor(options: RetryStreakOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
  }

  /** Attempts failed in a row; 1 right after the failure that began the streak. */
  get failures(): number {
    return this.count;
  }

  /** When the streak began (epoch ms); undefined while healthy. */
  get failingSince(): number | undefined {
    return this.since;
  }

  /** New backoff settings (a reload); the streak goes on. */
  configure(backoff: BackoffOptions): void {
    this.options = { ...this.options, backoff };
  }

  /** Counts a failed attempt and returns how long to wait before the next one. */
  fail(): number {
    this.since ??= this.clock.now();
    const attempt = this.count++;
    const { backoff, firstRetryAtOnce, random } = this.options;
    if (firstRetryAtOnce) return attempt === 0 ? 0 : backoffDelay(attempt - 1, backoff, random);
    return backoffDelay(attempt, backoff, random);
  }

  /** Ends the streak; returns how long it lasted in ms, undefined when there was none. */
  succeed(): number | undefined {
    const since = this.since;
    this.count = 0;
    this.since = undefined;
    return since === undefined ? undefined : this.clock.now() - since;
  }
}
