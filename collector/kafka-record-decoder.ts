import Module, { createRequire } from 'node:module';

/**
 * kafkajs decodes each record's timestamp and offset through its own 64-bit
 * Long class and merges its headers with an object spread per header: at
 * full speed that was a sixth of the collector's CPU and most of its garbage.
 * This decoder reads the same record format (record batch v2, KIP-98) with
 * plain numbers, turning to BigInt only past 2^53, and returns the same
 * object. It takes the place of kafkajs's own record decoder in the module
 * cache before kafkajs is loaded, which is why kafkajs is pinned to 2.2.4
 * (its last release); collector/kafka-record-decoder.test.ts checks it
 * against kafkajs's decoder on the same bytes.
 */

/** The part of kafkajs's Decoder a record is read from. */
interface RecordBytes {
  buffer: Buffer;
  offset: number;
}

/** What kafkajs knows of the batch a record is in; its int64 fields are decimal strings. */
interface BatchContext {
  firstOffset: string;
  firstTimestamp: string;
  maxTimestamp?: string;
  timestampType?: number;
  magicByte?: number;
  isControlBatch?: boolean;
}

type HeaderValue = Buffer | null;

export interface DecodedRecord {
  magicByte: number | undefined;
  attributes: number;
  timestamp: string;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, HeaderValue | HeaderValue[]>;
  isControlRecord: boolean;
  batchContext: BatchContext;
}

const LOG_APPEND_TIME = 1;
/** Seven varint bytes carry 49 bits, safe in a double; longer ones are read as BigInt. */
const SAFE_VARLONG_BYTES = 7;

const NO_BYTES = Buffer.alloc(0);
// The record being read: module state rather than a reader object, one fewer allocation per record.
let buf: Buffer = NO_BYTES;
let pos = 0;
// Batch fields as numbers, parsed once per batch (kafkajs hands every record of a batch the same context).
let context: BatchContext | undefined;
let firstOffset = 0;
let firstTimestamp = 0;

/** A zigzag varint of up to 32 bits, with kafkajs's arithmetic. */
function varInt(): number {
  let result = 0;
  let shift = 0;
  let byte: number;
  do {
    byte = buf[pos++]!;
    result += (byte & 0x7f) << shift;
    shift += 7;
  } while (byte >= 0x80);
  return (result >>> 1) ^ -(result & 1);
}

/** A zigzag varint of up to 64 bits. */
function varLong(): number | bigint {
  const start = pos;
  let result = 0;
  let scale = 1;
  for (let i = 0; i < SAFE_VARLONG_BYTES; i++) {
    const byte = buf[pos++]!;
    result += (byte & 0x7f) * scale;
    if (byte < 0x80) return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
    scale *= 128;
  }
  pos = start;
  return bigVarLong();
}

function bigVarLong(): bigint {
  let result = 0n;
  let shift = 0n;
  let byte: number;
  do {
    if (shift > 63n) throw new Error('invalid varlong: more than 10 bytes');
    byte = buf[pos++]!;
    result |= BigInt(byte & 0x7f) << shift;
    shift += 7n;
  } while (byte >= 0x80);
  result = BigInt.asUintN(64, result);
  return BigInt.asIntN(64, (result >> 1n) ^ -(result & 1n));
}

function bytes(): Buffer | null {
  const length = varInt();
  if (length === -1) return null;
  const value = buf.subarray(pos, pos + length);
  pos += length;
  return value;
}

function text(): string | null {
  const length = varInt();
  if (length === -1) return null;
  const value = buf.toString('utf8', pos, pos + length);
  pos += length;
  return value;
}

/** An int64 field plus a delta, as a decimal string. */
function plus(base: string, baseNumber: number, delta: number | bigint): string {
  if (typeof delta === 'number' && Number.isSafeInteger(baseNumber)) {
    const sum = baseNumber + delta;
    if (Number.isSafeInteger(sum)) return String(sum);
  }
  return (BigInt(base) + BigInt(delta)).toString();
}

function addHeader(headers: DecodedRecord['headers'], key: string, value: HeaderValue): void {
  if (!Object.hasOwn(headers, key)) {
    // A header named __proto__ is a header, not the object's prototype; defineProperty is slow, so only then.
    if (key === '__proto__')
      Object.defineProperty(headers, key, { value, enumerable: true, writable: true, configurable: true });
    else headers[key] = value;
    return;
  }
  const had = headers[key]!;
  headers[key] = Array.isArray(had) ? [...had, value] : [had, value];
}

/** Reads one record, as kafkajs's record decoder does; a repeated header becomes an array of its values. */
export function decodeKafkaRecord(decoder: RecordBytes, batch: BatchContext): DecodedRecord {
  if (batch !== context) {
    context = batch;
    firstOffset = Number(batch.firstOffset);
    firstTimestamp = Number(batch.firstTimestamp);
  }
  buf = decoder.buffer;
  pos = decoder.offset;
  const attributes = buf.readInt8(pos++);
  const timestampDelta = varLong();
  const timestamp =
    batch.timestampType === LOG_APPEND_TIME && batch.maxTimestamp
      ? batch.maxTimestamp
      : plus(batch.firstTimestamp, firstTimestamp, timestampDelta);
  const offset = plus(batch.firstOffset, firstOffset, varInt());
  const key = bytes();
  const value = bytes();
  const headers: DecodedRecord['headers'] = {};
  for (let count = varInt(); count > 0; count--) {
    const name = text();
    addHeader(headers, String(name), bytes());
  }
  decoder.offset = pos;
  // The record's bytes belong to the fetch response: not kept past the record.
  buf = NO_BYTES;
  return {
    magicByte: batch.magicByte,
    attributes,
    timestamp,
    offset,
    key,
    value,
    headers,
    isControlRecord: batch.isControlBatch ?? false,
    batchContext: batch,
  };
}

const require = createRequire(import.meta.url);
export const KAFKAJS_RECORD_DECODER = require.resolve(
  'kafkajs/src/protocol/recordBatch/record/v0/decoder.js',
);
const KAFKAJS_BATCH_DECODER = require.resolve('kafkajs/src/protocol/recordBatch/v0/decoder.js');

/**
 * Puts decodeKafkaRecord in kafkajs's place; must run before kafkajs is
 * loaded. False when kafkajs was loaded first and keeps its own decoder.
 */
export function installRecordDecoder(): boolean {
  const cached = require.cache[KAFKAJS_RECORD_DECODER];
  if (cached) return cached.exports === decodeKafkaRecord;
  if (require.cache[KAFKAJS_BATCH_DECODER]) return false;
  const module = new Module(KAFKAJS_RECORD_DECODER);
  module.filename = KAFKAJS_RECORD_DECODER;
  module.exports = decodeKafkaRecord;
  module.loaded = true;
  require.cache[KAFKAJS_RECORD_DECODER] = module;
  return true;
}
