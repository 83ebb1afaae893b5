import { type BrokerAddress, parseBrokerAddress } from './broker-address.ts';
import type { BrokerConnection } from './connection.ts';
import type { ConnectionPool } from './connection-pool.ts';
import { LEADER_NOT_AVAILABLE, NONE } from './error-codes.ts';
import { KafkaBrokerError, KafkaConnectionError } from './errors.ts';
import { metadataRequest } from './metadata.ts';

export interface ClusterOptions {
  brokers: readonly string[];
  clientId: string;
  /** Leaders are asked again after this long even without an error, to see partitions added. */
  metadataMaxAgeMs: number;
  /** Ask brokers to create topics that do not exist yet (when the cluster allows it). */
  autoCreateTopics: boolean;
}

interface KnownTopic {
  leaders: number[];
  fetchedAt: number;
}

/** Where each topic's partitions are led, learnt from the brokers, and a connection to each broker. */
export class Cluster {
  private readonly options: ClusterOptions;
  private readonly pool: ConnectionPool;
  private readonly bootstrap: BrokerAddress[];
  private brokers = new Map<number, BrokerAddress>();
  private readonly topics = new Map<string, KnownTopic>();

  constructor(options: ClusterOptions, pool: ConnectionPool) {
    this.options = options;
    this.pool = pool;
    this.bootstrap = options.brokers.map(parseBrokerAddress);
  }

  /** The leader node of each partition of `topic`, -1 where none is elected now. */
  async leaders(topic: string): Promise<readonly number[]> {
    const known = this.topics.get(topic);
    if (known && Date.now() - known.fetchedAt < this.options.metadataMaxAgeMs) return known.leaders;
    await this.refresh([topic]);
    const leaders = this.topics.get(topic)?.leaders ?? [];
    // A topic the answer left out, or one without partitions yet, is not ready to take records.
    if (leaders.length === 0) throw new KafkaBrokerError(`metadata of topic ${topic}`, LEADER_NOT_AVAILABLE);
    return leaders;
  }

  /** Forgets what is known of these topics: their leaders are asked again on next use. */
  forget(topics: Iterable<string>): void {
    for (const topic of topics) this.topics.delete(topic);
  }

  connectionTo(node: number): Promise<BrokerConnection> {
    const address = this.brokers.get(node);
    if (!address)
      return Promise.reject(new KafkaConnectionError(`broker ${node} is not in the cluster's metadata`));
    return this.pool.get(address);
  }

  /** A connection to any broker: one already open, else the known brokers and then the configured ones in turn. */
  async anyConnection(): Promise<BrokerConnection> {
    const open = this.pool.anyOpen();
    if (open) return open;
    const errors: unknown[] = [];
    for (const address of [...this.brokers.values(), ...this.bootstrap]) {
      try {
        return await this.pool.get(address);
      } catch (err) {
        // Another broker may do; a refused login or certificate would be refused by every one.
        if (!(err instanceof KafkaConnectionError)) throw err;
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    throw new AggregateError(errors, 'no Kafka broker could be reached');
  }

  private async refresh(topics: string[]): Promise<void> {
    const connection = await this.anyConnection();
    const metadata = await connection.send(
      metadataRequest(this.options.clientId, topics, this.options.autoCreateTopics),
    );
    if (metadata.brokers.size > 0) this.brokers = metadata.brokers;
    const now = Date.now();
    for (const topic of metadata.topics) {
      if (topic.errorCode !== NONE)
        throw new KafkaBrokerError(`metadata of topic ${topic.name}`, topic.errorCode);
      this.topics.set(topic.name, { leaders: topic.leaders, fetchedAt: now });
    }
  }
}
