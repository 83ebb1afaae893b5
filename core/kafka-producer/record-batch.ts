import { gzip } from 'node:zlib';
import type { BufferPool } from '../buffer-pool.ts';
import { RECORD_HEADER, recordHeaderValue } from '../record/headers.ts';
import type { LogRecord } from '../record/log-record.ts';
import { docLength, RecordLine } from '../record/record-line.ts';
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
  const value =
    record instanceof RecordLine ? record.timeAndIdLength : HEADER_VALUE_OVERHEAD + record.id.length * 3;
  return RECORD_OVERHEAD + key.length + docLength(record) + value;
}

/** After a record's value: its one header (count 1, zigzagged) and the header's key, the same on every record. */
const HEADER_FIELDS = (() => {
  const fields = Buffer.alloc(1 + varintSize(zigzag(HEADER_KEY.length)) + HEADER_KEY.length);
  fields[0] = 2;
  fields.set(HEADER_KEY, writeVarint(fields, 1, HEADER_KEY.length));
  return fields;
})();
const SPACE = 0x20;
const DIGIT_0 = 0x30;

/**
 * The records of the runs, one after the other, in the form a batch holds them (uncompressed);
 * in a buffer of `buffers` when they fit one.
 */
export function encodeRecords(
  runs: readonly RecordRun[],
  buffers?: BufferPool,
): { bytes: Buffer; count: number } {
  let bound = 0;
  for (const run of runs) {
    for (let i = run.from; i < run.to; i++) bound += recordBytes(run.records[i]!, run.key);
  }
  const out = buffers && bound <= buffers.size ? buffers.take() : Buffer.allocUnsafe(bound);
  let at = 0;
  let offsetDelta = 0;
  for (const run of runs) {
    const keyField = Buffer.allocUnsafe(varintSize(zigzag(run.key.length)) + run.key.length);
    keyField.set(run.key, writeVarint(keyField, 0, run.key.length));
    for (let i = run.from; i < run.to; i++) {
      const record = run.records[i]!;
      const valueLength = headerValueLength(record);
      const docBytes = docLength(record);
      const body =
        // attributes and timestamp delta, both 0
        2 +
        varintSize(zigzag(offsetDelta)) +
        keyField.length +
        varintSize(zigzag(docBytes)) +
        docBytes +
        HEADER_FIELDS.length +
        varintSize(zigzag(valueLength)) +
        valueLength;
      at = writeVarint(out, at, body);
      out[at++] = 0;
      out[at++] = 0;
      at = writeVarint(out, at, offsetDelta);
      out.set(keyField, at);
      at = writeVarint(out, at + keyField.length, docBytes);
      if (record instanceof RecordLine) {
        at = record.writeDoc(out, at);
      } else {
        out.set(record.doc, at);
        at += docBytes;
      }
      out.set(HEADER_FIELDS, at);
      at = writeVarint(out, at + HEADER_FIELDS.length, valueLength);
      at = writeHeaderValue(out, at, record);
      offsetDelta++;
    }
  }
  return { bytes: out.subarray(0, at), count: offsetDelta };
}

/**
 * The `lookout-record` header's value is `recordHeaderValue(id, time)`; for
 * the usual time (whole epoch ms) its digits are written here directly, which
 * spares a string per record.
 */
function isPlainTime(time: number): boolean {
  return Number.isSafeInteger(time) && time >= 0;
}

const POWERS_OF_TEN = Array.from({ length: 16 }, (_, i) => 10 ** (i + 1));

function decimalDigits(value: number): number {
  let digits = 1;
  while (digits < POWERS_OF_TEN.length && value >= POWERS_OF_TEN[digits - 1]!) digits++;
  return digits;
}

/** The last `count` decimal digits of `value` (below 2^31, so small-integer arithmetic), ending before `end`. */
function writeDigits(out: Buffer, end: number, value: number, count: number): void {
  let rest = value;
  for (let i = 1; i <= count; i++) {
    const digit = rest % 10;
    out[end - i] = DIGIT_0 + digit;
    rest = (rest - digit) / 10;
  }
}

function headerValueLength(record: LogRecord): number {
  if (record instanceof RecordLine) return record.timeAndIdLength;
  const { id, time } = record;
  if (!isPlainTime(time)) return Buffer.byteLength(recordHeaderValue(id, time));
  return decimalDigits(time) + 1 + Buffer.byteLength(id);
}

function writeHeaderValue(out: Buffer, offset: number, record: LogRecord): number {
  if (record instanceof RecordLine) return record.writeTimeAndId(out, offset);
  const { id, time } = record;
  if (!isPlainTime(time)) return offset + out.write(recordHeaderValue(id, time), offset);
  const digits = decimalDigits(time);
  // Epoch milliseconds pass 2^31: written as two halves of up to eight digits.
  const low = time % 1e8;
  const end = offset + digits;
  if (digits > 8) {
    writeDigits(out, end, low, 8);
    writeDigits(out, end - 8, (time - low) / 1e8, digits - 8);
  } else {
    writeDigits(out, end, low, digits);
  }
  out[end] = SPACE;
  return end + 1 + out.write(id, end + 1);
}

const gzipAsync = (input: Buffer) =>
  new Promise<Buffer>((resolve, reject) => gzip(input, (err, out) => (err ? reject(err) : resolve(out))));

/**
 * The runs encoded and, with gzip, compressed on the thread pool. Uncompressed records
 * are encoded into a buffer of `buffers` when they fit: the caller gives it back once
 * the batch is sent (see BufferPool).
 */
export async function encodeBatch(
  runs: readonly RecordRun[],
  compression: Compression,
  now: number,
  buffers?: BufferPool,
): Promise<EncodedRecords> {
  const { bytes, count } = encodeRecords(runs, buffers);
  let payload = bytes;
  if (compression === 'gzip') {
    payload = await gzipAsync(bytes);
    buffers?.give(bytes);
  }
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
