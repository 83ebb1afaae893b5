import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { type BackoffOptions, backoffDelay, sleep } from '../backoff.ts';
import { BufferPool } from '../buffer-pool.ts';
import type { LogRecord } from '../record/log-record.ts';
import { Cluster } from './cluster.ts';
import type { BrokerConnection } from './connection.ts';
import { ConnectionPool } from './connection-pool.ts';
import { classify, DUPLICATE_SEQUENCE_NUMBER, errorName, LEADER_NOT_AVAILABLE, NONE } from './error-codes.ts';
import { KafkaBrokerError, KafkaConnectionError } from './errors.ts';
import { initProducerIdRequest, type ProducerIdentity } from './init-producer-id.ts';
import { partitionForKey } from './murmur2.ts';
import { type PartitionResult, produceRequest } from './produce.ts';
import {
  type Compression,
  type EncodedRecords,
  encodeBatch,
  type ProducerStamp,
  type RecordRun,
  recordBytes,
} from './record-batch.ts';
import type { SaslCredentials } from './sasl.ts';

export interface ProducerOptions {
  brokers: readonly string[];
  clientId: string;
  connectTimeout: number;
  requestTimeout: number;
  tls?: TlsOptions;
  sasl?: SaslCredentials;
  compression: Compression;
  /** Uncompressed bytes of records in one batch (one partition); a larger record goes alone. */
  maxBatchBytes: number;
  /** Bytes of batches in one produce request to a broker. */
  maxRequestBytes: number;
  /** Produce requests sent to a broker before the first is answered; at most 5 keep their order. */
  maxInFlight: number;
  /** Attempts of one send after the first, for failures another attempt may overcome. */
  retries: number;
  retryBackoff: BackoffOptions;
  metadataMaxAgeMs: number;
  autoCreateTopics: boolean;
}

/** Records of one key for one topic, in order: they all go to the key's partition. */
export interface ProduceSet {
  topic: string;
  key: Buffer;
  records: readonly LogRecord[];
}

/** Records a broker refused for what they are (too large, invalid): sending them again would not help. */
export interface Refusal {
  sets: ProduceSet[];
  code: string;
  /** The broker's reason, when it gave one. */
  message?: string;
}

interface Batch {
  topic: string;
  partition: number;
  /** `topic` and `partition` as one key, for the sequence of the partition. */
  id: string;
  runs: RecordRun[];
  records: EncodedRecords;
  stamp?: ProducerStamp;
  /** The producer id the stamp was taken under; a new one restamps the batch. */
  stampedBy?: ProducerIdentity;
}

/** What one attempt left to do. */
interface Attempt {
  retry: Set<Batch>;
  refusals: Refusal[];
  /** Why the last batch failed: thrown when no attempt is left. */
  error?: unknown;
  /** A failure no attempt overcomes (a refused authorization): thrown at once. */
  fatal?: unknown;
  /** Topics whose leaders may have moved: their metadata is asked again. */
  staleTopics: Set<string>;
  /** The broker lost this producer's sequence: start again with a new producer id. */
  newProducer: boolean;
}

const MAX_SEQUENCE = 0x7fffffff;
/** Batch buffers kept between sends: a sink's read makes a few batches. */
const BATCH_BUFFERS_KEPT = 4;

/**
 * An idempotent Kafka producer of log records, with acks=all: `send`
 * resolves once every record is on all in-sync replicas or refused for
 * itself. Each partition's batches carry the producer id and consecutive
 * sequence numbers, so a batch sent again after a lost answer is not
 * written twice, and the broker refuses a batch that would skip one.
 */
export class KafkaProducer {
  private readonly options: ProducerOptions;
  private readonly pool: ConnectionPool;
  private readonly cluster: Cluster;
  private identity: ProducerIdentity | undefined;
  /** The next sequence number of each partition (`Batch.id`) under the current producer id. */
  private readonly sequences = new Map<string, number>();
  /** Sends run one after another: sequence numbers follow the order records were given in. */
  private previous: Promise<unknown> = Promise.resolve();
  /** Aborted by close(): a send under way stops at once. */
  private readonly closing = new AbortController();
  /** Buffers for encoding batches, given back when their send is over. */
  private readonly batchBuffers: BufferPool;

  constructor(options: ProducerOptions) {
    this.options = options;
    this.batchBuffers = new BufferPool(options.maxBatchBytes, BATCH_BUFFERS_KEPT);
    this.pool = new ConnectionPool(options);
    this.cluster = new Cluster(options, this.pool);
  }

  /**
   * Delivers the sets' records, each set to its key's partition in order.
   * Resolves with the records refused for themselves; throws when the others
   * could not all be delivered (some may have been: sending again may
   * duplicate them, never lose them). When `signal` aborts, the send stops
   * at once: requests in flight are cut by closing the connections.
   */
  send(sets: readonly ProduceSet[], signal?: AbortSignal): Promise<Refusal[]> {
    const stop = signal ? AbortSignal.any([signal, this.closing.signal]) : this.closing.signal;
    const run = this.previous.then(() => this.sendNow(sets, stop));
    this.previous = run.catch(() => {});
    return run;
  }

  /** Stops a send under way and closes the connections. */
  async close(): Promise<void> {
    this.closing.abort(new Error('the Kafka producer is closed'));
    await this.previous;
    this.pool.closeAll();
  }

  private async sendNow(sets: readonly ProduceSet[], stop: AbortSignal): Promise<Refusal[]> {
    const cut = () => this.pool.closeAll();
    stop.addEventListener('abort', cut, { once: true });
    const batches: Batch[] = [];
    try {
      return await this.attempts(sets, stop, batches);
    } catch (err) {
      // Batches of this send may or may not be written: their sequence numbers mean nothing to the next send.
      this.identity = undefined;
      throw err;
    } finally {
      stop.removeEventListener('abort', cut);
      // Every request of the send is answered or its connection closed (and its writes dropped) by now.
      for (const batch of batches) this.batchBuffers.give(batch.records.payload);
    }
  }

  /** `made` gets the batches once they are encoded. */
  private async attempts(sets: readonly ProduceSet[], stop: AbortSignal, made: Batch[]): Promise<Refusal[]> {
    const refusals: Refusal[] = [];
    let pending: Batch[] | undefined;
    for (let attempt = 1; ; attempt++) {
      stop.throwIfAborted();
      let outcome: Attempt;
      try {
        if (!pending) {
          pending = await this.batchesOf(sets);
          made.push(...pending);
        }
        outcome = await this.dispatch(pending, await this.producerIdentity());
      } catch (err) {
        if (!retriable(err)) throw err;
        outcome = newAttempt();
        outcome.error = err;
        for (const batch of pending ?? []) outcome.retry.add(batch);
        for (const set of sets) outcome.staleTopics.add(set.topic);
      }
      refusals.push(...outcome.refusals);
      if (outcome.fatal) throw outcome.fatal;
      if (outcome.newProducer) this.identity = undefined;
      this.cluster.forget(outcome.staleTopics);
      if (pending) {
        pending = pending.filter((batch) => outcome.retry.has(batch));
        if (pending.length === 0) return refusals;
      }
      stop.throwIfAborted();
      if (attempt > this.options.retries) throw outcome.error;
      // Cut short by an abort, which the loop's first line then reports with its reason.
      await sleep(backoffDelay(attempt - 1, this.options.retryBackoff), stop).catch(() => {});
    }
  }

  /**
   * The sets' records in batches: one partition's records in order, up to
   * maxBatchBytes each, encoded and compressed once for every attempt.
   */
  private async batchesOf(sets: readonly ProduceSet[]): Promise<Batch[]> {
    const drafts: { topic: string; partition: number; id: string; runs: RecordRun[]; bytes: number }[] = [];
    const open = new Map<string, (typeof drafts)[number]>();
    for (const { topic, key, records } of sets) {
      const partition = partitionForKey(key, (await this.cluster.leaders(topic)).length);
      const id = `${topic}\u0000${partition}`;
      let draft = open.get(id);
      let at = 0;
      while (at < records.length) {
        if (!draft) {
          draft = { topic, partition, id, runs: [], bytes: 0 };
          open.set(id, draft);
          drafts.push(draft);
        }
        const from = at;
        for (; at < records.length; at++) {
          const size = recordBytes(records[at]!, key);
          if (draft.bytes > 0 && draft.bytes + size > this.options.maxBatchBytes) break;
          draft.bytes += size;
        }
        if (at > from) draft.runs.push({ key, records, from, to: at });
        if (at < records.length) draft = undefined;
      }
    }
    const now = Date.now();
    return Promise.all(
      drafts.map(async ({ topic, partition, id, runs }) => ({
        topic,
        partition,
        id,
        runs,
        records: await encodeBatch(runs, this.options.compression, now, this.batchBuffers),
      })),
    );
  }

  private async producerIdentity(): Promise<ProducerIdentity> {
    if (this.identity) return this.identity;
    const connection = await this.cluster.anyConnection();
    this.identity = await connection.send(initProducerIdRequest(this.options.clientId));
    this.sequences.clear();
    return this.identity;
  }

  /** Sends every batch to its partition's leader, several requests in flight to each. */
  private async dispatch(batches: readonly Batch[], identity: ProducerIdentity): Promise<Attempt> {
    const outcome = newAttempt();
    const byLeader = new Map<number, Batch[]>();
    for (const batch of batches) {
      const leader = (await this.cluster.leaders(batch.topic))[batch.partition] ?? -1;
      if (leader < 0) {
        const where = `partition ${batch.partition} of topic ${batch.topic}`;
        failed(outcome, [batch], new KafkaBrokerError(where, LEADER_NOT_AVAILABLE));
        continue;
      }
      if (batch.stampedBy !== identity) {
        batch.stamp = this.nextStamp(batch, identity);
        batch.stampedBy = identity;
      }
      const list = byLeader.get(leader);
      if (list) list.push(batch);
      else byLeader.set(leader, [batch]);
    }
    await Promise.all(Array.from(byLeader, ([leader, list]) => this.sendToLeader(leader, list, outcome)));
    return outcome;
  }

  private nextStamp(batch: Batch, identity: ProducerIdentity): ProducerStamp {
    const baseSequence = this.sequences.get(batch.id) ?? 0;
    const count = batch.records.count;
    // Sequences wrap to 0 after the largest int32, as Java producers and brokers count them.
    this.sequences.set(
      batch.id,
      baseSequence > MAX_SEQUENCE - count ? count - (MAX_SEQUENCE - baseSequence) - 1 : baseSequence + count,
    );
    return { ...identity, baseSequence };
  }

  private async sendToLeader(leader: number, batches: Batch[], outcome: Attempt): Promise<void> {
    let connection: BrokerConnection;
    try {
      connection = await this.cluster.connectionTo(leader);
    } catch (err) {
      failed(outcome, batches, err);
      return;
    }
    // Requests are handed to the connection in batch order, which it keeps on the wire and the broker keeps too.
    await Promise.all(
      this.requestsOf(batches).map(async (group) => {
        const request = produceRequest(
          this.options.clientId,
          this.options.requestTimeout,
          group.map(({ topic, partition, records, stamp }) => ({ topic, partition, records, stamp: stamp! })),
        );
        try {
          settle(outcome, group, await connection.send(request));
        } catch (err) {
          failed(outcome, group, err);
        }
      }),
    );
  }

  /** Batches grouped into requests: one batch per partition in a request, as the broker wants. */
  private requestsOf(batches: readonly Batch[]): Batch[][] {
    const requests: Batch[][] = [];
    let current: Batch[] = [];
    let bytes = 0;
    for (const batch of batches) {
      const size = batch.records.payload.length;
      const full = current.length > 0 && bytes + size > this.options.maxRequestBytes;
      if (full || current.some((other) => other.id === batch.id)) {
        requests.push(current);
        current = [];
        bytes = 0;
      }
      current.push(batch);
      bytes += size;
    }
    if (current.length > 0) requests.push(current);
    return requests;
  }
}

function newAttempt(): Attempt {
  return { retry: new Set(), refusals: [], staleTopics: new Set(), newProducer: false };
}

/** Records what the leader answered for each batch of a request. */
function settle(outcome: Attempt, batches: readonly Batch[], results: readonly PartitionResult[]): void {
  for (const batch of batches) {
    const result = results.find((r) => r.partition === batch.partition && r.topic === batch.topic);
    const code = result ? result.errorCode : -1;
    if (code === NONE || code === DUPLICATE_SEQUENCE_NUMBER) continue;
    const where = `producing to partition ${batch.partition} of topic ${batch.topic}`;
    if (classify(code) === 'records') {
      outcome.refusals.push({
        sets: batch.runs.map(({ key, records, from, to }) => ({
          topic: batch.topic,
          key,
          records: records.slice(from, to),
        })),
        code: errorName(code),
        message: result?.errorMessage ?? undefined,
      });
      // The refused batch took no sequence numbers: the ones after it would leave a gap.
      outcome.newProducer = true;
      continue;
    }
    failed(outcome, [batch], new KafkaBrokerError(where, code, result?.errorMessage));
  }
}

/** Records why batches failed, and what must change before they are sent again. */
function failed(outcome: Attempt, batches: readonly Batch[], err: unknown): void {
  outcome.error = err;
  const kind = err instanceof KafkaBrokerError ? classify(err.code) : undefined;
  if (!retriable(err) && kind !== 'producer') {
    outcome.fatal ??= err;
    return;
  }
  if (kind === 'producer') outcome.newProducer = true;
  for (const batch of batches) {
    outcome.retry.add(batch);
    // A lost connection may mean the broker is gone, and its partitions led elsewhere.
    if (kind === 'metadata' || kind === undefined) outcome.staleTopics.add(batch.topic);
  }
}

function retriable(err: unknown): boolean {
  if (err instanceof KafkaConnectionError) return true;
  if (err instanceof AggregateError) return err.errors.every(retriable);
  return err instanceof KafkaBrokerError && ['metadata', 'transient'].includes(classify(err.code));
}
