import { setTimeout as delay } from 'node:timers/promises';
import type { ConnectionPool, Consumer, Producer } from '@platformatic/kafka';
import { type BackoffOptions, RetryStreak, sleep } from '../../core/backoff.ts';
import { bulkChunks, DEFAULT_BULK_LIMITS } from '../../core/bulk-chunks.ts';
import { describeError } from '../../core/errors.ts';
import type { KafkaConnection } from '../../core/kafka-config.ts';
import type { Logger } from '../../core/log.ts';
import type { Metrics } from '../../core/metrics.ts';
import { findRecordHeader } from '../../core/record/headers.ts';
import type { LogRecord } from '../../core/record/log-record.ts';
import type { RecordRules } from '../../core/record/read-record.ts';
import { COLLECTOR_METRICS } from '../metrics.ts';
import { kafkaRecord } from '../records.ts';
import type { StoreWriter } from '../store-writer.ts';
import { CommitChain } from './commit-chain.ts';
import { fetchSizes, InFlightBytes } from './in-flight.ts';
import {
  createConsumer,
  createDeadLetterProducer,
  createFetchConnections,
  listTopics,
} from './kafka-client.ts';
import { type FetchedBatch, type FetchedRecord, PartitionReader } from './partition-reader.ts';
import { hasPatterns, subscribedTopics } from './topics.ts';

export interface LogConsumerOptions {
  connection: KafkaConnection;
  /** Topic names; `/regex/` subscribes to every topic whose whole name matches when the group is joined. */
  topics: readonly string[];
  groupId: string;
  deadLetterTopic: string;
  fromBeginning: boolean;
  writer: StoreWriter;
  /** How records without a good header (or with a time too far ahead) are read. */
  rules: RecordRules;
  backoff: BackoffOptions;
  /** Record bytes (decompressed) read and not yet stored, at most, before the next fetch is made; sizes fetches. */
  maxBytesInFlight: number;
  log: Logger;
  metrics: Metrics;
  /** Joins the group; tests substitute a membership without Kafka. */
  join?: () => Promise<Member>;
}

/**
 * Slices being stored at once, across batches: the cluster always has one to
 * write while an answer travels back and the client fetches and decodes the
 * next batch. A crash re-reads at most these.
 */
const SLICES_IN_FLIGHT = 3;
/** How often a batch waiting for room among the slices in flight checks that its partition is still ours. */
const RECHECK_MS = 1_000;
/** How long the broker holds a fetch that finds nothing new; also how soon a stop is noticed while idle. */
const FETCH_WAIT_MS = 1_000;

interface DeadLetter {
  message: FetchedRecord;
  reason: string;
}

/** One membership of the group: the client, what it reads, and why it ended if it did. */
export interface Member {
  consumer: Pick<Consumer, 'commit' | 'close'>;
  connections: Pick<ConnectionPool, 'close'>;
  reader: Pick<PartitionReader, 'fetch' | 'reads'>;
  failed: AbortController;
}

/** What the store is sent: a record's bytes as fetched. */
function recordBytes(message: FetchedRecord): number {
  return message.record.value?.length ?? 0;
}

const sumBytes = (messages: readonly FetchedRecord[]) => messages.reduce((n, m) => n + recordBytes(m), 0);

/**
 * Kafka → store for one member of the consumer group. A partition's offset is
 * committed only after the store confirmed its batch (or the dead-letter topic
 * took what the store refused), so a crash or a rebalance re-delivers rather
 * than loses, and `event.id` keeps re-delivered records single in the store.
 */
export class LogConsumer {
  private readonly opts: LogConsumerOptions;
  private readonly producer: Producer;
  private readonly stopping = new AbortController();
  /** The store's failures, across the slices in flight. */
  private readonly storeRetry: RetryStreak;
  private running = false;
  private joining: Promise<void> | undefined;
  private readonly chains = new Map<string, CommitChain>();
  /** Each slice being stored or committed, until it has ended either way. */
  private readonly inFlight = new Set<Promise<void>>();
  private readonly bytesInFlight: InFlightBytes;
  private draining: Promise<void> | undefined;
  /** The shutdown's deadline, which leaving the group does not outlast. */
  private leaveBy: AbortSignal | undefined;
  private readonly m;

  constructor(opts: LogConsumerOptions) {
    this.opts = opts;
    this.storeRetry = new RetryStreak({ backoff: opts.backoff });
    this.producer = createDeadLetterProducer(opts.connection);
    const { metrics } = opts;
    const bytesGauge = metrics.gauge(COLLECTOR_METRICS.bytesInFlight);
    this.bytesInFlight = new InFlightBytes(opts.maxBytesInFlight, (bytes) => bytesGauge.set(bytes));
    this.m = {
      lag: metrics.gauge(COLLECTOR_METRICS.kafkaLag),
      batchRecords: metrics.histogram(COLLECTOR_METRICS.batchRecords),
      batchSeconds: metrics.histogram(COLLECTOR_METRICS.batchSeconds),
      records: metrics.counter(COLLECTOR_METRICS.records),
      storeFailures: metrics.counter(COLLECTOR_METRICS.storeFailures),
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
    this.joining = this.run();
  }

  /** Finishes the slices in flight (their commits included) and leaves the group. */
  async stop(deadline: AbortSignal): Promise<void> {
    this.running = false;
    if (!this.joining) return;
    this.leaveBy = deadline;
    // At the deadline a slice waiting on a failed store gives up; its records are re-delivered to whoever takes
    // the partition.
    const giveUp = () => this.stopping.abort();
    if (deadline.aborted) giveUp();
    else deadline.addEventListener('abort', giveUp, { once: true });
    try {
      // Commits need the membership, so the slices end before the group is left.
      this.draining = this.drain();
      await this.draining;
    } finally {
      deadline.removeEventListener('abort', giveUp);
      this.stopping.abort();
      await this.joining;
      await this.producer.close().catch(() => {});
    }
  }

  private async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Joins the group and consumes until stopped. A member that fails (its
   * client gave up, or a slice was given up while its partition is still
   * read) leaves, and a new one joins and reads again from the commits.
   */
  private async run(): Promise<void> {
    const { log } = this.opts;
    const retry = new RetryStreak({ backoff: this.opts.backoff });
    while (!this.stopping.signal.aborted) {
      let member: Member | undefined;
      try {
        member = await (this.opts.join ?? (() => this.join()))();
        retry.succeed();
        const failure = await this.consume(member);
        // A failure while draining is not joined afresh: the collector is stopping.
        if (this.draining) await untilAborted(this.stopping.signal);
        if (this.stopping.signal.aborted) return;
        this.running = false;
        log.error({ err: describeError(failure) }, 'kafka consumer failed; joining the group afresh');
      } catch (err) {
        this.running = false;
        if (this.stopping.signal.aborted) return;
        const delayMs = retry.fail();
        if (retry.failures === 1)
          log.warn({ err: describeError(err) }, 'cannot join the Kafka consumer group yet; retrying');
        await sleep(delayMs, this.stopping.signal).catch(() => {});
      } finally {
        if (member) await this.leave(member);
      }
    }
  }

  private async join(): Promise<Member> {
    const { connection, groupId, topics: configured, deadLetterTopic, fromBeginning } = this.opts;
    const existing = hasPatterns(configured) ? await listTopics(connection) : [];
    const topics = subscribedTopics(configured, deadLetterTopic, existing);
    if (topics.length === 0) throw new Error(`no topic matches ${configured.join(', ')}`);
    const consumer = createConsumer(connection, groupId);
    const connections = createFetchConnections(connection);
    const failed = new AbortController();
    const reader = new PartitionReader(consumer, {
      topics,
      fromBeginning,
      ...fetchSizes(this.opts.maxBytesInFlight),
      maxWaitMs: FETCH_WAIT_MS,
      connections,
    });
    // The client reports a membership it could not keep (a rejoin that failed) this way.
    consumer.on('error', (err) => failed.abort(err));
    // Each join (the first, and after every rebalance) reads from the commits of the partitions now assigned.
    consumer.on('consumer:group:join', () => {
      this.running = !failed.signal.aborted;
      reader.assign().catch((err: unknown) => failed.abort(err));
    });
    try {
      consumer.topics.trackAll(...topics);
      await consumer.joinGroup({});
      this.chains.clear();
      return { consumer, connections, reader, failed };
    } catch (err) {
      await consumer.close(true).catch(() => {});
      await connections.close().catch(() => {});
      throw err;
    }
  }

  /** Leaves the group, within the time the shutdown allows. */
  private async leave({ consumer, connections }: Member): Promise<void> {
    const leaving = Promise.all([consumer.close(true).catch(() => {}), connections.close().catch(() => {})]);
    // Past the deadline the broker moves the partitions once the session times out.
    await (this.leaveBy ? Promise.race([leaving, untilAborted(this.leaveBy)]) : leaving);
  }

  /**
   * Fetches and stores until the member fails or the collector stops:
   * resolves to the failure. A fetch is made only once the previous one's
   * slices have all begun and less than maxBytesInFlight is held, so a slow
   * store stops the reading while the client's heartbeats keep the partitions.
   */
  private async consume(member: Member): Promise<unknown> {
    const halted = () => this.stopping.signal.aborted || member.failed.signal.aborted || !!this.draining;
    while (!this.stopping.signal.aborted) {
      if (member.failed.signal.aborted) return member.failed.signal.reason;
      // Draining: the member stays until the slices in flight are committed, and reads no more.
      if (this.draining) {
        await untilAborted(this.stopping.signal);
        continue;
      }
      if (!(await this.bytesInFlight.room(halted, RECHECK_MS))) continue;
      let batches: FetchedBatch[];
      try {
        batches = await member.reader.fetch(this.stopping.signal);
      } catch (err) {
        return err;
      }
      // Held from here; each slice gives its share back once stored, and what is never sent is given back here.
      const bytes = batches.map((b) => sumBytes(b.records));
      this.bytesInFlight.hold(bytes.reduce((a, b) => a + b, 0));
      const from = (i: number) => bytes.slice(i).reduce((a, b) => a + b, 0);
      for (const [i, batch] of batches.entries()) {
        if (halted()) {
          this.bytesInFlight.release(from(i));
          break;
        }
        const failure = await this.batch(member, batch);
        if (failure) {
          this.bytesInFlight.release(from(i + 1));
          return failure;
        }
      }
    }
    return undefined;
  }

  /**
   * One partition's records of a fetch: several thousand (the fetch limit
   * counts compressed bytes), stored and committed in slices. A slice's store
   * begins as soon as there is room among the slices in flight, so the
   * client fetches the next batch while the store still writes this one;
   * commits follow the stores in offset order (CommitChain). Resolves to a
   * failure when the member must read again from its commits.
   */
  private async batch(member: Member, batch: FetchedBatch): Promise<Error | undefined> {
    const { topic, partition, records: messages } = batch;
    const gone = () =>
      this.stopping.signal.aborted || member.failed.signal.aborted || !member.reader.reads(topic, partition);
    const key = `${topic}/${partition}`;
    const first = messages[0]!.offset;
    let chain = this.chains.get(key);
    // Lower than where the chain stands: the client reads again from the committed offset after a rejoin.
    if (!chain || first < chain.next) {
      chain = new CommitChain(first);
      this.chains.set(key, chain);
    } else if (chain.failedAt !== undefined) {
      this.bytesInFlight.release(sumBytes(messages));
      return new Error(
        `a slice of ${key} from offset ${chain.failedAt} was given up; reading again from the commits`,
      );
    }
    // Bytes of the batch's slices not sent yet; given back if the batch ends before they are.
    let unsent = sumBytes(messages);
    // Records stored and committed at a time: cut as the store cuts bulk requests, so a slice is one request.
    for (const slice of bulkChunks(messages, recordBytes, DEFAULT_BULK_LIMITS)) {
      while (this.inFlight.size >= SLICES_IN_FLIGHT && !this.draining && !gone()) {
        await Promise.race([...this.inFlight, delay(RECHECK_MS)]);
      }
      if (this.draining || gone()) {
        this.bytesInFlight.release(unsent);
        return undefined;
      }
      const sliceBytes = sumBytes(slice);
      unsent -= sliceBytes;
      const started = performance.now();
      const last = slice.at(-1)!;
      const stored = this.store(slice, { topic, partition }, gone);
      const ended = chain.add(slice[0]!.offset, last.offset, stored, async (next) => {
        const at = { topic, partition, offset: next, leaderEpoch: batch.leaderEpoch };
        if (await this.commit(member.consumer, at)) {
          const lag = batch.highWatermark - next;
          this.m.lag.set({ topic, partition: String(partition) }, Number(lag > 0n ? lag : 0n));
        }
        this.m.batchRecords.observe(slice.length);
        this.m.batchSeconds.observe((performance.now() - started) / 1000);
      });
      this.inFlight.add(ended);
      void ended.then(() => {
        this.inFlight.delete(ended);
        this.bytesInFlight.release(sliceBytes);
      });
    }
    return undefined;
  }

  /** A failed commit is left to the next one, which covers these records too. Resolves to whether it succeeded. */
  private async commit(
    consumer: Member['consumer'],
    at: { topic: string; partition: number; offset: bigint; leaderEpoch: number },
  ): Promise<boolean> {
    try {
      await consumer.commit({ offsets: [at] });
      return true;
    } catch (err) {
      this.opts.log.warn(
        { err: describeError(err), topic: at.topic, partition: at.partition, offset: String(at.offset) },
        'cannot commit the offset yet',
      );
      return false;
    }
  }

  /**
   * Stores one slice, holding it while the store fails; what cannot be stored
   * goes to the dead-letter topic. Resolves to false when the slice was given
   * up (stopping, the partition moved to another member, or the dead-letter
   * topic failed); never rejects.
   */
  private async store(
    messages: FetchedRecord[],
    from: { topic: string; partition: number },
    gone: () => boolean,
  ): Promise<boolean> {
    const records: LogRecord[] = [];
    /** The message of each record, by the record's position. */
    const sources: FetchedRecord[] = [];
    const dead: DeadLetter[] = [];
    const receivedAt = Date.now();
    for (const message of messages) {
      const { value, headers } = message.record;
      const record = value
        ? kafkaRecord(value, findRecordHeader(headers), this.opts.rules, receivedAt)
        : 'empty message';
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

  /** The original message, its key, and where it came from and why it was refused, in headers. */
  private async deadLetter(topic: string, partition: number, dead: DeadLetter[]): Promise<void> {
    if (dead.length === 0) return;
    await this.producer.send({
      messages: dead.map(({ message, reason }) => ({
        topic: this.opts.deadLetterTopic,
        key: message.record.key ?? undefined,
        value: message.record.value ?? Buffer.alloc(0),
        headers: new Map([
          [Buffer.from('lookout-reason'), Buffer.from(reason.slice(0, 1000))],
          [Buffer.from('lookout-source'), Buffer.from(`${topic}/${partition}/${message.offset}`)],
        ]),
      })),
    });
    this.opts.log.warn(
      { count: dead.length, topic: this.opts.deadLetterTopic, reason: dead[0]!.reason },
      'records that cannot be stored went to the dead-letter topic',
    );
  }
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return signal.aborted
    ? Promise.resolve()
    : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
