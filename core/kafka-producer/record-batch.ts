import { gzip } from 'node:zlib';
import { RECORD_HEADER, recordHeaderValue } from '../record/headers.ts';
import type { LogRecord } from '../record/log-record.ts';
import { crc32c } from './crc32c.ts';
import { varintSize, writeVarint, zigzag } from './varint.ts';

/**
 * Record batches, magic 2: the unit a partition's leader appends. Each log
 * record becomes one Kafka record (key, the JSON document as value, and the
 * `lookout-record` header), written straight into the batch's buffer.
 */

/** Consecutive records of one key, `records[from..to)`: a batch holds one run or several. */
export interface RecordRun {
  key: Buffer;
  records: readonly LogRecord[];
  from: number;
  to: number;
}

export type Compression = 'none' | 'gzip';

/** A batch's records, encoded (and compressed) once; the header is stamped on each send. */
export interface EncodedRecords {
  payload: Buffer;
  count: number;
  compression: Compression;
  /** Every record's CreateTime: when the batch was made. */
  timestamp: number;
}

/** Who sends a batch and where it stands in the partition's sequence, for the broker's deduplication. */
export interface ProducerStamp {
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
}

export const BATCH_HEADER_BYTES = 61;
/** From partitionLeaderEpoch on, the part of the header the batch length counts. */
const LENGTH_COUNTED_FROM = 12;
const CRC_AT = 17;
/** The CRC covers the batch from its attributes to its end. */
const CRC_FROM = 21;
const MAGIC = 2;
const ATTRIBUTES: Record<Compression, number> = { none: 0, gzip: 1 };

const HEADER_KEY = Buffer.from(RECORD_HEADER);
/** The most bytes of a record besides its key, value and header value: six varints of up to 5 bytes, three of 1. */
const RECORD_OVERHEAD = 6 * 5 + 3 + HEADER_KEY.length;
/** A header value is `<epoch ms> <id>`: at most 16 characters of time and its space. */
const HEADER_VALUE_OVERHEAD = 17;

/** An upper bound of the uncompressed size of a record, to size batches without encoding them. */
export function recordBytes(record: LogRecord, key: Buffer): number {
  return RECORD_OVERHEAD + key.length + record.doc.length + HEADER_VALUE_OVERHEAD + record.id.length * 3;
}

/** The records of the runs, one after the other, in the form a batch holds them (uncompressed). */
export function encodeRecords(runs: readonly RecordRun[]): { bytes: Buffer; count: number } {
  let bound = 0;
  for (const run of runs) {
    for (let i = run.from; i < run.to; i++) bound += recordBytes(run.records[i]!, run.key);
  }
  const out = Buffer.allocUnsafe(bound);
  let at = 0;
  let offsetDelta = 0;
  for (const run of runs) {
    const { key } = run;
    const keyFields = varintSize(zigzag(key.length)) + key.length;
    for (let i = run.from; i < run.to; i++) {
      const { id, time, doc } = run.records[i]!;
      const headerValue = recordHeaderValue(id, time);
      const headerValueLength = Buffer.byteLength(headerValue);
      const offsetField = varintSize(zigzag(offsetDelta));
      const body =
        // attributes, timestamp delta (always 0), and the one header's count
        3 +
        offsetField +
        keyFields +
        varintSize(zigzag(doc.length)) +
        doc.length +
        varintSize(zigzag(HEADER_KEY.length)) +
        HEADER_KEY.length +
        varintSize(zigzag(headerValueLength)) +
        headerValueLength;
      at = writeVarint(out, at, body);
      out[at++] = 0;
      out[at++] = 0;
      at = writeVarint(out, at, offsetDelta);
      at = writeVarint(out, at, key.length);
      at += key.copy(out, at);
      at = writeVarint(out, at, doc.length);
      at += doc.copy(out, at);
      out[at++] = 2; // one header, zigzagged
      at = writeVarint(out, at, HEADER_KEY.length);
      at += HEADER_KEY.copy(out, at);
      at = writeVarint(out, at, headerValueLength);
      at += out.write(headerValue, at);
      offsetDelta++;
    }
  }
  return { bytes: out.subarray(0, at), count: offsetDelta };
}

const gzipAsync = (input: Buffer) =>
  new Promise<Buffer>((resolve, reject) => gzip(input, (err, out) => (err ? reject(err) : resolve(out))));

/** The runs encoded and, with gzip, compressed on the thread pool. */
export async function encodeBatch(
  runs: readonly RecordRun[],
  compression: Compression,
  now: number,
): Promise<EncodedRecords> {
  const { bytes, count } = encodeRecords(runs);
  const payload = compression === 'gzip' ? await gzipAsync(bytes) : bytes;
  return { payload, count, compression, timestamp: now };
}

/** Writes the 61-byte header of `batch` at `offset`, with the producer's stamp and the CRC over header and payload. */
export function writeBatchHeader(
  target: Buffer,
  offset: number,
  batch: EncodedRecords,
  stamp: ProducerStamp,
): void {
  target.writeBigInt64BE(0n, offset);
  target.writeInt32BE(BATCH_HEADER_BYTES - LENGTH_COUNTED_FROM + batch.payload.length, offset + 8);
  target.writeInt32BE(-1, offset + 12); // partition leader epoch: the broker sets it
  target.writeInt8(MAGIC, offset + 16);
  target.writeInt16BE(ATTRIBUTES[batch.compression], offset + 21);
  target.writeInt32BE(batch.count - 1, offset + 23);
  target.writeBigInt64BE(BigInt(batch.timestamp), offset + 27);
  target.writeBigInt64BE(BigInt(batch.timestamp), offset + 35);
  target.writeBigInt64BE(stamp.producerId, offset + 43);
  target.writeInt16BE(stamp.producerEpoch, offset + 51);
  target.writeInt32BE(stamp.baseSequence, offset + 53);
  target.writeInt32BE(batch.count, offset + 57);
  const headerCrc = crc32c(target.subarray(offset + CRC_FROM, offset + BATCH_HEADER_BYTES));
  target.writeUInt32BE(crc32c(batch.payload, headerCrc), offset + CRC_AT);
}
