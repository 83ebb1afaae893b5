import type { LogRecord } from './log-record.ts';

const TAB = 0x09;
const SPACE = 0x20;
const DIGIT_0 = 0x30;
/** Epoch milliseconds stay below 2^53 with up to 15 digits. */
export const MAX_TIME_DIGITS = 15;

/** Whole epoch milliseconds written as plain digits in `bytes[from, to)`; undefined for anything else or more than 15 digits. */
export function readEpochMs(bytes: Uint8Array, from: number, to: number): number | undefined {
  if (to <= from || to - from > MAX_TIME_DIGITS) return undefined;
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = bytes[i]! - DIGIT_0;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return value;
}

/** Index of the first tab in `bytes[from, to)`, or -1. Ids and times are short: a loop beats a native call. */
function tabIn(bytes: Buffer, from: number, to: number): number {
  for (let i = from; i < to; i++) if (bytes[i] === TAB) return i;
  return -1;
}

/**
 * A log record read in place from a line that holds it as `id \t time \t json`
 * (a sidecar queue payload's entry). The id string and the document's view are
 * made only when asked for: the Kafka producer copies the line's bytes as they
 * are, so on its way to Kafka a record costs one small object instead of three.
 */
export class RecordLine implements LogRecord {
  readonly time: number;
  private readonly bytes: Buffer;
  private readonly start: number;
  private readonly idEnd: number;
  private readonly timeEnd: number;
  private readonly end: number;
  private idText: string | undefined;
  private docView: Buffer | undefined;

  private constructor(
    bytes: Buffer,
    start: number,
    idEnd: number,
    timeEnd: number,
    end: number,
    time: number,
  ) {
    this.bytes = bytes;
    this.start = start;
    this.idEnd = idEnd;
    this.timeEnd = timeEnd;
    this.end = end;
    this.time = time;
  }

  /** The record on `bytes[start, end)`, or undefined when that is not `id \t time \t json` with a finite time. */
  static read(bytes: Buffer, start: number, end: number): RecordLine | undefined {
    const idEnd = tabIn(bytes, start, end);
    if (idEnd < 0) return undefined;
    const timeEnd = tabIn(bytes, idEnd + 1, end);
    if (timeEnd <= idEnd + 1) return undefined;
    // The time is written with String(ms): nearly always plain digits, read here without making a string.
    const time =
      readEpochMs(bytes, idEnd + 1, timeEnd) ?? Number(bytes.toString('latin1', idEnd + 1, timeEnd));
    return Number.isFinite(time) ? new RecordLine(bytes, start, idEnd, timeEnd, end, time) : undefined;
  }

  get id(): string {
    // Ids are ASCII; latin1 keeps any other byte one character, so a bad id stays visibly bad.
    this.idText ??= this.bytes.toString('latin1', this.start, this.idEnd);
    return this.idText;
  }

  get doc(): Buffer {
    this.docView ??= this.bytes.subarray(this.timeEnd + 1, this.end);
    return this.docView;
  }

  get docLength(): number {
    return this.end - this.timeEnd - 1;
  }

  /** Writes the document at `at` of `out`; returns the offset after it. */
  writeDoc(out: Buffer, at: number): number {
    return at + this.bytes.copy(out, at, this.timeEnd + 1, this.end);
  }

  /** Bytes of `recordHeaderValue(id, time)`, `<time> <id>`, which the line holds as text already. */
  get timeAndIdLength(): number {
    return this.timeEnd - this.start;
  }

  /** Writes `<time> <id>` at `at` of `out`, copied from the line; returns the offset after it. */
  writeTimeAndId(out: Buffer, at: number): number {
    const { bytes, start, idEnd, timeEnd } = this;
    let to = at;
    for (let i = idEnd + 1; i < timeEnd; i++) out[to++] = bytes[i]!;
    out[to++] = SPACE;
    for (let i = start; i < idEnd; i++) out[to++] = bytes[i]!;
    return to;
  }
}

/** A record's document length, without making a view of a record line's document. */
export function docLength(record: LogRecord): number {
  return record instanceof RecordLine ? record.docLength : record.doc.length;
}
