import type { SearchQuery } from './types.ts';

/** More buckets than a chart can show, and than a store should count in one query. */
export const MAX_BUCKETS = 10_000;

/**
 * Every bucket of [from, to) with a count of 0, aligned on multiples of the
 * interval since the epoch (as Elasticsearch aligns date histograms), oldest
 * first: both stores fill these in, so empty stretches show as zeros.
 */
export function emptyBuckets(query: SearchQuery): { time: number; count: number }[] | undefined {
  const interval = query.histogramIntervalMs;
  if (interval === undefined) return undefined;
  if (!Number.isInteger(interval) || interval <= 0) {
    throw new RangeError(`histogram interval must be a positive number of milliseconds, got ${interval}`);
  }
  if (query.to <= query.from) return [];
  const first = Math.floor(query.from / interval) * interval;
  const count = Math.ceil((query.to - first) / interval);
  if (count > MAX_BUCKETS) {
    throw new RangeError(
      `a histogram of ${count} buckets is too many (at most ${MAX_BUCKETS}); choose a wider interval`,
    );
  }
  return Array.from({ length: count }, (_, i) => ({ time: first + i * interval, count: 0 }));
}
