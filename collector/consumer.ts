import type { Consumer, EachBatchPayload, KafkaMessage, Producer } from 'kafkajs';
import { type BackoffOptions, backoffDelay, sleep } from '../core/backoff.ts';
import { describeError } from '../core/errors.ts';
import type { KafkaConnection } from '../core/kafka-config.ts';
import type { Logger } from '../core/log.ts';
import type { Metrics } from '../core/metrics.ts';
import { RECORD_ID_HEADER, RECORD_TIME_HEADER } from '../core/record-headers.ts';
import { createKafka } from './kafka-client.ts';
import { parseRecord, recordFromHeaders } from './records.ts';
import type { LogRecord } from './store/store.ts';
import type { StoreWriter } from './store-writer.ts';

export interface LogConsumerOptions {
  connection: KafkaConnection;
  /** Topic names; `/regex/` subscribes to every topic matching at start. */
  topics: readonly string[];
  groupId: string;
  deadLetterTopic: string;
  fromBeginning: boolean;
  writer: StoreWriter;
  backoff: BackoffOptions;
  log: Logger;
  metrics: Metrics;
}

/** Records stored and committed at a time: small enough to write well inside the session timeout. */
const SLICE_RECORDS = 10_000;
/** Slices being stored at once: one is written while the next is parsed and sent. */
const SLICES_IN_FLIGHT = 2;

interface DeadLetter {
  message: KafkaMessage;
  reason: string;
}

/** `/logs-.*\/` is a pattern, anything else a topic name. */
export function topicSubscription(topic: string): string | RegExp {
  const pattern = /^\/(.+)\/$/.exec(topic);
  return pattern ? new RegExp(pattern[1]!) : topic;
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
  private failingSince: number | undefined;
  private running = false;
  private joining: Promise<void> | undefined;
  private readonly m;

  constructor(opts: LogConsumerOptions) {
    this.opts = opts;
    const kafka = createKafka(opts.connection, opts.log);
    this.consumer = kafka.consumer({
      groupId: opts.groupId,
      maxBytesPerPartition: 4 * 1024 * 1024,
      // A killed member's partitions move to the others after this long.
      sessionTimeout: 10_000,
      heartbeatInterval: 3_000,
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
        [1, 10, 100, 500, 1000, 5000, 20000],
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
    return this.running && this.failingSince === undefined;
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
    const { topics, fromBeginning, log } = this.opts;
    for (let attempt = 0; !this.stopping.signal.aborted; attempt++) {
      try {
        await this.producer.connect();
        await this.consumer.connect();
        await this.consumer.subscribe({ topics: topics.map(topicSubscription), fromBeginning });
        await this.consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: (payload) => this.batch(payload),
        });
        return;
      } catch (err) {
        if (this.stopping.signal.aborted) return;
        if (attempt === 0)
          log.warn({ err: describeError(err) }, 'cannot join the Kafka consumer group yet; retrying');
        await sleep(backoffDelay(attempt, this.opts.backoff), this.stopping.signal).catch(() => {});
      }
    }
  }

  /** Finishes the batch in flight (its commit included) and leaves the group. */
  async stop(): Promise<void> {
    this.running = false;
    if (!this.joining) return;
    // A batch waiting on a failed store gives up; its records are re-delivered to whoever takes the partition.
    const giveUp = setTimeout(() => this.stopping.abort(), 5_000);
    try {
      await this.consumer.disconnect();
    } finally {
      clearTimeout(giveUp);
      this.stopping.abort();
      await this.joining.catch(() => {});
      await this.producer.disconnect().catch(() => {});
    }
  }

  /**
   * A fetched batch can hold tens of thousands of records (the fetch limit
   * counts compressed bytes): it is stored and committed in slices with a
   * heartbeat between them, so a long batch never outlives the session and
   * a crash re-reads at most two slices. The next slice is parsed and sent
   * while the store still writes the one before, so the store never waits on
   * the commit; commits stay in offset order.
   */
  private async batch({
    batch,
    heartbeat,
    isRunning,
    isStale,
    resolveOffset,
  }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const gone = () => !isRunning() || isStale();
    const inFlight: { messages: KafkaMessage[]; started: number; stored: Promise<boolean> }[] = [];
    let next = 0;
    try {
      for (;;) {
        while (inFlight.length < SLICES_IN_FLIGHT && next < batch.messages.length && !gone()) {
          const messages = batch.messages.slice(next, next + SLICE_RECORDS);
          next += messages.length;
          const started = performance.now();
          inFlight.push({
            messages,
            started,
            stored: this.store(messages, { topic, partition }, heartbeat, gone),
          });
        }
        const slice = inFlight.shift();
        if (!slice || !(await slice.stored)) return;
        const last = slice.messages.at(-1)!.offset;
        const committed = (BigInt(last) + 1n).toString();
        await this.consumer.commitOffsets([{ topic, partition, offset: committed }]);
        // The next fetch starts after the resolved offset, not the committed one.
        resolveOffset(last);
        await heartbeat();
        this.m.batchRecords.observe(slice.messages.length);
        this.m.batchSeconds.observe((performance.now() - slice.started) / 1000);
        const lag = BigInt(batch.highWatermark) - BigInt(committed);
        this.m.lag.set({ topic, partition: String(partition) }, Number(lag > 0n ? lag : 0n));
      }
    } finally {
      // A slice given up or a failed commit leaves the others uncommitted; they end before kafkajs fetches again.
      await Promise.allSettled(inFlight.map((slice) => slice.stored));
    }
  }

  /**
   * Stores one slice, holding it while the store fails; what cannot be stored
   * goes to the dead-letter topic. Returns false when the slice was given up
   * (stopping, or the partition moved to another member).
   */
  private async store(
    messages: KafkaMessage[],
    from: { topic: string; partition: number },
    heartbeat: () => Promise<void>,
    gone: () => boolean,
  ): Promise<boolean> {
    const records: LogRecord[] = [];
    const sources = new Map<LogRecord, KafkaMessage>();
    const dead: DeadLetter[] = [];
    for (const message of messages) {
      const record = message.value ? this.record(message, message.value) : 'empty message';
      if (typeof record === 'string') {
        dead.push({ message, reason: record });
        continue;
      }
      records.push(record);
      sources.set(record, message);
    }
    let refused = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        const rejected = await this.opts.writer.writeAll(records, this.stopping.signal);
        for (const r of rejected)
          dead.push({ message: sources.get(r.record)!, reason: `${r.status}: ${r.reason}` });
        refused = rejected.length;
        break;
      } catch (err) {
        if (this.stopping.signal.aborted || gone()) return false;
        this.m.storeFailures.inc();
        if (this.failingSince === undefined) {
          this.failingSince = Date.now();
          this.opts.log.warn(
            { err: describeError(err) },
            'log store failing; holding the batch and retrying',
          );
        }
        await sleep(backoffDelay(attempt, this.opts.backoff), this.stopping.signal).catch(() => {});
        // Heartbeats keep the partitions while the store is away, so no other member re-reads them meanwhile.
        await heartbeat().catch(() => {});
      }
    }
    if (this.failingSince !== undefined) {
      this.opts.log.info({ downSeconds: (Date.now() - this.failingSince) / 1000 }, 'log store recovered');
      this.failingSince = undefined;
    }
    await this.deadLetter(from.topic, from.partition, dead);
    this.m.records.inc({ outcome: 'stored' }, records.length - refused);
    this.m.records.inc({ outcome: 'dead_lettered' }, dead.length);
    return true;
  }

  /** The record, or why it cannot be stored. */
  private record(message: KafkaMessage, value: Buffer): LogRecord | string {
    const headers = message.headers;
    const fromHeaders = headers
      ? recordFromHeaders(
          value,
          headerText(headers[RECORD_ID_HEADER]),
          headerText(headers[RECORD_TIME_HEADER]),
        )
      : undefined;
    if (fromHeaders && process.env.LOOKOUT_NO_HEADERS !== '1') return fromHeaders;
    const parsed = parseRecord(value);
    return parsed.ok ? parsed.record : parsed.reason;
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

function headerText(value: Buffer | string | (Buffer | string)[] | undefined): string | undefined {
  const one = Array.isArray(value) ? value[0] : value;
  return one === undefined ? undefined : one.toString();
}
