import { MAX_TIME_DIGITS, readEpochMs } from './record-line.ts';

/**
 * The Kafka header the sidecar puts on each record: its `@timestamp` (epoch
 * ms) and its `event.id`, as `<ms> <id>`. It is what a consumer needs to
 * route a record to its daily index without parsing the JSON; the JSON stays
 * the truth. One header rather than one per field: the consumer decodes a
 * key, a value and a lookup per header of every record.
 */
export const RECORD_HEADER = 'lookout-record';

/** The header's key as bytes, made once: the producer writes it on every record, the consumer looks for it. */
const RECORD_KEY = Buffer.from(RECORD_HEADER);
const SPACE = 0x20;

export function recordHeaderValue(id: string, time: number): string {
  return `${time} ${id}`;
}

export function recordHeaders(id: string, time: number): Map<Buffer, Buffer> {
  return new Map([[RECORD_KEY, Buffer.from(recordHeaderValue(id, time))]]);
}

/**
 * The value of a consumed record's `lookout-record` header, keys and values
 * as bytes; a header sent twice counts once, the first.
 */
export function findRecordHeader(
  headers: readonly (readonly [Buffer | null, Buffer | null])[],
): Buffer | undefined {
  for (const [key, value] of headers) {
    if (key?.length === RECORD_KEY.length && key.equals(RECORD_KEY)) return value ?? undefined;
  }
  return undefined;
}

/**
 * The time and id of a `lookout-record` header, read from its bytes without
 * first making a string of them; undefined when it is not `<digits> <id>`.
 * The id is not checked here: each store has its own rules for ids.
 */
export function readRecordHeader(value: Buffer): { time: number; id: string } | undefined {
  // A scan for the space: Buffer#indexOf costs more than the loop on a short header.
  const limit = Math.min(value.length, MAX_TIME_DIGITS + 1);
  let space = 0;
  while (space < limit && value[space] !== SPACE) space++;
  const time = readEpochMs(value, 0, space);
  if (time === undefined || space >= value.length - 1) return undefined;
  // The id is ASCII when it is valid; latin1 keeps a bad one as visibly bad for the check.
  return { time, id: value.toString('latin1', space + 1) };
}
