import type { BackoffOptions } from '../../core/backoff.ts';
import { type Attempt, retryItems } from '../../core/item-retry.ts';
import type { DeadLetterFile } from './dead-letter.ts';
import type { Entry } from './sink.ts';

/** What one attempt made of the entries it sent; refusals are kept in the dead-letter file. */
export type AttemptResult = Attempt<Entry, { entry: Entry; status: number | string; reason: string }>;

/**
 * Delivery for sinks whose destination answers per record (Elasticsearch bulk
 * items, collector ingest lines): retried per record, refusals dead-lettered.
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
    await retryItems(entries, attempt, {
      backoff: this.backoff,
      signal,
      onRetry: this.onRetry,
      onRejected: (rejected) => this.deadLetter.write(rejected),
    });
  }
}
