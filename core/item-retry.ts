import { type BackoffOptions, backoffDelay, sleep } from './backoff.ts';

/** What one attempt made of the items it sent. */
export interface Attempt<T, R> {
  /** Refused for a passing reason (429, 5xx): sent again after a backoff. */
  retry: T[];
  /** Refused for good. */
  rejected: R[];
}

export interface RetryItemsOptions<R> {
  backoff: BackoffOptions;
  signal: AbortSignal;
  onRetry(count: number): void;
  /** Called with each attempt's refusals as they come (to dead-letter them at once). */
  onRejected?(rejected: R[]): Promise<void>;
}

/**
 * Sends items until each is confirmed or refused for good, sending again only
 * those refused for a passing reason, after a backoff, for destinations that
 * answer per item (Elasticsearch bulk items, collector ingest lines, store
 * writes). A failure of a whole attempt (network, auth) is thrown to the
 * caller, which retries the batch as a unit. Returns every refusal.
 */
export async function retryItems<T, R>(
  items: readonly T[],
  attempt: (pending: T[]) => Promise<Attempt<T, R>>,
  options: RetryItemsOptions<R>,
): Promise<R[]> {
  const rejected: R[] = [];
  let pending = [...items];
  for (let round = 0; pending.length > 0; round++) {
    if (round > 0) await sleep(backoffDelay(round - 1, options.backoff), options.signal);
    const result = await attempt(pending);
    if (result.rejected.length > 0) {
      rejected.push(...result.rejected);
      await options.onRejected?.(result.rejected);
    }
    if (result.retry.length > 0) options.onRetry(result.retry.length);
    pending = result.retry;
  }
  return rejected;
}
