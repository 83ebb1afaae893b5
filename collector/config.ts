import { z } from 'zod';
import { byteSize, duration } from '../core/config-types.ts';
import { elasticsearchConnectionSchema } from '../core/elasticsearch-config.ts';
import { kafkaConnectionSchema } from '../core/kafka-config.ts';
import { topicProblem } from './consume/topics.ts';

export const collectorSchema = z.strictObject({
  /** Without it the collector takes logs only through `POST /api/ingest`. */
  kafka: kafkaConnectionSchema
    .extend({
      clientId: z.string().default('lookout-collector'),
      /**
       * Topic names, or `/regex/` for every topic whose whole name matches when
       * the collector joins the group; the dead-letter topic is never consumed.
       */
      topics: z.array(z.string().min(1)).min(1).default(['lookout-logs']),
      groupId: z.string().min(1).default('lookout-collector'),
      /** Records that cannot be stored go here, with the reason in the `lookout-reason` header. */
      deadLetterTopic: z.string().min(1).default('lookout-logs-dlq'),
      /** Where a new consumer group starts: true reads what the topics hold, false only what comes next. */
      fromBeginning: z.boolean().default(true),
      /**
       * Bytes of records (decompressed) read and not yet stored, at most, before the next fetch; fetches
       * are a sixteenth of it, compressed. Unset: an eighth of the container's memory limit, at most 16 MiB.
       */
      maxBytesInFlight: byteSize().optional(),
    })
    .superRefine((kafka, ctx) => {
      kafka.topics.forEach((topic, i) => {
        const message = topicProblem(topic, kafka.deadLetterTopic);
        if (message) ctx.addIssue({ code: 'custom', path: ['topics', i], message });
      });
    })
    .optional(),
  /** Without it logs go to the embedded store in the data directory. */
  elasticsearch: elasticsearchConnectionSchema
    .extend({
      index: z.string().default('lookout-logs-{yyyy.MM.dd}'),
      shards: z.number().int().positive().default(1),
      replicas: z.number().int().nonnegative().default(1),
    })
    .optional(),
  retention: z
    .strictObject({
      /** Whole days (UTC) older than this are deleted. */
      days: z.number().int().positive().default(7),
      checkInterval: duration().default(3_600_000),
    })
    .prefault({}),
  ingest: z
    .strictObject({
      /** Applies to the body as sent and again once it is decompressed. */
      maxBodyBytes: byteSize().default(64 * 1024 ** 2),
      /** Lines (empty ones aside) in one request; the answer holds at most one verdict per line. */
      maxLines: z.number().int().positive().default(100_000),
    })
    .prefault({}),
  /** How records are read: POST /api/ingest and Kafka records without the sidecar's header (the time rule applies to every Kafka record). */
  records: z
    .strictObject({
      /** Deeper or wider records keep Lookout's own fields, with their text as the message, flagged. */
      maxDepth: z.number().int().min(4).max(1_000).default(64),
      maxFields: z.number().int().min(32).default(1_000),
      /** A longer message is cut on a character boundary and flagged lookout.truncated. */
      maxMessageBytes: byteSize().default(1024 ** 2),
      /** Later event times become the receive time; the original is kept in lookout.original_timestamp. */
      maxFutureSkew: duration().default(3_600_000),
    })
    .prefault({}),
  search: z
    .strictObject({
      maxPageSize: z.number().int().positive().max(10_000).default(1_000),
      /** A page ends early (flagged `truncated`, `next` continuing after its last hit) rather than grow past this. */
      maxPageBytes: byteSize().default(8 * 1024 ** 2),
      /** Values of all keyword filters of one search together (`namespace=a,b&f.x=c` is three). */
      maxFilterValues: z.number().int().positive().default(256),
      /** Groups one `/api/logs/count` answer lists at most; more are reported as truncated. */
      maxCountGroups: z.number().int().positive().max(10_000).default(1_000),
      exportMaxRows: z.number().int().positive().default(100_000),
      /** An export stops at this many bytes of rows, saying so in its last line. */
      exportMaxBytes: byteSize().default(256 * 1024 ** 2),
    })
    .prefault({}),
  tail: z
    .strictObject({
      interval: duration().default(1_000),
      /** Lines that arrive late by up to this much (event time) still reach a live tail. */
      lookback: duration().default(30_000),
      /** How far back `from` may reach; older lines are for search. */
      maxFrom: duration().default(3_600_000),
      /** A tail ends (with an `end` event saying why) after this long; the browser reconnects where it was. */
      maxLifetime: duration().default(3_600_000),
      /** Live tails open at once, per token and for the whole collector. */
      maxPerToken: z.number().int().positive().default(5),
      maxOpen: z.number().int().positive().default(100),
    })
    .prefault({}),
  retry: z.strictObject({ initial: duration().default(200), max: duration().default(30_000) }).prefault({}),
  /** V8's optimize-for-size mode for the process: a smaller heap for some throughput (docs/collector.md). */
  optimizeHeapForSize: z.boolean().default(false),
});
export type CollectorConfig = z.output<typeof collectorSchema>;
