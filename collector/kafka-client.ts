import { unzipSync } from 'node:zlib';
import type { KafkaConfig, logCreator, SASLOptions } from 'kafkajs';
import { type KafkaConnection, kafkaTlsOptions } from '../core/kafka-config.ts';
import type { Logger } from '../core/log.ts';
import { installRecordDecoder } from './kafka-record-decoder.ts';

// Before kafkajs is loaded, which is why it is imported here and not above.
installRecordDecoder();
// kafkajs is CommonJS; its classes are read off the default export so Node's ESM loader finds them.
const { Kafka, logLevel, CompressionCodecs, CompressionTypes } = (await import('kafkajs')).default;

// kafkajs inflates gzip record batches through zlib's thread pool in 16 KiB steps, each a callback and a
// copy; inflating in one call takes a quarter off the CPU time of reading a record, and blocks for a
// millisecond or two a batch. The registry is kafkajs's own, for the whole process.
const gzip = CompressionCodecs[CompressionTypes.GZIP]();
CompressionCodecs[CompressionTypes.GZIP] = () => ({
  compress: gzip.compress,
  decompress: async (buffer: Buffer) => inflateGzip(buffer),
});

const MIN_INFLATE_CHUNK = 16 * 1024;
const MAX_INFLATE_CHUNK = 16 * 1024 * 1024;

/**
 * Inflates into one buffer of the size the gzip trailer states (plus one byte,
 * so zlib sees the end without asking for more room): in 16 KiB chunks, the
 * chunks' allocation and joining took a third of the time. The stated size is
 * only a hint, bounded, since a producer may send anything.
 */
export function inflateGzip(buffer: Buffer): Buffer {
  const stated = buffer.length >= 18 ? buffer.readUInt32LE(buffer.length - 4) : 0;
  const chunkSize = Math.min(Math.max(stated + 1, MIN_INFLATE_CHUNK), MAX_INFLATE_CHUNK);
  return unzipSync(buffer, { chunkSize });
}

/**
 * A kafkajs client for the consumer group: kafkajs's group protocol (joins,
 * rebalances, heartbeats, pattern subscriptions) is what the collector leans on.
 */
export function createKafka(connection: KafkaConnection, log: Logger): InstanceType<typeof Kafka> {
  // The client's own messages repeat what the collector reports once per outage, so they stay at debug.
  const logs: logCreator = () => (entry) => {
    log.debug({ kafka: entry.log.message, broker: entry.log.broker }, 'kafka client');
  };
  const config: KafkaConfig = {
    clientId: connection.clientId,
    brokers: connection.brokers,
    requestTimeout: connection.requestTimeout,
    connectionTimeout: 5_000,
    ssl: connection.tls && kafkaTlsOptions(connection.tls),
    retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 10_000 },
    logLevel: logLevel.ERROR,
    logCreator: logs,
  };
  if (connection.sasl) config.sasl = { ...connection.sasl } as SASLOptions;
  return new Kafka(config);
}
