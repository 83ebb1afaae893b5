import { compatibilityPartitioner, type MessageToProduce, ProduceAcks, Producer } from '@platformatic/kafka';
import { kafkaClientOptions } from '../../core/kafka-config.ts';
import { recordHeaders } from '../../core/record/headers.ts';
import type { KafkaSinkConfig } from './config.ts';
import type { DeadLetterFile } from './dead-letter.ts';
import type { Batch, Entry, Sink } from './sink.ts';
import { compileTemplate } from './template.ts';

const NOT_TOPIC_CHARS = /[^a-zA-Z0-9._-]/g;
/**
 * One send becomes one record batch per partition, and the broker refuses a
 * batch over its message.max.bytes (1 MB by default): half of that leaves
 * room for framing. Several sends go out together to keep the broker busy.
 */
const REQUEST_BYTES = 512 * 1024;
/** Protocol errors that concern one record, not the connection: the record is dead-lettered. */
const RECORD_ERRORS = new Set([
  'MESSAGE_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'RECORD_LIST_TOO_LARGE',
]);

type Message = MessageToProduce & { entry: Entry };

/** The broker's code for a refusal of records, found inside the client's nested errors; else undefined. */
function recordError(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const { apiId } = err as { apiId?: unknown };
  if (typeof apiId === 'string' && RECORD_ERRORS.has(apiId)) return apiId;
  if (err instanceof AggregateError) {
    for (const inner of err.errors) {
      const found = recordError(inner);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * The key's partition as Java clients compute it, once per batch rather than
 * once per record: every record of a batch shares one key buffer.
 */
function cachedPartitioner() {
  let lastKey: Buffer | undefined;
  let lastPartition = 0;
  return (message: MessageToProduce, key: Buffer | undefined): number => {
    if (key !== lastKey) {
      lastKey = key;
      lastPartition = compatibilityPartitioner(message, key);
    }
    return lastPartition;
  };
}

/**
 * Ships records to Kafka with acks=all; the cursor moves only after the broker
 * confirmed every record. The producer is idempotent, so the client's own
 * retries neither duplicate nor reorder a pod's lines.
 */
export class KafkaSink implements Sink {
  readonly name: string;
  private readonly config: KafkaSinkConfig;
  private readonly producer: Producer<Buffer, Buffer, Buffer, Buffer>;
  private readonly deadLetter: DeadLetterFile;
  private readonly topicOf: (fields: Record<string, unknown>) => string;
  private readonly keyOf: (fields: Record<string, unknown>) => string;

  constructor(name: string, config: KafkaSinkConfig, deadLetter: DeadLetterFile) {
    this.name = name;
    this.config = config;
    this.deadLetter = deadLetter;
    this.producer = new Producer({
      ...kafkaClientOptions(config),
      acks: ProduceAcks.ALL,
      idempotent: true,
      autocreateTopics: true,
      compression: config.compression === 'gzip' ? 'gzip' : 'none',
      partitioner: cachedPartitioner(),
    });
    this.topicOf = compileTemplate(config.topic);
    this.keyOf = compileTemplate(config.key);
  }

  async deliver(batches: Batch[], signal: AbortSignal): Promise<void> {
    const { requests, oversized } = this.group(batches);
    await this.deadLetter.write(
      oversized.map((entry) => ({
        entry,
        status: 'MESSAGE_TOO_LARGE',
        reason: `record of ${entry.doc.length} bytes is over maxMessageBytes (${this.config.maxMessageBytes})`,
      })),
    );
    signal.throwIfAborted();
    await Promise.all(requests.map((messages) => this.sendChecked(messages)));
  }

  private group(batches: Batch[]): { requests: Message[][]; oversized: Entry[] } {
    const requests: Message[][] = [];
    const oversized: Entry[] = [];
    let request: Message[] = [];
    let bytes = 0;
    for (const batch of batches) {
      const topic = this.topicOf(batch.header).replace(NOT_TOPIC_CHARS, '_');
      const key = Buffer.from(this.keyOf(batch.header));
      for (const entry of batch.entries) {
        if (entry.doc.length > this.config.maxMessageBytes) {
          oversized.push(entry);
          continue;
        }
        if (request.length > 0 && bytes + entry.doc.length > REQUEST_BYTES) {
          requests.push(request);
          request = [];
          bytes = 0;
        }
        request.push({ topic, key, value: entry.doc, headers: recordHeaders(entry.id, entry.time), entry });
        bytes += entry.doc.length + key.length;
      }
    }
    if (request.length > 0) requests.push(request);
    return { requests, oversized };
  }

  private async sendChecked(messages: Message[]): Promise<void> {
    try {
      await this.producer.send({ messages });
    } catch (err) {
      if (!recordError(err)) throw err;
      await this.sendOneByOne(messages);
    }
  }

  /** A batch was refused for one bad record: find it, keep it aside, deliver the rest. */
  private async sendOneByOne(messages: Message[]): Promise<void> {
    for (const message of messages) {
      try {
        await this.producer.send({ messages: [message] });
      } catch (err) {
        const code = recordError(err);
        if (!code) throw err;
        await this.deadLetter.write([
          { entry: message.entry, status: code, reason: `the broker refused the record: ${code}` },
        ]);
      }
    }
  }

  async close(): Promise<void> {
    await this.producer.close().catch(() => {});
  }
}
