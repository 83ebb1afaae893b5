import { setTimeout as delay } from 'node:timers/promises';
import type { Consumer, EachBatchPayload, KafkaMessage, Producer } from 'kafkajs';
import { type BackoffOptions, RetryStreak, sleep } from '../core/backoff.ts';
import { bulkChunks, DEFAULT_BULK_LIMITS } from '../core/bulk-chunks.ts';
import { describeError } from '../core/errors.ts';
import type { KafkaConnection } from '../core/kafka-config.ts';
import type { Logger } from '../core/log.ts';
import type { Metrics } from '../core/metrics.ts';
import { RECORD_HEADER } from '../core/record/headers.ts';
import type { LogRecord } from '../core/record/log-record.ts';
import type { RecordRules } from '../core/record/read-record.ts';
import { CommitChain } from './commit-chain.ts';
import { createKafka } from './kafka-client.ts';
import { kafkaRecord } from './records.ts';
import type { StoreWriter } from './store-writer.ts';
import { topicSubscription } from './topics.ts';

export interface LogConsumerOptions {
  connection: KafkaConnection;
  /** Topic names; `/regex/` subscribes to every topic whose whole name matches at start. */
  topics: readonly string[];
  groupId: string;
  deadLetterTopic: string;
  fromBeginning: boolean;
  writer: StoreWriter;
  /** How records without a good header (or with a time too far ahead) are read. */
  rules: RecordRules;
  backoff: BackoffOptions;
  log: Logger;
  metrics: Metrics;
}

/**
 * Slices being stored at once, across batches: the cluster always has one to
 * write while an answer travels back and kafkajs fetches and decodes the next
 * batch. A crash re-reads at most these.
 */
const SLICES_IN_FLIGHT = 3;
const HEARTBEAT_MS = 3_000;

interface DeadLetter {
  message: KafkaMessage;
  reason: string;
}

/**
 * Kafka → store for one member of the consumer group. A partition's offset is
 * committed only after the store confirmed its batch (or the dead-letter topic
 * took what the store refused), so a crash or a rebalance re-delivers rather
 * than loses, and `event.id` keeps re-delivered records single in the store.
 */
export class LogConsumer {
  private readonly opts: LogConsumerOptions;
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly stopping = new AbortController();
  /** The store's failures, across the slices in flight. */
  private readonly storeRetry: RetryStreak;
  private running = false;
  private joining: Promise<void> | undefined;
  private readonly chains = new Map<string, CommitChain>();
  /** Each slice being stored or committed, until it has ended either way. */
  private readonly inFlight = new Set<Promise<void>>();
  private draining: Promise<void> | undefined;
  private readonly m;

  constructor(opts: LogConsumerOptions) {
    this.opts = opts;
    this.storeRetry = new RetryStreak({ backoff: opts.backoff });
    const kafka = createKafka(opts.connection, opts.log);
    this.consumer = kafka.consumer({
      groupId: opts.groupId,
      // Compressed bytes, some 20,000 records: larger fetches only make kafkajs keep more garbage alive.
      maxBytesPerPartition: 1024 * 1024,
      // A killed member's partitions move to the others after this long.
      sessionTimeout: 10_000,
      heartbeatInterval: HEARTBEAT_MS,
    });
    this.producer = kafka.producer({ allowAutoTopicCreation: true });
    const { metrics } = opts;
    this.m = {
      lag: metrics.gauge(
        'collector_kafka_lag',
        'Records behind the end of the partition after the last batch',
        ['topic', 'partition'],
      ),
      batchRecords: metrics.histogram(
        'collector_batch_records',
        'Records per slice of a Kafka batch stored and committed together',
        [],
        [1, 10, 100, 1000, 2500, 5000, 10000],
      ),
      batchSeconds: metrics.histogram(
        'collector_batch_seconds',
        'Time to store and commit one slice of a Kafka batch',
        [],
        [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      ),
      records: metrics.counter('collector_records_total', 'Records consumed, by outcome', ['outcome']),
      storeFailures: metrics.counter(
        'collector_store_failures_total',
        'Batches the store could not take at all (retried)',
      ),
    };
  }

  /** The group is joined and the store takes batches. */
  get healthy(): boolean {
    return this.running && this.storeRetry.failingSince === undefined;
  }

  /**
   * Joins the group in the background: a broker that is down, or a group
   * still waiting out a killed member's session, must not keep the API from
   * serving searches. Readiness says when consuming has begun.
   */
  start(): void {
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      this.running = false;
      this.opts.log.error(
        { err: describeError(payload.error), restart: payload.restart },
        'kafka consumer crashed',
      );
      // kafkajs restarts itself after retriable errors only; after any other, join the group afresh.
      if (!payload.restart && !this.stopping.signal.aborted) {
        this.joining = this.consumer
          .disconnect()
          .catch(() => {})
          .then(() => this.join());
      }
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      this.running = true;
    });
    this.joining = this.join();
  }

  private async join(): Promise<void> {
    const { topics, fromBeginning, deadLetterTopic, log } = this.opts;
    const retry = new RetryStreak({ backoff: this.opts.backoff });
    while (!this.stopping.signal.aborted) {
      try {
        await this.producer.connect();
        await this.consumer.connect();
        await this.consumer.subscribe({
          topics: topics.map((topic) => topicSubscription(topic, deadLetterTopic)),
          fromBeginning,
        });
        await this.consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: (payload) => this.batch(payload),
        });
        return;
      } catch (err) {
        if (this.stopping.signal.aborted) return;
        const delayMs = retry.fail();
        if (retry.failures === 1)
          log.warn({ err: describeError(err) }, 'cannot join the Kafka consumer group yet; retrying');
        await sleep(delayMs, this.stopping.signal).catch(() => {});
      }
    }
  }

  /** Finishes the slices in flight (their commits included) and leaves the group. */
  async stop(deadline: AbortSignal): Promise<void> {
    this.running = false;
    if (!this.joining) return;
    // At the deadline a slice waiting on a failed store gives up; its records are re-delivered to whoever takes
    // the partition.
    const giveUp = () => this.stopping.abort();
    if (deadline.aborted) giveUp();
    else deadline.addEventListener('abort', giveUp, { once: true });
    try {
      // kafkajs drops commits once it is told to stop, so the slices end first.
      this.draining = this.drain();
      await this.draining;
      await this.consumer.disconnect();
    } finally {
      deadline.removeEventListener('abort', giveUp);
      this.stopping.abort();
      await this.joining.catch(() => {});
      await this.producer.disconnect().catch(() => {});
    }
  }

  private async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /**
   * A fetched batch can hold tens of thousands of records (the fetch limit
   * counts compressed bytes): it is stored and committed in slices. Each
   * slice's offset is resolved as soon as its store begins, so kafkajs
   * fetches the next batch while the store still writes this one; commits
   * follow the stores in offset order (CommitChain). At most SLICES_IN_FLIGHT
   * slices are under way, which is how a slow store pauses the consumer.
   */
  private async batch({
    batch,
    heartbeat,
    isRunning,
    isStale,
    resolveOffset,
  }: EachBatchPayload): Promise<void> {
    const { topic, partition, messages } = batch;
    const gone = () => !isRunning() || isStale();
    const key = `${topic}/${partition}`;
    const first = BigInt(messages[0]!.offset);
    let chain = this.chains.get(key);
    // Lower than where the chain stands: kafkajs reads again from the committed offset after a rejoin.
    if (!chain || first < chain.next) {
      chain = new CommitChain(first);
      this.chains.set(key, chain);
    } else if (chain.failedAt !== undefined) {
      // A slice was given up while reading went on: read again from it.
      this.chains.delete(key);
      this.consumer.seek({ topic, partition, offset: chain.failedAt });
      return;
    }
    // Records stored and committed at a time: cut as the store cuts bulk requests, so a slice is one request.
    for (const slice of bulkChunks(messages, (m) => m.value?.length ?? 0, DEFAULT_BULK_LIMITS)) {
      while (this.inFlight.size >= SLICES_IN_FLIGHT && !this.draining && !gone()) {
        await Promise.race([...this.inFlight, delay(HEARTBEAT_MS)]);
        await heartbeat();
      }
      if (this.draining) return this.draining;
      if (gone()) return;
      const started = performance.now();
      const last = slice.at(-1)!.offset;
      const stored = this.store(slice, { topic, partition }, gone);
      const ended = chain.add(slice[0]!.offset, last, stored, async (committed) => {
        await this.commit({ topic, partition, offset: committed }, batch.highWatermark);
        this.m.batchRecords.observe(slice.length);
        this.m.batchSeconds.observe((performance.now() - started) / 1000);
      });
      this.inFlight.add(ended);
      void ended.then(() => this.inFlight.delete(ended));
      resolveOffset(last);
    }
  }

  /** A failed commit is left to the next one, which covers these records too. */
  private async commit(at: { topic: string; partition: number; offset: string }, highWatermark: string) {
    try {
      await this.consumer.commitOffsets([at]);
    } catch (err) {
      this.opts.log.warn({ err: describeError(err), ...at }, 'cannot commit the offset yet');
      return;
    }
    const lag = BigInt(highWatermark) - BigInt(at.offset);
    this.m.lag.set({ topic: at.topic, partition: String(at.partition) }, Number(lag > 0n ? lag : 0n));
  }

  /**
   * Stores one slice, holding it while the store fails; what cannot be stored
   * goes to the dead-letter topic. Resolves to false when the slice was given
   * up (stopping, the partition moved to another member, or the dead-letter
   * topic failed); never rejects.
   */
  private async store(
    messages: KafkaMessage[],
    from: { topic: string; partition: number },
    gone: () => boolean,
  ): Promise<boolean> {
    const records: LogRecord[] = [];
    /** The message of each record, by the record's position. */
    const sources: KafkaMessage[] = [];
    const dead: DeadLetter[] = [];
    const receivedAt = Date.now();
    for (const message of messages) {
      const record = message.value ? this.record(message, message.value, receivedAt) : 'empty message';
      if (typeof record === 'string') {
        dead.push({ message, reason: record });
        continue;
      }
      records.push(record);
      sources.push(message);
    }
    let refused = 0;
    for (;;) {
      try {
        const rejected = await this.opts.writer.writeAll(records, this.stopping.signal);
        if (rejected.length > 0) {
          const at = new Map(records.map((record, i) => [record, i]));
          for (const r of rejected)
            dead.push({ message: sources[at.get(r.record)!]!, reason: `${r.status}: ${r.reason}` });
        }
        refused = rejected.length;
        break;
      } catch (err) {
        if (this.stopping.signal.aborted || gone()) return false;
        this.m.storeFailures.inc();
        const delayMs = this.storeRetry.fail();
        if (this.storeRetry.failures === 1) {
          this.opts.log.warn(
            { err: describeError(err) },
            'log store failing; holding the batch and retrying',
          );
        }
        await sleep(delayMs, this.stopping.signal).catch(() => {});
      }
    }
    const downMs = this.storeRetry.succeed();
    if (downMs !== undefined) this.opts.log.info({ downSeconds: downMs / 1000 }, 'log store recovered');
    try {
      await this.deadLetter(from.topic, from.partition, dead);
    } catch (err) {
      // Given up: the slice is read and stored again (its stored records stay single by event.id).
      this.opts.log.error({ err: describeError(err) }, 'cannot send to the dead-letter topic');
      return false;
    }
    this.m.records.inc({ outcome: 'stored' }, records.length - refused);
    this.m.records.inc({ outcome: 'dead_lettered' }, dead.length);
    return true;
  }

  /** The record, or why it cannot be stored. */
  private record(message: KafkaMessage, value: Buffer, receivedAt: number): LogRecord | string {
    const header = message.headers?.[RECORD_HEADER];
    // A header sent twice comes as an array: the first one counts. Consumed headers are bytes.
    const first = Array.isArray(header) ? header[0] : header;
    return kafkaRecord(value, Buffer.isBuffer(first) ? first : undefined, this.opts.rules, receivedAt);
  }

  /** The original message, its key, and where it came from and why it was refused, in headers. */
  private async deadLetter(topic: string, partition: number, dead: DeadLetter[]): Promise<void> {
    if (dead.length === 0) return;
    await this.producer.send({
      topic: this.opts.deadLetterTopic,
      acks: -1,
      messages: dead.map(({ message, reason }) => ({
        key: message.key,
        value: message.value,
        headers: {
          'lookout-reason': reason.slice(0, 1000),
          'lookout-source': `${topic}/${partition}/${message.offset}`,
        },
      })),
    });
    this.opts.log.warn(
      { count: dead.length, topic: this.opts.deadLetterTopic, reason: dead[0]!.reason },
      'records that cannot be stored went to the dead-letter topic',
    );
  }
}
