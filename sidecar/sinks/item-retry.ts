import { type BackoffOptions, backoffDelay, sleep } from '../../core/backoff.ts';
import type { DeadLetterFile } from './dead-letter.ts';
import type { Entry } from './sink.ts';

/** What one attempt made of the entries it sent. */
export interface AttemptResult {
  /** Refused for a passing reason (429, 5xx): sent again after a backoff. */
  retry: Entry[];
  /** Refused for good: kept in the dead-letter file. */
  rejected: { entry: Entry; status: number | string; reason: string }[];
}

/**
 * Sends entries until each is confirmed or dead-lettered, retrying only the
 * ones that failed. A whole-request failure (network, auth) is thrown to the
 * runner, which retries the batch as a unit.
 */
export async function deliverItems(
  entries: Entry[],
  attempt: (entries: Entry[]) => Promise<AttemptResult>,
  deadLetter: DeadLetterFile,
  backoff: BackoffOptions,
  signal: AbortSignal,
  onRetry: (count: number) => void,
): Promise<void> {
  let pending = entries;
  for (let round = 0; pending.length > 0; round++) {
    if (round > 0) await sleep(backoffDelay(round - 1, backoff), signal);
    const result = await attempt(pending);
    await deadLetter.write(result.rejected);
    if (result.retry.length > 0) onRetry(result.retry.length);
    pending = result.retry;
  }
}
