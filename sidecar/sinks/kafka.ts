import { kafkaProducerConnection } from '../../core/kafka-config.ts';
import { KafkaProducer, type ProduceSet } from '../../core/kafka-producer/producer.ts';
import { docLength } from '../../core/record/record-line.ts';
import type { KafkaSinkConfig } from './config.ts';
import type { DeadLetterFile } from './dead-letter.ts';
import type { Batch, Entry, Sink } from './sink.ts';
import { compileTemplate } from './template.ts';

const NOT_TOPIC_CHARS = /[^a-zA-Z0-9._-]/g;
/** A request to a broker carries the batches of several partitions, up to the bytes of this many full ones. */
const REQUEST_BATCHES = 2;

/**
 * Ships records to Kafka with acks=all; the cursor moves only after the broker
 * confirmed every record. The producer is idempotent, so its own retries
 * neither duplicate nor reorder a pod's lines.
 */
export class KafkaSink implements Sink {
  readonly name: string;
  private readonly config: KafkaSinkConfig;
  private readonly producer: KafkaProducer;
  private readonly deadLetter: DeadLetterFile;
  private readonly topicOf: (fields: Record<string, unknown>) => string;
  private readonly keyOf: (fields: Record<string, unknown>) => string;

  constructor(name: string, config: KafkaSinkConfig, deadLetter: DeadLetterFile) {
    this.name = name;
    this.config = config;
    this.deadLetter = deadLetter;
    this.producer = new KafkaProducer({
      ...kafkaProducerConnection(config),
      compression: config.compression,
      maxBatchBytes: config.maxBatchBytes,
      maxRequestBytes: REQUEST_BATCHES * config.maxBatchBytes,
      maxInFlight: 5,
      retries: 5,
      retryBackoff: { initialMs: 100, maxMs: 1_000 },
      metadataMaxAgeMs: 5 * 60_000,
      autoCreateTopics: true,
    });
    this.topicOf = compileTemplate(config.topic);
    this.keyOf = compileTemplate(config.key);
  }

  async deliver(batches: Batch[], signal: AbortSignal): Promise<void> {
    const { sets, oversized } = this.group(batches);
    await this.deadLetter.write(
      oversized.map((entry) => ({
        entry,
        status: 'MESSAGE_TOO_LARGE',
        reason: `record of ${entry.doc.length} bytes is over maxMessageBytes (${this.config.maxMessageBytes})`,
      })),
    );
    signal.throwIfAborted();
    await this.sendIsolatingRefusals(sets, signal);
  }

  private group(batches: Batch[]): { sets: ProduceSet[]; oversized: Entry[] } {
    const sets: ProduceSet[] = [];
    const oversized: Entry[] = [];
    const fits = (entry: Entry) => docLength(entry) <= this.config.maxMessageBytes;
    for (const batch of batches) {
      const topic = this.topicOf(batch.header).replace(NOT_TOPIC_CHARS, '_');
      const key = Buffer.from(this.keyOf(batch.header));
      let records = batch.entries;
      if (!records.every(fits)) {
        oversized.push(...records.filter((entry) => !fits(entry)));
        records = records.filter(fits);
      }
      sets.push({ topic, key, records });
    }
    return { sets, oversized };
  }

  /**
   * A batch refused for its records (one too large, one invalid) is sent
   * again in halves, down to the records refused alone, which go to the
   * dead-letter file: the good records of the batch are still delivered.
   */
  private async sendIsolatingRefusals(sets: ProduceSet[], signal: AbortSignal): Promise<void> {
    for (const refusal of await this.producer.send(sets, signal)) {
      const records = refusal.sets.flatMap((set) => set.records);
      if (records.length === 1) {
        await this.deadLetter.write([
          {
            entry: records[0]!,
            status: refusal.code,
            reason: `the broker refused the record: ${refusal.code}${refusal.message ? ` (${refusal.message})` : ''}`,
          },
        ]);
        continue;
      }
      const [first, second] = splitSets(refusal.sets, Math.floor(records.length / 2));
      await this.sendIsolatingRefusals(first, signal);
      await this.sendIsolatingRefusals(second, signal);
    }
  }

  async close(): Promise<void> {
    await this.producer.close().catch(() => {});
  }
}

/** The first `count` records of the sets, and the rest, each keeping its set's topic and key. */
function splitSets(sets: ProduceSet[], count: number): [ProduceSet[], ProduceSet[]] {
  const first: ProduceSet[] = [];
  const second: ProduceSet[] = [];
  let left = count;
  for (const set of sets) {
    const taken = Math.min(left, set.records.length);
    if (taken > 0) first.push({ ...set, records: set.records.slice(0, taken) });
    if (taken < set.records.length) second.push({ ...set, records: set.records.slice(taken) });
    left -= taken;
  }
  return [first, second];
}
