import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fdatasyncSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { isNotFound, writeFileAtomic } from '../../core/atomic-file.ts';
import { encodeFrames, FRAME_HEADER, scanFrames } from '../../core/frames.ts';
import type { Logger } from '../../core/log.ts';
import type { ReportedResult } from '../probes/agent-protocol.ts';

const SEGMENT_FILE = /^(\d{20})\.seg$/;
const CURSOR_FILE = 'cursor.json';

/**
 * The agent's id and the last sequence number the centre accepted, in one
 * file: losing one without the other would let new results reuse numbers
 * the centre has seen, and be taken for duplicates.
 */
const cursorSchema = z.object({ agent: z.string().min(1), acked: z.number().int().nonnegative() });

interface Segment {
  file: string;
  firstSeq: number;
  lastSeq: number;
  bytes: number;
}

interface Position {
  segment: Segment;
  offset: number;
  afterSeq: number;
}

export interface ResultsBufferOptions {
  dir: string;
  /** Beyond this many bytes on disk the oldest results are dropped. */
  maxBytes: number;
  /** Written results are fsynced at most this long later. */
  fsyncIntervalMs: number;
  log: Logger;
  now: () => number;
}

const seqOf = (buf: Buffer, start: number, length: number) =>
  (JSON.parse(buf.toString('utf8', start + FRAME_HEADER, start + FRAME_HEADER + length)) as ReportedResult)
    .seq;

/**
 * A probe agent's results until the centre accepted them: numbered (`seq`,
 * rising by one, never reused), appended to segment files of checksummed
 * frames, and forgotten once acknowledged. Bounded: when the files would
 * take more than `maxBytes`, the oldest segment is dropped and its results
 * counted as dropped (the centre sees the gap as lost results). A killed
 * process loses nothing written; a torn last frame is cut at open.
 */
export class ResultsBuffer {
  readonly agent: string;
  private readonly options: ResultsBufferOptions;
  private readonly segmentBytes: number;
  private readonly segments: Segment[];
  private acked: number;
  /** Results at or below it are acknowledged or dropped. */
  private floor: number;
  private nextSeq: number;
  private active: { fd: number; segment: Segment } | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private droppedCount = 0;
  /** Just past the last result `peek` handed out, and where the next peek starts once it is acknowledged. */
  private peeked: Position | undefined;
  private resume: Position | undefined;

  private constructor(options: ResultsBufferOptions, agent: string, acked: number, segments: Segment[]) {
    this.options = options;
    this.agent = agent;
    this.acked = acked;
    this.segments = segments;
    this.segmentBytes = Math.max(16 * 1024, Math.floor(options.maxBytes / 16));
    this.floor = Math.max(acked, (segments[0]?.firstSeq ?? acked + 1) - 1);
    this.nextSeq = Math.max(acked, segments.at(-1)?.lastSeq ?? 0) + 1;
  }

  /** Opens the buffer in `dir`, recovering what the last process left; a new directory gets a new agent id. */
  static async open(options: ResultsBufferOptions): Promise<ResultsBuffer> {
    await mkdir(options.dir, { recursive: true });
    const cursor = readCursor(join(options.dir, CURSOR_FILE), options.log);
    const agent = cursor?.agent ?? randomBytes(8).toString('hex');
    const acked = cursor?.acked ?? 0;
    const buffer = new ResultsBuffer(options, agent, acked, recoverSegments(options.dir, acked, options.log));
    if (!cursor) await buffer.saveCursor();
    return buffer;
  }

  /** Results not yet accepted by the centre. */
  get pending(): number {
    return this.nextSeq - 1 - this.floor;
  }

  get bytes(): number {
    return this.segments.reduce((sum, segment) => sum + segment.bytes, 0);
  }

  /** Results dropped for space since the buffer was opened. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Numbers a result and writes it; the oldest results go when the buffer is full. */
  append(make: (seq: number) => ReportedResult): void {
    const seq = this.nextSeq++;
    const frame = encodeFrames([Buffer.from(JSON.stringify(make(seq)))], this.options.now());
    if (!this.active || this.active.segment.bytes + frame.length > this.segmentBytes) this.startSegment(seq);
    const { fd, segment } = this.active!;
    writeSync(fd, frame);
    segment.bytes += frame.length;
    segment.lastSeq = seq;
    this.scheduleSync();
    while (this.bytes > this.options.maxBytes && this.segments.length > 1) this.dropOldest();
  }

  /** The oldest results not yet accepted, at most `max`, in order. */
  peek(max: number): ReportedResult[] {
    const found: ReportedResult[] = [];
    this.peeked = undefined;
    for (const segment of this.segments) {
      if (segment.lastSeq <= this.floor) continue;
      // Where the last acknowledged batch ended: the frames before it need not be read again.
      const from =
        this.resume?.segment === segment && this.resume.afterSeq <= this.floor ? this.resume.offset : 0;
      const buf = readFrom(segment.file, from, segment.bytes - from);
      scanFrames(buf, (start, length) => {
        const result = JSON.parse(
          buf.toString('utf8', start + FRAME_HEADER, start + FRAME_HEADER + length),
        ) as ReportedResult;
        if (result.seq > this.floor) {
          found.push(result);
          this.peeked = { segment, offset: from + start + FRAME_HEADER + length, afterSeq: result.seq };
        }
        return found.length < max;
      });
      if (found.length >= max) break;
    }
    return found;
  }

  /** The centre accepted every result up to `seq`: kept so, and their segments deleted. */
  async ack(seq: number): Promise<void> {
    if (seq <= this.acked) return;
    this.acked = seq;
    if (this.peeked?.afterSeq === seq) this.resume = this.peeked;
    this.floor = Math.max(this.floor, seq);
    await this.saveCursor();
    while (this.segments[0] && this.segments[0].lastSeq <= this.floor) this.removeOldest();
  }

  /** Makes what was written durable and closes the file. */
  close(): void {
    clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    if (!this.active) return;
    fdatasyncSync(this.active.fd);
    closeSync(this.active.fd);
    this.active = undefined;
  }

  private startSegment(seq: number): void {
    if (this.active) {
      fdatasyncSync(this.active.fd);
      closeSync(this.active.fd);
    }
    const segment: Segment = {
      file: join(this.options.dir, `${String(seq).padStart(20, '0')}.seg`),
      firstSeq: seq,
      lastSeq: seq - 1,
      bytes: 0,
    };
    this.segments.push(segment);
    this.active = { fd: openSync(segment.file, 'a'), segment };
  }

  private scheduleSync(): void {
    this.syncTimer ??= setTimeout(() => {
      this.syncTimer = undefined;
      if (this.active) fdatasyncSync(this.active.fd);
    }, this.options.fsyncIntervalMs).unref();
  }

  private dropOldest(): void {
    const segment = this.segments[0]!;
    const dropped = segment.lastSeq - Math.max(this.floor, segment.firstSeq - 1);
    this.droppedCount += Math.max(0, dropped);
    this.floor = Math.max(this.floor, segment.lastSeq);
    this.options.log.warn(
      { dropped, maxBytes: this.options.maxBytes },
      'The probe results buffer is full; the oldest results were dropped',
    );
    this.removeOldest();
  }

  private removeOldest(): void {
    const segment = this.segments.shift()!;
    if (this.active?.segment === segment) {
      closeSync(this.active.fd);
      this.active = undefined;
    }
    try {
      unlinkSync(segment.file);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private saveCursor(): Promise<void> {
    const text = JSON.stringify({ agent: this.agent, acked: this.acked });
    return writeFileAtomic(join(this.options.dir, CURSOR_FILE), text);
  }
}

/** `length` bytes of `file` from `offset` (a frame boundary). */
function readFrom(file: string, offset: number, length: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(Math.max(0, length));
    const read = readSync(fd, buf, 0, buf.length, offset);
    return buf.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

function readCursor(file: string, log: Logger): z.infer<typeof cursorSchema> | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = cursorSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  // Without it the numbers could be reused: the agent starts over as a new agent, its old results go.
  log.error({ file }, 'The probe agent cursor is not understood; starting as a new agent');
  return undefined;
}

/** The segments on disk with results above `acked`, a torn last frame cut; the others are deleted. */
function recoverSegments(dir: string, acked: number, log: Logger): Segment[] {
  const segments: Segment[] = [];
  const files = readdirSync(dir)
    .filter((name) => SEGMENT_FILE.test(name))
    .sort();
  for (const name of files) {
    const file = join(dir, name);
    const buf = readFileSync(file);
    const starts: [number, number][] = [];
    const scan = scanFrames(buf, (start, length) => {
      starts.push([start, length]);
      return true;
    });
    if (scan.end < buf.length) {
      log.warn({ file, bytes: buf.length - scan.end }, 'A torn probe result was cut from the buffer');
      const fd = openSync(file, 'r+');
      ftruncateSync(fd, scan.end);
      closeSync(fd);
    }
    const first = starts[0];
    const last = starts.at(-1);
    const lastSeq = last ? seqOf(buf, ...last) : 0;
    if (!first || lastSeq <= acked) {
      unlinkSync(file);
      continue;
    }
    segments.push({ file, firstSeq: seqOf(buf, ...first), lastSeq, bytes: scan.end });
  }
  return segments;
}
