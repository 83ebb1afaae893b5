import { HttpError } from '../core/auth.ts';
import type { LogRecord } from '../core/record/log-record.ts';
import type { SearchQuery } from './query/types.ts';
import type { ContextQuery, LogStore } from './store/store.ts';

/**
 * The routes are registered once, before the server listens, while the store
 * behind them is opened at start and replaced on reload: they talk to this
 * handle, which answers 503 while no store is open.
 */
export class StoreHandle implements LogStore {
  current: LogStore | undefined;

  get kind(): LogStore['kind'] {
    return this.store().kind;
  }

  private store(): LogStore {
    if (!this.current) throw new HttpError(503, 'the log store is not open yet');
    return this.current;
  }

  open(): Promise<void> {
    return this.store().open();
  }

  write(records: readonly LogRecord[], signal?: AbortSignal) {
    return this.store().write(records, signal);
  }

  search(query: SearchQuery, signal?: AbortSignal) {
    return this.store().search(query, signal);
  }

  facet(query: SearchQuery, field: string, size: number, signal?: AbortSignal) {
    return this.store().facet(query, field, size, signal);
  }

  count(query: SearchQuery, groupBy: readonly string[], maxGroups: number, signal?: AbortSignal) {
    return this.store().count(query, groupBy, maxGroups, signal);
  }

  context(query: ContextQuery, signal?: AbortSignal) {
    return this.store().context(query, signal);
  }

  deleteBefore(cutoff: number) {
    return this.store().deleteBefore(cutoff);
  }

  async ping(signal?: AbortSignal): Promise<boolean> {
    return this.current ? this.current.ping(signal) : false;
  }

  close(): Promise<void> {
    return this.store().close();
  }
}
