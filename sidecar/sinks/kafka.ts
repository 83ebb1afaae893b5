import { readFileSync } from 'node:fs';
import kafkajs, { type KafkaConfig, type Message, type Producer, type SASLOptions } from 'kafkajs';
import { z } from 'zod';
import { byteSize, duration, hostPort } from '../../core/config-types.ts';
import type { Logger } from '../../core/log.ts';
import type { DeadLetterFile } from './dead-letter.ts';
import type { Batch, Entry, Sink } from './sink.ts';
import { compileTemplate } from './template.ts';

export const kafkaSinkSchema = z.strictObject({
  brokers: z.array(hostPort()).min(1),
  /** May name header fields: `logs-{kubernetes.namespace}`. Characters Kafka does not allow become "_". */
  topic: z.string().min(1).default('lookout-logs'),
  /** Messages with one key keep their order; the default keeps each pod's lines in order. */
  key: z.string().default('{kubernetes.namespace}/{kubernetes.pod.name}'),
  compression: z.enum(['none', 'gzip']).default('gzip'),
  /** Records larger than this go to the dead-letter file instead of failing the batch (broker default is 1 MB). */
  maxMessageBytes: byteSize().default(1_000_000),
  clientId: z.string().default('lookout-sidecar'),
  requestTimeout: duration().default(30_000),
  tls: z
    .strictObject({
      caFile: z.string().optional(),
      certFile: z.string().optional(),
      keyFile: z.string().optional(),
      insecureSkipVerify: z.boolean().default(false),
    })
    .optional(),
  sasl: z
    .strictObject({
      mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
      username: z.string().min(1),
      password: z.string().min(1),
    })
    .optional(),
});
export type KafkaSinkConfig = z.output<typeof kafkaSinkSchema>;

// kafkajs is CommonJS; its classes are read off the default export so Node's ESM loader finds them.
const { CompressionTypes, Kafka, KafkaJSProtocolError, logLevel, Partitioners } = kafkajs;

const read = (file: string | undefined) => (file ? readFileSync(file) : undefined);

export function kafkaClientConfig(config: KafkaSinkConfig, log: Logger): KafkaConfig {
  return {
    clientId: config.clientId,
    brokers: config.brokers,
    requestTimeout: config.requestTimeout,
    connectionTimeout: 5_000,
    ssl: config.tls && {
      ca: read(config.tls.caFile),
      cert: read(config.tls.certFile),
      key: read(config.tls.keyFile),
      rejectUnauthorized: !config.tls.insecureSkipVerify,
    },
    sasl: config.sasl as SASLOptions | undefined,
    // Failures surface through the runner (one warning per outage); kafkajs's own retries stay short.
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2_000 },
    logLevel: logLevel.ERROR,
    logCreator: () => (entry) => {
      log.debug({ kafka: entry.log.message, broker: entry.log.broker }, 'kafka client');
    },
  };
}

const NOT_TOPIC_CHARS = /[^a-zA-Z0-9._-]/g;
const REQUEST_RECORDS = 250;
/** Protocol errors that concern one record, not the connection: the record is dead-lettered. */
const RECORD_ERRORS = new Set([
  'MESSAGE_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'RECORD_LIST_TOO_LARGE',
]);

/** Ships records to Kafka with acks=all; the cursor moves only after the broker confirmed every record. */
export class KafkaSink implements Sink {
  readonly name: string;
  private readonly config: KafkaSinkConfig;
  private readonly producer: Producer;
  private readonly deadLetter: DeadLetterFile;
  private readonly topicOf: (fields: Record<string, unknown>) => string;
  private readonly keyOf: (fields: Record<string, unknown>) => string;
  private connected: Promise<void> | undefined;

  constructor(name: string, config: KafkaSinkConfig, deadLetter: DeadLetterFile, log: Logger) {
    this.name = name;
    this.config = config;
    this.deadLetter = deadLetter;
    this.producer = new Kafka(kafkaClientConfig(config, log)).producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: true,
      retry: { retries: 2 },
    });
    this.producer.on('producer.disconnect', () => {
      this.connected = undefined;
    });
    this.topicOf = compileTemplate(config.topic);
    this.keyOf = compileTemplate(config.key);
  }

  async deliver(batches: Batch[], signal: AbortSignal): Promise<void> {
    const { topicMessages, oversized } = this.group(batches);
    await this.deadLetter.write(
      oversized.map((entry) => ({
        entry,
        status: 'MESSAGE_TOO_LARGE',
        reason: `record of ${Buffer.byteLength(entry.json)} bytes is over maxMessageBytes (${this.config.maxMessageBytes})`,
      })),
    );
    if (topicMessages.length === 0) return;
    await this.connect();
    signal.throwIfAborted();
    try {
      await this.send(topicMessages);
    } catch (err) {
      if (!(err instanceof KafkaJSProtocolError) || !RECORD_ERRORS.has(err.type)) throw err;
      await this.sendOneByOne(topicMessages);
    }
  }

  private group(batches: Batch[]) {
    const byTopic = new Map<string, (Message & { entry: Entry })[]>();
    const oversized: Entry[] = [];
    for (const batch of batches) {
      const topic = this.topicOf(batch.header).replace(NOT_TOPIC_CHARS, '_');
      const key = this.keyOf(batch.header);
      let messages = byTopic.get(topic);
      if (!messages) {
        messages = [];
        byTopic.set(topic, messages);
      }
      for (const entry of batch.entries) {
        if (
          entry.json.length > this.config.maxMessageBytes / 4 &&
          Buffer.byteLength(entry.json) > this.config.maxMessageBytes
        ) {
          oversized.push(entry);
        } else {
          messages.push({ key, value: entry.json, entry });
        }
      }
    }
    const topicMessages = [...byTopic]
      .filter(([, m]) => m.length > 0)
      .map(([topic, messages]) => ({ topic, messages }));
    return { topicMessages, oversized };
  }

  /**
   * kafkajs grows its encoding buffer in small steps, so one request of
   * thousands of records spends its time copying; requests of a few hundred,
   * sent together, keep encoding linear and the broker busy.
   */
  private async send(topicMessages: { topic: string; messages: Message[] }[]) {
    const requests: { topic: string; messages: Message[] }[][] = [];
    for (const { topic, messages } of topicMessages) {
      for (let i = 0; i < messages.length; i += REQUEST_RECORDS) {
        requests.push([{ topic, messages: messages.slice(i, i + REQUEST_RECORDS) }]);
      }
    }
    await Promise.all(
      requests.map((batch) =>
        this.producer.sendBatch({
          topicMessages: batch,
          acks: -1,
          timeout: this.config.requestTimeout,
          compression: this.config.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
        }),
      ),
    );
  }

  /** A batch was refused for one bad record: find it, keep it aside, deliver the rest. */
  private async sendOneByOne(topicMessages: { topic: string; messages: (Message & { entry: Entry })[] }[]) {
    for (const { topic, messages } of topicMessages) {
      for (const message of messages) {
        try {
          await this.send([{ topic, messages: [message] }]);
        } catch (err) {
          if (!(err instanceof KafkaJSProtocolError) || !RECORD_ERRORS.has(err.type)) throw err;
          await this.deadLetter.write([{ entry: message.entry, status: err.type, reason: err.message }]);
        }
      }
    }
  }

  private connect(): Promise<void> {
    this.connected ??= this.producer.connect().catch((err: unknown) => {
      this.connected = undefined;
      throw err;
    });
    return this.connected;
  }

  async close(): Promise<void> {
    await this.producer.disconnect().catch(() => {});
  }
}
