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
 * ones that failed, for sinks whose destination answers per record
 * (Elasticsearch bulk items, collector ingest lines). A whole-request failure
 * (network, auth) is thrown to the runner, which retries the batch as a unit.
 */
export class ItemDelivery {
  private readonly deadLetter: DeadLetterFile;
  private readonly backoff: BackoffOptions;
  private readonly onRetry: (count: number) => void;

  constructor(deadLetter: DeadLetterFile, backoff: BackoffOptions, onRetry: (count: number) => void) {
    this.deadLetter = deadLetter;
    this.backoff = backoff;
    this.onRetry = onRetry;
  }

  async deliver(
    entries: Entry[],
    attempt: (entries: Entry[]) => Promise<AttemptResult>,
    signal: AbortSignal,
  ): Promise<void> {
    let pending = entries;
    for (let round = 0; pending.length > 0; round++) {
      if (round > 0) await sleep(backoffDelay(round - 1, this.backoff), signal);
      const result = await attempt(pending);
      await this.deadLetter.write(result.rejected);
      if (result.retry.length > 0) this.onRetry(result.retry.length);
      pending = result.retry;
    }
  }
}
