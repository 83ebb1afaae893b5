import type { BackoffOptions } from '../core/backoff.ts';
import { type Attempt, retryItems } from '../core/item-retry.ts';
import type { LogRecord } from '../core/record/log-record.ts';
import type { LogStore } from './store/store.ts';

export interface Rejection {
  record: LogRecord;
  status: number;
  reason: string;
}

/**
 * Writes records until the store has confirmed each or refused it for good.
 * Items the store is too busy for (429, 5xx) are written again after a
 * backoff, and only those: the caller does not read more meanwhile, which is
 * how a slow store pauses the consumer instead of filling memory. A store that
 * cannot be reached at all throws, and the caller retries the whole batch.
 */
export class StoreWriter {
  private readonly store: LogStore;
  private readonly backoff: BackoffOptions;
  private readonly onRetry: (count: number) => void;

  constructor(store: LogStore, backoff: BackoffOptions, onRetry: (count: number) => void) {
    this.store = store;
    this.backoff = backoff;
    this.onRetry = onRetry;
  }

  writeAll(records: readonly LogRecord[], signal: AbortSignal): Promise<Rejection[]> {
    return retryItems(records, (pending) => this.attempt(pending, signal), {
      backoff: this.backoff,
      signal,
      onRetry: this.onRetry,
    });
  }

  private async attempt(pending: LogRecord[], signal: AbortSignal): Promise<Attempt<LogRecord, Rejection>> {
    const outcomes = await this.store.write(pending, signal);
    const result: Attempt<LogRecord, Rejection> = { retry: [], rejected: [] };
    outcomes.forEach((outcome, i) => {
      const record = pending[i]!;
      if (outcome.result === 'retry') result.retry.push(record);
      else if (outcome.result === 'reject')
        result.rejected.push({ record, status: outcome.status, reason: outcome.reason });
    });
    return result;
  }
}
