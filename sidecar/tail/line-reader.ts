import type { FileHandle } from 'node:fs/promises';
import { utf8Boundary } from '../../core/utf8.ts';
import type { RawLine } from '../types.ts';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

export interface LineReaderOptions {
  maxLineBytes: number;
  chunkBytes: number;
}

/**
 * Reads a file from an offset and splits it into lines. Lines longer than the
 * limit keep their first maxLineBytes (cut on a character boundary) and are
 * flagged; the rest is skipped without being held in memory. Bytes after the
 * last newline are held until the line completes or `takePartial` is called.
 */
export class LineReader {
  /** Next byte to read from the file. */
  position: number;
  private readonly options: LineReaderOptions;
  private readonly chunk: Buffer;
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Length of the held line including bytes skipped for being over the limit. */
  private heldTotal = 0;
  private heldStart: number;
  /** When the held partial line last grew; the idle timeout counts from here. */
  heldSince = 0;

  constructor(position: number, options: LineReaderOptions) {
    this.position = position;
    this.heldStart = position;
    this.options = options;
    this.chunk = Buffer.allocUnsafe(options.chunkBytes);
  }

  /** First byte not yet returned as part of a line: the resume point. */
  get consumed(): number {
    return this.heldTotal > 0 ? this.heldStart : this.position;
  }

  get hasPartial(): boolean {
    return this.heldTotal > 0;
  }

  /** Restarts at an offset (copytruncate), dropping what was held. */
  reset(position: number): void {
    this.position = position;
    this.held = [];
    this.heldBytes = 0;
    this.heldTotal = 0;
    this.heldStart = position;
  }

  /** Reads one chunk; returns the complete lines in it and how many bytes were read (0 at end of file). */
  async read(fd: FileHandle, now: number, out: RawLine[]): Promise<number> {
    const { bytesRead } = await fd.read(this.chunk, 0, this.chunk.length, this.position);
    if (bytesRead === 0) return 0;
    const chunkStart = this.position;
    this.position += bytesRead;
    let lineStart = 0;
    for (;;) {
      const nl = this.chunk.indexOf(NEWLINE, lineStart);
      if (nl === -1 || nl >= bytesRead) break;
      const end = chunkStart + nl + 1;
      if (this.heldTotal === 0) {
        out.push(this.line(this.chunk, lineStart, nl, chunkStart + lineStart, end, now));
      } else {
        this.hold(this.chunk, lineStart, nl);
        out.push(this.releaseHeld(end, now));
      }
      lineStart = nl + 1;
    }
    if (lineStart < bytesRead) {
      if (this.heldTotal === 0) this.heldStart = chunkStart + lineStart;
      this.hold(this.chunk, lineStart, bytesRead);
      this.heldSince = now;
    }
    return bytesRead;
  }

  /** Emits the held partial line as a line of its own (after the idle timeout, or at a file's end). */
  takePartial(now: number): RawLine | undefined {
    if (this.heldTotal === 0) return undefined;
    return this.releaseHeld(this.position, now);
  }

  private hold(source: Buffer, start: number, end: number): void {
    const room = this.options.maxLineBytes + 4 - this.heldBytes;
    this.heldTotal += end - start;
    if (room <= 0) return;
    // Copy: the chunk buffer is reused by the next read.
    const take = Math.min(room, end - start);
    this.held.push(Buffer.from(source.subarray(start, start + take)));
    this.heldBytes += take;
  }

  private releaseHeld(end: number, now: number): RawLine {
    const joined = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held, this.heldBytes);
    const overLimit = this.heldTotal > this.heldBytes;
    const line = this.line(joined, 0, this.heldBytes, this.heldStart, end, now, overLimit);
    this.held = [];
    this.heldBytes = 0;
    this.heldTotal = 0;
    this.heldStart = end;
    return line;
  }

  private line(
    bytes: Buffer,
    start: number,
    stop: number,
    offset: number,
    end: number,
    now: number,
    overLimit = false,
  ): RawLine {
    let last = stop;
    if (last > start && bytes[last - 1] === CARRIAGE_RETURN) last--;
    let truncated = overLimit;
    if (last - start > this.options.maxLineBytes) {
      last = start + utf8Boundary(bytes.subarray(start, last), this.options.maxLineBytes);
      truncated = true;
    }
    // toString replaces invalid UTF-8 with U+FFFD, so nothing downstream sees bad bytes.
    return {
      text: bytes.toString('utf8', start, last),
      offset,
      end,
      truncated,
      readAt: now,
      receivedAt: now,
    };
  }
}
