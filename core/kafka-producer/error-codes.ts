/** Names of the broker error codes a producer meets, as Kafka's protocol documentation gives them. */
const NAMES: Record<number, string> = {
  [-1]: 'UNKNOWN_SERVER_ERROR',
  2: 'CORRUPT_MESSAGE',
  3: 'UNKNOWN_TOPIC_OR_PARTITION',
  5: 'LEADER_NOT_AVAILABLE',
  6: 'NOT_LEADER_OR_FOLLOWER',
  7: 'REQUEST_TIMED_OUT',
  8: 'BROKER_NOT_AVAILABLE',
  9: 'REPLICA_NOT_AVAILABLE',
  10: 'MESSAGE_TOO_LARGE',
  13: 'NETWORK_EXCEPTION',
  14: 'COORDINATOR_LOAD_IN_PROGRESS',
  15: 'COORDINATOR_NOT_AVAILABLE',
  16: 'NOT_COORDINATOR',
  17: 'INVALID_TOPIC_EXCEPTION',
  18: 'RECORD_LIST_TOO_LARGE',
  19: 'NOT_ENOUGH_REPLICAS',
  20: 'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  21: 'INVALID_REQUIRED_ACKS',
  29: 'TOPIC_AUTHORIZATION_FAILED',
  31: 'CLUSTER_AUTHORIZATION_FAILED',
  32: 'INVALID_TIMESTAMP',
  33: 'UNSUPPORTED_SASL_MECHANISM',
  34: 'ILLEGAL_SASL_STATE',
  35: 'UNSUPPORTED_VERSION',
  42: 'INVALID_REQUEST',
  45: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
  46: 'DUPLICATE_SEQUENCE_NUMBER',
  47: 'INVALID_PRODUCER_EPOCH',
  56: 'KAFKA_STORAGE_ERROR',
  58: 'SASL_AUTHENTICATION_FAILED',
  59: 'UNKNOWN_PRODUCER_ID',
  74: 'FENCED_LEADER_EPOCH',
  75: 'UNKNOWN_LEADER_EPOCH',
  76: 'UNSUPPORTED_COMPRESSION_TYPE',
  87: 'INVALID_RECORD',
  89: 'THROTTLING_QUOTA_EXCEEDED',
  90: 'PRODUCER_FENCED',
};

export function errorName(code: number): string {
  return NAMES[code] ?? `error code ${code}`;
}

export const NONE = 0;
export const LEADER_NOT_AVAILABLE = 5;
export const DUPLICATE_SEQUENCE_NUMBER = 46;

/** The partition's leader moved or is being elected, or the topic is still being created: ask again where it is. */
const STALE_METADATA = new Set([3, 5, 6, 74, 75]);
/** The broker could not serve the request this time (a batch, a producer id); the same request again may pass. */
const TRANSIENT = new Set([7, 8, 9, 13, 14, 15, 16, 19, 20, 56]);
/** The broker lost track of this producer's sequence: a new producer id restarts the sequences. */
const PRODUCER_STATE = new Set([45, 47, 59, 90]);
/** The broker refused the records themselves: sending them again cannot succeed. */
const RECORD_REFUSALS = new Set([2, 10, 18, 87]);

export type ErrorClass = 'metadata' | 'transient' | 'producer' | 'records' | 'fatal';

export function classify(code: number): ErrorClass {
  if (STALE_METADATA.has(code)) return 'metadata';
  if (TRANSIENT.has(code)) return 'transient';
  if (PRODUCER_STATE.has(code)) return 'producer';
  if (RECORD_REFUSALS.has(code)) return 'records';
  return 'fatal';
}
