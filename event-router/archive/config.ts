import { z } from 'zod';
import { byteSize, duration, httpUrl } from '../../core/config-types.ts';
import { elasticsearchConnectionSchema } from '../../core/elasticsearch-config.ts';

// The archive's settings live apart from the stores, so reading a config loads no client library.

export const elasticsearchArchiveSchema = elasticsearchConnectionSchema.extend({
  /**
   * Daily indices by the event's last time (UTC). By default the collector's own, so that its search,
   * and the console's Events page, find the events (the same index template serves both).
   */
  index: z
    .string()
    .regex(/\{[^}]+\}/, { error: 'the index pattern needs a date part such as {yyyy.MM.dd}' })
    .default('lookout-logs-{yyyy.MM.dd}'),
  /** Installs an index template for the pattern at the first write (keywords for Kubernetes fields). */
  installTemplate: z.boolean().default(true),
  shards: z.number().int().positive().default(1),
  replicas: z.number().int().nonnegative().default(1),
  bulkMaxBytes: byteSize().default(5 * 1024 * 1024),
});
export type ElasticsearchArchiveConfig = z.output<typeof elasticsearchArchiveSchema>;

export const collectorArchiveSchema = z.strictObject({
  /** The collector's base URL, e.g. http://lookout-collector:8080; events go to its /api/ingest. */
  url: httpUrl(),
  /** Bearer token with the editor role on the collector. */
  token: z.string().min(1).optional(),
  timeout: duration().default(30_000),
});
export type CollectorArchiveConfig = z.output<typeof collectorArchiveSchema>;

const bufferSettings = {
  /** Events per write. */
  batchSize: z.number().int().positive().default(500),
  /** The longest an event waits for its batch to fill. */
  batchAge: duration().default(1_000),
  /**
   * Events waiting while the store is slow or down; beyond this the oldest are dropped (counted and logged).
   * Unset: sized from the container's memory limit (defaultMaxBuffered).
   */
  maxBuffered: z.number().int().positive().optional(),
  /** Backoff while the store is down or refuses for a passing reason: doubles from initial up to max, jittered. */
  retry: z.strictObject({ initial: duration().default(500), max: duration().default(30_000) }).prefault({}),
};

export interface BufferSettings {
  batchSize: number;
  batchAge: number;
  maxBuffered: number;
  retry: { initial: number; max: number };
}

/** An event waiting for the store, as its document: some 1.9 KiB of heap, measured with labels and owner. */
const BUFFERED_EVENT_BYTES = 2 * 1024;
const MAX_BUFFERED = 50_000;

/**
 * How many events wait for the store at most when the setting is unset: 50,000 (some 100 MiB), or as many
 * as an eighth of the container's memory limit holds when that is less, but never fewer than 1,000.
 */
export function defaultMaxBuffered(memoryLimitBytes: number | undefined): number {
  if (memoryLimitBytes === undefined) return MAX_BUFFERED;
  return Math.max(1_000, Math.min(MAX_BUFFERED, Math.floor(memoryLimitBytes / 8 / BUFFERED_EVENT_BYTES)));
}

/** Where every event is archived: one of the two stores, with the buffer settings beside it. */
export type ArchiveConfig = Omit<BufferSettings, 'maxBuffered'> & { maxBuffered?: number } & (
    | { elasticsearch: ElasticsearchArchiveConfig; collector?: undefined }
    | { collector: CollectorArchiveConfig; elasticsearch?: undefined }
  );

/**
 * `{ elasticsearch: {...} }` writes straight to the cluster; `{ collector: { url, token } }` goes
 * through a collector, for a collector on its embedded store.
 */
export const archiveSchema = z
  .strictObject({
    elasticsearch: elasticsearchArchiveSchema.optional(),
    collector: collectorArchiveSchema.optional(),
    ...bufferSettings,
  })
  .superRefine((config, ctx) => {
    if (Boolean(config.elasticsearch) === Boolean(config.collector)) {
      ctx.addIssue({
        code: 'custom',
        message: 'give exactly one of "elasticsearch" (a cluster) or "collector" (a collector URL)',
      });
    }
  })
  .transform((config) => config as ArchiveConfig);
