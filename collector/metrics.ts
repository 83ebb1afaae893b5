import type { MetricCatalogue } from '../core/metrics.ts';

/** Every metric the collector exports. */
export const COLLECTOR_METRICS = {
  ingestLines: {
    type: 'counter',
    name: 'collector_ingest_lines_total',
    help: 'Lines posted to /api/ingest, by outcome',
    labels: ['outcome'],
  },
  storeRetries: {
    type: 'counter',
    name: 'collector_store_retries_total',
    help: 'Records written again after a 429/5xx',
  },
  kafkaLag: {
    type: 'gauge',
    name: 'collector_kafka_lag',
    help: 'Records behind the end of the partition after the last batch',
    labels: ['topic', 'partition'],
  },
  batchRecords: {
    type: 'histogram',
    name: 'collector_batch_records',
    help: 'Records per slice of a Kafka batch stored and committed together',
    buckets: [1, 10, 100, 1000, 2500, 5000, 10000],
  },
  batchSeconds: {
    type: 'histogram',
    name: 'collector_batch_seconds',
    help: 'Time to store and commit one slice of a Kafka batch',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  },
  records: {
    type: 'counter',
    name: 'collector_records_total',
    help: 'Records consumed, by outcome',
    labels: ['outcome'],
  },
  bytesInFlight: {
    type: 'gauge',
    name: 'collector_bytes_in_flight',
    help: 'Bytes of Kafka records read and not yet stored and committed',
  },
  storeFailures: {
    type: 'counter',
    name: 'collector_store_failures_total',
    help: 'Batches the store could not take at all (retried)',
  },
} as const satisfies MetricCatalogue;
