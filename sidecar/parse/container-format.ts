import { z } from 'zod';
import { byteSize, duration } from '../../core/config-types.ts';
import type { Joiner, LogEvent, RawLine } from '../types.ts';
import { Lanes, NONE } from './held.ts';
import { parseIsoToken } from './timestamp.ts';

export const CONTAINER_FORMATS = ['auto', 'cri', 'docker', 'none'] as const;
export type ContainerFormat = (typeof CONTAINER_FORMATS)[number];

export const containerFormatSchema = z.strictObject({
  /** cri (containerd, CRI-O), docker (json-file driver), none (plain lines), auto (per file, from its first line). */
  format: z.enum(CONTAINER_FORMATS).default('auto'),
  /** Largest message partial lines are joined into; the rest is cut and the event flagged truncated. */
  maxBytes: byteSize().default(1024 * 1024),
  /** How long the start of a split line waits for its end before it is sent alone. */
  timeout: duration().default(5_000),
});
export type ContainerFormatConfig = z.output<typeof containerFormatSchema>;

/** An event with every property present, in one order, so the hot path sees one object shape. */
export function newEvent(
  message: string,
  raw: RawLine,
  time: number | undefined,
  stream: string | undefined,
  parseError: string | undefined,
): LogEvent {
  return {
    message,
    offset: raw.offset,
    end: raw.end,
    truncated: raw.truncated,
    readAt: raw.readAt,
    receivedAt: raw.receivedAt,
    time,
    futureTime: undefined,
    level: undefined,
    stream,
    fields: undefined,
    parseError,
  };
}

/** What a decoder found in one line; reused for every line rather than allocated. */
const line = { message: '', stream: '', time: Number.NaN, partial: false };

/** `2024-01-02T03:04:05.123456789Z stdout F message`: CRI's format; `P` marks the part of a split line. */
function decodeCri(text: string): boolean {
  const timeEnd = text.indexOf(' ');
  if (timeEnd < 20) return false;
  const time = parseIsoToken(text, 0, timeEnd);
  if (Number.isNaN(time)) return false;
  let stream: string;
  if (text.startsWith('stdout ', timeEnd + 1)) stream = 'stdout';
  else if (text.startsWith('stderr ', timeEnd + 1)) stream = 'stderr';
  else return false;
  const tagAt = timeEnd + 8;
  const tag = text.charCodeAt(tagAt);
  const afterTag = text.charCodeAt(tagAt + 1);
  // Tags are ':'-separated; only the first (F full, P partial) means anything today.
  if ((tag !== 70 && tag !== 80) || !(afterTag === 32 || afterTag === 58 || tagAt + 1 === text.length)) {
    return false;
  }
  const messageAt = text.indexOf(' ', tagAt);
  line.message = messageAt < 0 ? '' : text.slice(messageAt + 1);
  line.stream = stream;
  line.time = time;
  line.partial = tag === 80;
  return true;
}

/** `{"log":"message\n","stream":"stdout","time":"…"}`: Docker's json-file; a log without "\n" is a split line. */
function decodeDocker(text: string): boolean {
  if (text.charCodeAt(0) !== 123) return false;
  let value: { log?: unknown; stream?: unknown; time?: unknown };
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  if (value === null || typeof value !== 'object' || typeof value.log !== 'string') return false;
  const log = value.log;
  line.partial = !log.endsWith('\n');
  line.message = line.partial ? log : log.slice(0, -1);
  line.stream = typeof value.stream === 'string' ? value.stream : '';
  line.time = typeof value.time === 'string' ? parseIsoToken(value.time, 0, value.time.length) : Number.NaN;
  return true;
}

/**
 * Decodes container runtime log lines into events and joins split lines
 * (CRI `P` parts, Docker lines without "\n") into one event that keeps the
 * offset and time of its first part. A line that does not fit the format is
 * kept whole as the message, with parseError set.
 */
export class ContainerJoiner implements Joiner<RawLine, LogEvent> {
  private format: ContainerFormat;
  private readonly timeout: number;
  private readonly lanes: Lanes;

  constructor(config: ContainerFormatConfig) {
    this.format = config.format;
    this.timeout = config.timeout;
    this.lanes = new Lanes(config.maxBytes);
  }

  /** The format in use; `auto` until the first line decided it. */
  get detected(): ContainerFormat {
    return this.format;
  }

  push(raw: RawLine): LogEvent[] {
    if (this.format === 'auto')
      this.format = decodeCri(raw.text) ? 'cri' : decodeDocker(raw.text) ? 'docker' : 'none';
    if (this.format === 'none') return [newEvent(raw.text, raw, undefined, undefined, undefined)];
    const ok = this.format === 'cri' ? decodeCri(raw.text) : decodeDocker(raw.text);
    if (!ok) return [newEvent(raw.text, raw, undefined, undefined, `${this.format}: malformed line`)];
    const stream = line.stream || undefined;
    const lane = this.lanes.get(stream);
    if (lane.event) {
      lane.add('', line.message, raw);
      return line.partial ? NONE : [lane.finish()];
    }
    const event = newEvent(
      line.message,
      raw,
      Number.isNaN(line.time) ? undefined : line.time,
      stream,
      undefined,
    );
    if (!line.partial) return [event];
    lane.start(event);
    return NONE;
  }

  flush(now: number, force = false): LogEvent[] {
    return this.lanes.flush(now, this.timeout, force);
  }

  pendingOffset(): number | undefined {
    return this.lanes.pendingOffset();
  }
}
