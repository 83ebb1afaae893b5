import { z } from 'zod';
import { byteSize, duration, httpUrl } from '../../core/config-types.ts';
import { elasticsearchConnectionSchema } from '../../core/elasticsearch-config.ts';
import { kafkaConnectionSchema } from '../../core/kafka-config.ts';

// The sinks' settings live apart from the sinks, so reading a config loads no client library.

export const kafkaSinkSchema = kafkaConnectionSchema.extend({
  /** May name header fields: `logs-{kubernetes.namespace}`. Characters Kafka does not allow become "_". */
  topic: z.string().min(1).default('lookout-logs'),
  /** Messages with one key keep their order; the default keeps each pod's lines in order. */
  key: z.string().default('{kubernetes.namespace}/{kubernetes.pod.name}'),
  compression: z.enum(['none', 'gzip']).default('gzip'),
  /** Records larger than this go to the dead-letter file instead of failing the batch (broker default is 1 MB). */
  maxMessageBytes: byteSize().default(1_000_000),
  /**
   * Bytes of records (before compression) in one batch for one partition. The broker refuses a batch
   * over its message.max.bytes (1 MB by default); half of that leaves room for framing.
   */
  maxBatchBytes: byteSize().default(512 * 1024),
  clientId: z.string().default('lookout-sidecar'),
});
export type KafkaSinkConfig = z.output<typeof kafkaSinkSchema>;

export const elasticsearchSinkSchema = elasticsearchConnectionSchema.extend({
  /** Daily indices by the event's @timestamp (UTC). */
  index: z.string().default('lookout-logs-{yyyy.MM.dd}'),
  /** Installs the index template at start (keywords for Kubernetes fields, match_only_text for message). */
  installTemplate: z.boolean().default(true),
  shards: z.number().int().positive().default(1),
  replicas: z.number().int().nonnegative().default(1),
  bulkMaxBytes: byteSize().default(5 * 1024 * 1024),
  bulkMaxDocs: z.number().int().positive().default(5_000),
});
export type ElasticsearchSinkConfig = z.output<typeof elasticsearchSinkSchema>;

export const httpSinkSchema = z.strictObject({
  /** The collector's ingest endpoint, e.g. http://collector:8080/api/ingest. */
  url: httpUrl(),
  /** Bearer token with the editor role on the collector. */
  token: z.string().optional(),
  gzip: z.boolean().default(true),
  timeout: duration().default(30_000),
});
export type HttpSinkConfig = z.output<typeof httpSinkSchema>;
