import type { FastifyInstance } from 'fastify';
import type { CollectorConfig } from '../config.ts';
import type { LogStore } from '../store/store.ts';
import { registerExport } from './export.ts';
import { registerSearch } from './search.ts';
import { registerTail } from './tail.ts';

/**
 * The read side of the collector's API: search, context, export and live
 * tail. Routes are registered once; they read their limits from `config()`
 * on each request, so a reload applies new limits to the next request.
 */
export function registerReadApi(app: FastifyInstance, store: LogStore, config: () => CollectorConfig): void {
  const limits = () => config().search;
  registerSearch(app, store, limits);
  registerTail(app, store, () => ({ limits: limits(), tail: config().tail }));
  registerExport(app, store, () => ({
    limits: limits(),
    export: {
      maxRows: limits().exportMaxRows,
      maxBytes: limits().exportMaxBytes,
      pageBytes: limits().maxPageBytes,
    },
  }));
}
