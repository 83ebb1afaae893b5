import { APIS, type KafkaRequest, request } from './apis.ts';
import {
  BATCH_HEADER_BYTES,
  type EncodedRecords,
  type ProducerStamp,
  writeBatchHeader,
} from './record-batch.ts';

/** One partition's batch in a produce request. */
export interface PartitionBatch {
  topic: string;
  partition: number;
  records: EncodedRecords;
  stamp: ProducerStamp;
}

/** The leader's answer for one partition's batch. */
export interface PartitionResult {
  topic: string;
  partition: number;
  errorCode: number;
  /** The broker's explanation, when it gives one (record refusals do). */
  errorMessage: string | null;
}

/** acks=-1: the leader answers once every in-sync replica has the batch. */
const ACKS_ALL = -1;

/**
 * Produce v8, one batch per partition (the broker takes no more). The
 * batches' records are attached, not copied: only their headers and the
 * framing are written here.
 */
export function produceRequest(
  clientId: string,
  timeoutMs: number,
  batches: readonly PartitionBatch[],
): KafkaRequest<PartitionResult[]> {
  const byTopic = Map.groupBy(batches, (batch) => batch.topic);
  let framing = 64;
  for (const topic of byTopic.keys()) framing += 8 + Buffer.byteLength(topic) * 3;
  framing += batches.length * (8 + BATCH_HEADER_BYTES);
  return request(
    APIS.produce,
    clientId,
    (writer) => {
      writer.nullString(null); // no transactional id
      writer.int16(ACKS_ALL);
      writer.int32(timeoutMs);
      writer.int32(byTopic.size);
      for (const [topic, partitions] of byTopic) {
        writer.string(topic);
        writer.int32(partitions.length);
        for (const { partition, records, stamp } of partitions) {
          writer.int32(partition);
          writer.int32(BATCH_HEADER_BYTES + records.payload.length);
          const { buffer, offset } = writer.claim(BATCH_HEADER_BYTES);
          writeBatchHeader(buffer, offset, records, stamp);
          writer.attach(records.payload);
        }
      }
    },
    (reader) => {
      const results: PartitionResult[] = [];
      reader.array((r) => {
        const topic = r.string();
        r.array((p) => {
          const partition = p.int32();
          const errorCode = p.int16();
          p.skip(24); // base offset, log append time, log start offset
          p.array((e) => e.skip(4).nullString()); // per-record errors: the batch's message names the first
          results.push({ topic, partition, errorCode, errorMessage: p.nullString() });
        });
      });
      return results;
    },
    framing,
  );
}
