import { Admin, ConnectionPool, Consumer, ProduceAcks, Producer } from '@platformatic/kafka';
import { type KafkaConnection, kafkaClientOptions } from '../../core/kafka-config.ts';

/**
 * Compressed bytes a partition's fetch brings, some 20,000 gzip-compressed
 * records: larger fetches only keep more decoded records alive at once.
 */
export const FETCH_BYTES_PER_PARTITION = 1024 * 1024;

/**
 * A member of the consumer group; offsets are committed by the collector
 * only. Heartbeats run on the client's own timer, whatever the store does,
 * so a member holding its partitions through a store outage stays in the
 * group.
 */
export function createConsumer(connection: KafkaConnection, groupId: string): Consumer {
  return new Consumer({
    ...kafkaClientOptions(connection),
    // A rebalance makes every member rejoin; a few more tries than the short default spare a full restart.
    retries: 5,
    retryDelay: 500,
    groupId,
    autocommit: false,
    // A named topic that does not exist yet is created, as producers create theirs.
    autocreateTopics: true,
    // A killed member's partitions move to the others after this long.
    sessionTimeout: 10_000,
    heartbeatInterval: 3_000,
    // How long the group waits for every member to rejoin; below the request timeout a join waits within.
    rebalanceTimeout: 20_000,
  });
}

/** The producer of the dead-letter topic: a record counts as handled once every replica has it. */
export function createDeadLetterProducer(connection: KafkaConnection): Producer {
  return new Producer({ ...kafkaClientOptions(connection), acks: ProduceAcks.ALL, autocreateTopics: true });
}

/** The names of the cluster's topics, for the topic patterns. */
export async function listTopics(connection: KafkaConnection): Promise<string[]> {
  const admin = new Admin(kafkaClientOptions(connection));
  try {
    return await admin.listTopics();
  } finally {
    await admin.close().catch(() => {});
  }
}

/**
 * Connections for fetches alone. A broker answers the requests of one
 * connection in order, and a fetch that finds nothing new waits there: on the
 * client's own connections it held up commits and heartbeats behind it, and
 * the collector spent most of its time waiting for commits.
 */
export function createFetchConnections(connection: KafkaConnection): ConnectionPool {
  return new ConnectionPool(connection.clientId, kafkaClientOptions(connection));
}
