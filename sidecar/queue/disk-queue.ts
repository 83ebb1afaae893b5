import { closeSync, openSync, readSync } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, isNotFound, removeIfExists, writeFileAtomic } from '../../core/atomic-file.ts';
import { boundaryAtOrBefore, FRAME_HEADER, frameParts, scanFrames } from '../../core/frames.ts';
import type { Logger } from '../../core/log.ts';
import { Coalescer } from '../../core/waiters.ts';
import type { QueuePosition, QueueRecord, QueueStats } from './queue.ts';
import {
  checkSinkNames,
  comparePositions,
  QueueBase,
  type ReadScratch,
  type SinkReader,
} from './queue-base.ts';

/**
 * `always`: an append resolves after an fsync that covers it (appends arriving
 * during an fsync share the next one). `intervalMs`: a timer fsyncs at most
 * that long after a write; appends still resolve only once covered, so the
 * policy trades latency for fewer fsyncs, never durability.
 */
export type FsyncPolicy = 'always' | { intervalMs: number };

export interface DiskQueueOptions {
  dir: string;
  /** Every sink that will read. A segment is kept until all of them acknowledged it. */
  sinks: readonly string[];
  /** Appends wait while more than this many unacknowledged bytes are on disk. Default 1 GiB. */
  maxBytes?: number;
  /** A segment is closed and a new one started once it would grow past this. Default 16 MiB. */
  segmentBytes?: number;
  /** Default `always`. */
  fsync?: FsyncPolicy;
  /**
   * How long an acknowledgement may wait before its cursor is written. 0
   * writes it before ack() resolves. A crash re-delivers at most this window.
   * Default 1000.
   */
  cursorFlushMs?: number;
  log?: Logger;
}

export interface DiskQueueStats extends QueueStats {
  fsyncs: number;
  segments: number;
}

interface Segment {
  readonly num: number;
  readonly file: string;
  /** What readers may see: durable, and before any corrupt frame. */
  size: number;
  /** Durable bytes (the active segment). */
  synced: number;
  /** Written bytes, durable or not: where the next frame goes (the active segment). */
  written: number;
  /** A corrupt frame cut `size` short; nothing more is written here. */
  cut: boolean;
  handle: Promise<FileHandle> | undefined;
  /** Reads in flight; the read handle closes after the last one once the segment is retired. */
  pins: number;
  retired: boolean;
}

interface CommitWaiter {
  end: QueuePosition;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Recovered {
  segments: Segment[];
  writer: FileHandle;
  /** Where each sink starts, checked against what is on disk. */
  starts: Map<string, QueuePosition>;
  /** What each sink's cursor file holds. */
  persisted: Map<string, QueuePosition>;
  torn: number;
}

const SEGMENT_FILE = /^(\d{20})\.seg$/;
const CURSOR_SUFFIX = '.cursor';

function segmentFile(dir: string, num: number): string {
  return join(dir, `${String(num).padStart(20, '0')}.seg`);
}

function newSegment(num: number, file: string, size: number): Segment {
  return {
    num,
    file,
    size,
    synced: size,
    written: size,
    cut: false,
    handle: undefined,
    pins: 0,
    retired: false,
  };
}

async function createSegment(dir: string, num: number): Promise<{ segment: Segment; handle: FileHandle }> {
  const file = segmentFile(dir, num);
  // Truncating is safe: a file past the last segment can only be left by a roll that failed before using it.
  const handle = await open(file, 'w+');
  // The file's directory entry must be durable too, or its records vanish with it.
  await fsyncDir(dir);
  return { segment: newSegment(num, file, 0), handle };
}

/** One gathered write for all the parts, continued where a short write stopped. */
async function writeAll(handle: FileHandle, parts: Buffer[], position: number): Promise<void> {
  let at = position;
  while (parts.length > 0) {
    let { bytesWritten } = await handle.writev(parts, at);
    at += bytesWritten;
    while (parts.length > 0 && bytesWritten >= parts[0]!.length) bytesWritten -= parts.shift()!.length;
    if (bytesWritten > 0) parts[0] = parts[0]!.subarray(bytesWritten);
  }
}

/**
 * A buffer of `want` bytes: the scratch buffer, grown if need be, unless `want` is far
 * more than a read is asked for (one huge frame), which gets a buffer of its own.
 */
function readBuffer(scratch: ReadScratch, want: number, maxBytes: number): Buffer {
  if (want > 2 * maxBytes) return Buffer.allocUnsafe(want);
  if ((scratch.buffer?.length ?? 0) < want) scratch.buffer = Buffer.allocUnsafeSlow(Math.max(want, maxBytes));
  return scratch.buffer!.subarray(0, want);
}

/** Reads until `buf` is full or the file ends; returns how much was read. */
async function readAll(handle: FileHandle, buf: Buffer, position: number): Promise<number> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await handle.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

function isPosition(value: unknown): value is QueuePosition {
  const v = value as Partial<QueuePosition> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    Number.isSafeInteger(v.segment) &&
    Number.isSafeInteger(v.offset) &&
    v.segment! >= 0 &&
    v.offset! >= 0
  );
}

async function loadCursor(file: string, log: Logger | undefined): Promise<QueuePosition | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (isPosition(value)) return { segment: value.segment, offset: value.offset };
  } catch (err) {
    if (isNotFound(err)) return undefined;
  }
  // Starting from the oldest record re-delivers; guessing could skip.
  log?.warn({ file }, 'unreadable queue cursor: the sink starts again from the oldest record');
  return undefined;
}

/**
 * Finds the end of the valid frames in the last segment, the only one a crash
 * can tear (a segment is fsynced before the next one is started), and cuts
 * away what follows. Returns the valid bytes, for placing cursors on frame boundaries.
 */
async function recoverTail(
  tail: Segment,
  writer: FileHandle,
  log: Logger | undefined,
): Promise<{ valid: Buffer; torn: number }> {
  const buf = await readFile(tail.file);
  const { end } = scanFrames(buf);
  if (end === buf.length) return { valid: buf, torn: 0 };
  log?.warn(
    { segment: tail.num, offset: end, bytes: buf.length - end },
    'torn or corrupt record at the end of the queue: truncated',
  );
  await writer.truncate(end);
  await writer.datasync();
  tail.size = tail.synced = tail.written = end;
  return { valid: buf.subarray(0, end), torn: 1 };
}

/**
 * Puts a sink's saved cursor where reading can resume without skipping:
 * before the oldest segment (its records are gone) → the oldest record; past
 * the end of the data, or off a frame boundary in the last segment → back to
 * the nearest boundary, so new records are never stepped over.
 */
function placeCursor(saved: QueuePosition | undefined, segments: Segment[], tail: Buffer): QueuePosition {
  const first = segments[0]!;
  const last = segments.at(-1)!;
  if (!saved || saved.segment < first.num) return { segment: first.num, offset: 0 };
  if (saved.segment > last.num) return { segment: last.num, offset: last.size };
  if (saved.segment === last.num)
    return { segment: last.num, offset: boundaryAtOrBefore(tail, saved.offset) };
  const index = segments.findIndex((s) => s.num >= saved.segment);
  const seg = segments[index]!;
  if (seg.num !== saved.segment || saved.offset > seg.size) {
    const next = seg.num !== saved.segment ? seg : segments[index + 1]!;
    return { segment: next.num, offset: 0 };
  }
  return saved;
}

async function recover(options: ResolvedOptions): Promise<Recovered> {
  const { dir, sinks, log } = options;
  await mkdir(dir, { recursive: true });
  const nums: number[] = [];
  const persisted = new Map<string, QueuePosition>();
  for (const name of await readdir(dir)) {
    const file = join(dir, name);
    const segment = SEGMENT_FILE.exec(name);
    if (segment) {
      nums.push(Number(segment[1]));
    } else if (name.endsWith('.tmp')) {
      // A cursor write interrupted before its rename: the previous cursor file still stands.
      await removeIfExists(file);
    } else if (name.endsWith(CURSOR_SUFFIX)) {
      const sink = name.slice(0, -CURSOR_SUFFIX.length);
      if (!sinks.includes(sink)) {
        // A sink no longer configured would otherwise hold every segment forever.
        log?.info({ sink }, 'removing the queue cursor of a sink that is no longer configured');
        await removeIfExists(file);
        continue;
      }
      const cursor = await loadCursor(file, log);
      if (cursor) persisted.set(sink, cursor);
    }
  }
  nums.sort((a, b) => a - b);

  const segments: Segment[] = [];
  for (const num of nums) {
    const file = segmentFile(dir, num);
    segments.push(newSegment(num, file, (await stat(file)).size));
  }
  let writer: FileHandle;
  let tail: Buffer;
  let torn = 0;
  const last = segments.at(-1);
  if (last) {
    writer = await open(last.file, 'r+');
    ({ valid: tail, torn } = await recoverTail(last, writer, log));
  } else {
    // Numbered past any cursor, so a cursor left from deleted segments cannot point ahead of new data.
    let num = 1;
    for (const cursor of persisted.values()) num = Math.max(num, cursor.segment + 1);
    const created = await createSegment(dir, num);
    segments.push(created.segment);
    writer = created.handle;
    tail = Buffer.alloc(0);
  }

  const starts = new Map<string, QueuePosition>();
  for (const sink of sinks) starts.set(sink, placeCursor(persisted.get(sink), segments, tail));
  return { segments, writer, starts, persisted, torn };
}

type ResolvedOptions = Required<Omit<DiskQueueOptions, 'log'>> & { log: Logger | undefined };

function resolveOptions(options: DiskQueueOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    dir: options.dir,
    sinks: options.sinks,
    maxBytes: options.maxBytes ?? 1024 * 1024 * 1024,
    segmentBytes: options.segmentBytes ?? 16 * 1024 * 1024,
    fsync: options.fsync ?? 'always',
    cursorFlushMs: options.cursorFlushMs ?? 1000,
    log: options.log,
  };
  checkSinkNames(resolved.sinks);
  if (!(resolved.maxBytes > 0)) throw new RangeError('maxBytes must be positive');
  if (!(resolved.segmentBytes > 0)) throw new RangeError('segmentBytes must be positive');
  if (!(resolved.cursorFlushMs >= 0)) throw new RangeError('cursorFlushMs must be 0 or more');
  if (resolved.fsync !== 'always' && !(resolved.fsync.intervalMs > 0)) {
    throw new RangeError('fsync.intervalMs must be positive');
  }
  return resolved;
}

/**
 * Opens (creating or recovering) the queue in `options.dir`. The directory
 * belongs to one queue in one process: nothing locks it against a second.
 */
export function openDiskQueue(options: DiskQueueOptions): Promise<DiskQueue> {
  return DiskQueue.open(options);
}

/**
 * A segmented, checksummed queue on disk; see queue.ts for the contract and
 * core/frames.ts for the format. Readers only ever see durable records, so a
 * cursor can never point past what survives a crash.
 */
export class DiskQueue extends QueueBase {
  private readonly options: ResolvedOptions;
  private readonly segments: Segment[];
  private writer: FileHandle;
  private readonly syncer = new Coalescer(() => this.syncActive());
  private syncTimer: NodeJS.Timeout | undefined;
  private readonly commitWaiters: CommitWaiter[] = [];
  /** After a failed fsync nothing written since can be trusted; appends fail until a restart. */
  private failure: unknown;
  private readonly persisted: Map<string, QueuePosition>;
  private readonly cursorWriters = new Map<string, Coalescer>();
  private readonly dirtyCursors = new Set<string>();
  private cursorTimer: NodeJS.Timeout | undefined;
  private fsyncs = 0;
  private oldest: { segment: number; offset: number; appendedAt: number } | undefined;

  static async open(options: DiskQueueOptions): Promise<DiskQueue> {
    const resolved = resolveOptions(options);
    const queue = new DiskQueue(resolved, await recover(resolved));
    await queue.settleRecovery();
    return queue;
  }

  private constructor(options: ResolvedOptions, recovered: Recovered) {
    super(options, (sink) => recovered.starts.get(sink)!);
    this.options = options;
    this.segments = recovered.segments;
    this.writer = recovered.writer;
    this.persisted = recovered.persisted;
    this.tornRecords = recovered.torn;
  }

  /** After open: drop what every sink is past, and save cursors that recovery had to move. */
  private async settleRecovery(): Promise<void> {
    await this.release(this.minCursor());
    for (const reader of this.readers.values()) {
      const saved = this.persisted.get(reader.name);
      if (!saved) this.persisted.set(reader.name, reader.acked);
      else if (comparePositions(saved, reader.acked) !== 0) await this.cursorWriter(reader.name).run();
    }
  }

  override stats(): DiskQueueStats {
    return { ...super.stats(), fsyncs: this.fsyncs, segments: this.segments.length };
  }

  private get active(): Segment {
    return this.segments.at(-1)!;
  }

  protected async write(payloads: Buffer[]): Promise<QueuePosition> {
    if (this.failure) throw this.failure;
    const frames = frameParts(payloads, Date.now());
    let length = 0;
    for (const part of frames) length += part.length;
    let seg = this.active;
    if (seg.cut || (seg.written > 0 && seg.written + length > this.options.segmentBytes)) {
      await this.roll();
      seg = this.active;
    }
    const at = seg.written;
    try {
      await writeAll(this.writer, frames, at);
    } catch (err) {
      // A partial frame would otherwise sit in front of the next one written.
      await this.writer.truncate(at).catch(() => undefined);
      throw err;
    }
    seg.written = at + length;
    this.scheduleSync();
    return { segment: seg.num, offset: seg.written };
  }

  private async roll(): Promise<void> {
    // Sealed segments are wholly durable, so after a crash only the last one can be torn.
    await this.syncer.run();
    const old = this.writer;
    const { segment, handle } = await createSegment(this.options.dir, this.active.num + 1);
    this.segments.push(segment);
    this.writer = handle;
    // A sync that began on the old handle must finish before the handle closes.
    await this.syncer.run();
    await old.close();
  }

  private scheduleSync(): void {
    const policy = this.options.fsync;
    if (policy === 'always') {
      this.syncer.run().catch(() => undefined);
    } else {
      this.syncTimer ??= setTimeout(() => {
        this.syncTimer = undefined;
        this.syncer.run().catch(() => undefined);
      }, policy.intervalMs);
    }
  }

  private async syncActive(): Promise<void> {
    const seg = this.active;
    const target = seg.written;
    if (seg.synced >= target) return;
    try {
      await this.writer.datasync();
    } catch (err) {
      this.failure ??= err;
      this.options.log?.error({ err }, 'queue fsync failed: appends fail until the sidecar restarts');
      for (const waiter of this.commitWaiters.splice(0)) waiter.reject(err);
      throw err;
    }
    this.fsyncs++;
    seg.synced = target;
    if (!seg.cut) seg.size = target;
    while (this.commitWaiters.length > 0 && this.isDurable(this.commitWaiters[0]!.end)) {
      this.commitWaiters.shift()!.resolve();
    }
    this.appended.notify();
  }

  private isDurable(end: QueuePosition): boolean {
    const seg = this.active;
    return end.segment < seg.num || (end.segment === seg.num && end.offset <= seg.synced);
  }

  protected durable(end: QueuePosition): Promise<void> {
    if (this.isDurable(end)) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.commitWaiters.push({ end, resolve, reject }));
  }

  protected async readFrom(
    position: QueuePosition,
    maxBytes: number,
    scratch: ReadScratch,
  ): Promise<QueueRecord[]> {
    let { segment: num, offset } = position;
    for (;;) {
      const seg = this.segments.find((s) => s.num >= num);
      if (!seg) return [];
      if (seg.num !== num) offset = 0;
      if (offset < seg.size) {
        const records = await this.readSegment(seg, offset, maxBytes, scratch);
        if (records.length > 0) return records;
        // A corrupt frame cut the segment at `offset`: carry on after it.
        continue;
      }
      if (seg === this.active) return [];
      num = seg.num + 1;
      offset = 0;
    }
  }

  /**
   * One read call for a batch of frames; the payloads are views into its
   * buffer, the reader's scratch buffer unless a frame is larger. Returns at
   * least one record, or cuts the segment at `offset`.
   */
  private async readSegment(
    seg: Segment,
    offset: number,
    maxBytes: number,
    scratch: ReadScratch,
  ): Promise<QueueRecord[]> {
    seg.pins++;
    try {
      const handle = await this.readHandle(seg);
      // As much as the scratch buffer holds: once it has grown to a whole batch, one read gets one.
      let want = Math.min(seg.size - offset, Math.max(maxBytes, FRAME_HEADER, scratch.buffer?.length ?? 0));
      for (;;) {
        const buf = readBuffer(scratch, want, maxBytes);
        const got = await readAll(handle, buf, offset);
        const data = got < want ? buf.subarray(0, got) : buf;
        const records: QueueRecord[] = [];
        const scan = scanFrames(data, (start, length, appendedAt) => {
          const end = offset + start + FRAME_HEADER + length;
          records.push({
            position: { segment: seg.num, offset: offset + start },
            next: { segment: seg.num, offset: end },
            appendedAt,
            payload: data.subarray(start + FRAME_HEADER, start + FRAME_HEADER + length),
          });
          return undefined;
        });
        if (scan.status === 'corrupt') {
          this.cut(seg, offset + scan.end);
          return records;
        }
        if (records.length > 0) return records;
        // Nothing whole in the buffer: either one frame larger than maxBytes, or a frame
        // that cannot be whole because it runs past the end of the segment.
        if (got < want || offset + scan.need > seg.size) {
          this.cut(seg, offset);
          return records;
        }
        want = scan.need;
      }
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.cut(seg, offset);
      return [];
    } finally {
      seg.pins--;
      if (seg.retired && seg.pins === 0) this.closeReadHandle(seg);
    }
  }

  private readHandle(seg: Segment): Promise<FileHandle> {
    if (!seg.handle) {
      const opening = open(seg.file, 'r');
      opening.catch(() => {
        if (seg.handle === opening) seg.handle = undefined;
      });
      seg.handle = opening;
    }
    return seg.handle;
  }

  private closeReadHandle(seg: Segment): void {
    const handle = seg.handle;
    seg.handle = undefined;
    handle?.then((h) => h.close()).catch(() => undefined);
  }

  /** A corrupt frame ends what can be read of a segment; readers move on to the next one. */
  private cut(seg: Segment, at: number): void {
    if (at >= seg.size) return;
    this.options.log?.error(
      { segment: seg.num, offset: at, bytes: seg.size - at },
      'corrupt record in the queue: skipping the rest of its segment',
    );
    seg.size = at;
    seg.cut = true;
    this.tornRecords++;
  }

  protected unackedBytes(): number {
    const min = this.minCursor();
    const active = this.active;
    let bytes = 0;
    for (const seg of this.segments) {
      if (seg.num < min.segment) continue;
      const end = seg === active ? seg.written : seg.size;
      bytes += seg.num === min.segment ? Math.max(0, end - min.offset) : end;
    }
    return bytes;
  }

  /**
   * Reads the header of the oldest unacknowledged record (16 bytes, only when
   * the slowest sink has moved since the last call): stats() is synchronous,
   * and keeping every record's time in memory would cost far more.
   */
  protected oldestUnackedAt(): number | undefined {
    const min = this.minCursor();
    let index = this.segments.findIndex((s) => s.num >= min.segment);
    let seg = this.segments[index];
    let offset = seg?.num === min.segment ? min.offset : 0;
    while (seg && offset >= seg.size) {
      seg = this.segments[++index];
      offset = 0;
    }
    if (!seg) return undefined;
    const cached = this.oldest;
    if (cached?.segment === seg.num && cached.offset === offset) return cached.appendedAt;
    const header = Buffer.alloc(FRAME_HEADER);
    try {
      const fd = openSync(seg.file, 'r');
      try {
        if (readSync(fd, header, 0, FRAME_HEADER, offset) < FRAME_HEADER) return undefined;
      } finally {
        closeSync(fd);
      }
    } catch {
      return undefined;
    }
    this.oldest = { segment: seg.num, offset, appendedAt: header.readDoubleLE(8) };
    return this.oldest.appendedAt;
  }

  protected async release(min: QueuePosition): Promise<void> {
    const removing: Promise<void>[] = [];
    // The active segment always stays: it is where the next record goes.
    while (this.segments.length > 1) {
      const seg = this.segments[0]!;
      if (seg.num > min.segment || (seg.num === min.segment && min.offset < seg.size)) break;
      this.segments.shift();
      this.retire(seg);
      removing.push(
        removeIfExists(seg.file).catch((err: unknown) =>
          this.options.log?.warn({ err, segment: seg.num }, 'could not delete an acknowledged queue segment'),
        ),
      );
    }
    await Promise.all(removing);
  }

  private retire(seg: Segment): void {
    seg.retired = true;
    if (seg.pins === 0) this.closeReadHandle(seg);
  }

  protected async persistCursor(reader: SinkReader): Promise<void> {
    if (this.options.cursorFlushMs === 0) return this.cursorWriter(reader.name).run();
    this.dirtyCursors.add(reader.name);
    this.scheduleCursorFlush();
  }

  private scheduleCursorFlush(): void {
    // Unreferenced: close() writes what is pending, and this timer alone should not keep a process alive.
    this.cursorTimer ??= setTimeout(() => {
      this.cursorTimer = undefined;
      void this.flushCursors();
    }, this.options.cursorFlushMs).unref();
  }

  private async flushCursors(): Promise<void> {
    const names = [...this.dirtyCursors];
    this.dirtyCursors.clear();
    const results = await Promise.allSettled(names.map((name) => this.cursorWriter(name).run()));
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') return;
      this.options.log?.warn(
        { err: result.reason, sink: names[i] },
        'could not save a queue cursor; retrying',
      );
      this.dirtyCursors.add(names[i]!);
    });
    if (this.dirtyCursors.size > 0 && !this.isClosing()) this.scheduleCursorFlush();
  }

  private cursorWriter(name: string): Coalescer {
    let writer = this.cursorWriters.get(name);
    if (!writer) {
      writer = new Coalescer(() => this.writeCursor(name));
      this.cursorWriters.set(name, writer);
    }
    return writer;
  }

  private async writeCursor(name: string): Promise<void> {
    const position = this.readers.get(name)!.acked;
    const saved = this.persisted.get(name);
    if (saved && comparePositions(saved, position) === 0) return;
    await writeFileAtomic(join(this.options.dir, `${name}${CURSOR_SUFFIX}`), JSON.stringify(position));
    this.persisted.set(name, position);
  }

  protected async shutdown(): Promise<void> {
    clearTimeout(this.syncTimer);
    clearTimeout(this.cursorTimer);
    this.syncTimer = this.cursorTimer = undefined;
    try {
      if (!this.failure) await this.syncer.run();
      await Promise.all([...this.readers.keys()].map((name) => this.cursorWriter(name).run()));
    } finally {
      await this.writer.close();
      for (const seg of this.segments) this.retire(seg);
    }
  }
}
