import {
  closeSync,
  fdatasyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { isNotFound, writeFileAtomicSync } from '../../core/atomic-file.ts';
import { encodeFrames, FRAME_HEADER, scanFrames } from '../../core/frames.ts';
import type { Entry } from '../compose.ts';
import type { OpenedOutbox, OutboxLog } from './store.ts';

/**
 * `always`: every record is fsynced before the call that wrote it returns.
 * `intervalMs`: records are written at once (a killed process loses nothing)
 * and fsynced at most that long later (a power cut may lose that window).
 */
export type FsyncPolicy = 'always' | { intervalMs: number };

type OutboxRecord = { op: 'put'; id: number; entry: Entry } | { op: 'del'; ids: number[] };

/** The file's records cannot be trusted past some point that is not its end: it is not read at all. */
export class OutboxCorruptError extends Error {
  constructor(file: string, offset: number, why: string) {
    super(`the outbox ${file} is corrupt at byte ${offset}: ${why}`);
    this.name = 'OutboxCorruptError';
  }
}

/**
 * A record holds one message fitted into a robot's limit (at most 20,000
 * bytes, a few times that once escaped as JSON). A length beyond this is not a
 * write cut short but a damaged header, which would hide every record after it.
 */
const MAX_RECORD_BYTES = 1 << 20;

/** Below this the file is never rewritten: a few deleted records cost less than a rewrite. */
const COMPACT_MIN_BYTES = 1 << 20;

interface Live {
  entry: Entry;
  bytes: number;
}

/** Replays the records in order; throws OutboxCorruptError on a bad record that is not the last one. */
function readRecords(file: string, buf: Buffer): { live: Map<number, Live>; end: number; nextId: number } {
  const live = new Map<number, Live>();
  let nextId = 1;
  let bad: string | undefined;
  const scan = scanFrames(buf, (start, length) => {
    let record: OutboxRecord;
    try {
      record = JSON.parse(buf.toString('utf8', start + FRAME_HEADER, start + FRAME_HEADER + length));
    } catch {
      bad = `record at byte ${start} is not valid JSON despite a good checksum`;
      return false;
    }
    if (record.op === 'put') {
      live.set(record.id, { entry: record.entry, bytes: FRAME_HEADER + length });
      nextId = Math.max(nextId, record.id + 1);
    } else {
      for (const id of record.ids) live.delete(id);
    }
    return true;
  });
  if (bad) throw new OutboxCorruptError(file, scan.end, bad);
  if (scan.status !== 'complete' && buf.length - scan.end >= FRAME_HEADER) {
    const length = buf.readUInt32LE(scan.end);
    if (length > MAX_RECORD_BYTES) {
      throw new OutboxCorruptError(
        file,
        scan.end,
        `a record claims ${length} bytes, more than any record has`,
      );
    }
  }
  if (scan.status === 'corrupt') {
    // A bad checksum on the last record is a write a crash cut short; anywhere else, records after it would be lost.
    const recordEnd = scan.end + FRAME_HEADER + buf.readUInt32LE(scan.end);
    if (recordEnd !== buf.length) {
      throw new OutboxCorruptError(file, scan.end, 'checksum mismatch in a record that is not the last one');
    }
  }
  return { live, end: scan.end, nextId };
}

function moveAside(file: string, now: number): string {
  const movedTo = `${file}.corrupt-${new Date(now).toISOString().replaceAll(':', '-')}`;
  renameSync(file, movedTo);
  return movedTo;
}

/**
 * One robot's messages that are not delivered yet, as an append-only file of
 * checksummed records: a message is put when it is queued and deleted when the
 * robot accepted it or it was dead-lettered. All writes are synchronous, so a
 * message is in the file before the call that queued it returns. The file is
 * emptied whenever nothing waits, and rewritten with only what waits when
 * deleted records make up most of it.
 */
export class Outbox implements OutboxLog {
  private readonly file: string;
  private policy: FsyncPolicy;
  private fd: number;
  private size: number;
  private nextId: number;
  private readonly ids = new Map<Entry, number>();
  /** Bytes of each waiting message's latest put record: what a rewrite would keep. */
  private readonly recordBytes = new Map<number, number>();
  private liveBytes = 0;
  private syncTimer: NodeJS.Timeout | undefined;

  private constructor(
    file: string,
    policy: FsyncPolicy,
    size: number,
    live: Map<number, Live>,
    nextId: number,
  ) {
    this.file = file;
    this.policy = policy;
    this.fd = openSync(file, 'a');
    this.size = size;
    this.nextId = nextId;
    for (const [id, { entry, bytes }] of live) {
      this.ids.set(entry, id);
      this.recordBytes.set(id, bytes);
      this.liveBytes += bytes;
    }
  }

  /**
   * Opens the outbox at `file`, cutting a torn last record. A corrupt file is
   * never emptied in place: it is moved aside and an empty outbox starts.
   */
  static open(file: string, policy: FsyncPolicy, now: number): OpenedOutbox & { outbox: Outbox } {
    let buf: Buffer;
    try {
      buf = readFileSync(file);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      buf = Buffer.alloc(0);
    }
    let recovered: ReturnType<typeof readRecords>;
    try {
      recovered = readRecords(file, buf);
    } catch (err) {
      if (!(err instanceof OutboxCorruptError)) throw err;
      const movedTo = moveAside(file, now);
      const outbox = new Outbox(file, policy, 0, new Map(), 1);
      return { outbox, entries: [], tornBytes: 0, corrupt: { error: err.message, movedTo } };
    }
    const { live, end, nextId } = recovered;
    const outbox = new Outbox(file, policy, end, live, nextId);
    const tornBytes = buf.length - end;
    if (tornBytes > 0) {
      ftruncateSync(outbox.fd, end);
      fdatasyncSync(outbox.fd);
    }
    return { outbox, entries: [...live.values()].map((l) => l.entry), tornBytes };
  }

  /** A reload's policy; a pending interval fsync still runs. */
  setPolicy(policy: FsyncPolicy): void {
    this.policy = policy;
  }

  add(entries: readonly Entry[], now: number): void {
    const records = entries.map((entry) => {
      const id = this.nextId++;
      this.ids.set(entry, id);
      return { op: 'put', id, entry } as const;
    });
    this.append(records, now);
  }

  /** `next` takes `previous`'s place in the order it is replayed in. */
  replace(previous: Entry, next: Entry, now: number): void {
    const id = this.ids.get(previous);
    if (id === undefined) return;
    this.ids.delete(previous);
    this.ids.set(next, id);
    this.append([{ op: 'put', id, entry: next }], now);
  }

  remove(entries: readonly Entry[], now: number): void {
    const ids: number[] = [];
    for (const entry of entries) {
      const id = this.ids.get(entry);
      if (id === undefined) continue;
      this.ids.delete(entry);
      ids.push(id);
      this.liveBytes -= this.recordBytes.get(id) ?? 0;
      this.recordBytes.delete(id);
    }
    if (ids.length === 0) return;
    if (this.ids.size === 0) {
      this.truncate();
      return;
    }
    this.append([{ op: 'del', ids }], now);
    if (this.size > Math.max(COMPACT_MIN_BYTES, 4 * this.liveBytes)) this.rewrite(now);
  }

  /** The file's bound is the robot's queue.maxMessages, which the robot keeps. */
  fits(): boolean {
    return true;
  }

  /** Makes everything written durable and closes the file. */
  close(): void {
    clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    fdatasyncSync(this.fd);
    closeSync(this.fd);
  }

  private append(records: readonly OutboxRecord[], now: number): void {
    const payloads = records.map((record) => Buffer.from(JSON.stringify(record)));
    if (payloads.some((p) => p.length > MAX_RECORD_BYTES)) {
      throw new RangeError(`a message takes more than ${MAX_RECORD_BYTES} bytes in the outbox`);
    }
    const buf = encodeFrames(payloads, now);
    writeSync(this.fd, buf);
    this.size += buf.length;
    records.forEach((record, i) => {
      if (record.op !== 'put') return;
      const bytes = FRAME_HEADER + payloads[i]!.length;
      this.liveBytes += bytes - (this.recordBytes.get(record.id) ?? 0);
      this.recordBytes.set(record.id, bytes);
    });
    this.synced();
  }

  private synced(): void {
    if (this.policy === 'always') {
      fdatasyncSync(this.fd);
      return;
    }
    this.syncTimer ??= setTimeout(() => {
      this.syncTimer = undefined;
      fdatasyncSync(this.fd);
    }, this.policy.intervalMs).unref();
  }

  private truncate(): void {
    ftruncateSync(this.fd, 0);
    this.size = 0;
    this.liveBytes = 0;
    this.recordBytes.clear();
    // Durable before the next append lands at offset 0: a power cut must not leave new records over old ones.
    fdatasyncSync(this.fd);
  }

  private rewrite(now: number): void {
    // Ids follow the order messages were queued in, which a replay must keep.
    const records = [...this.ids]
      .sort((a, b) => a[1] - b[1])
      .map(([entry, id]) => ({ op: 'put', id, entry }) as const);
    const buf = encodeFrames(
      records.map((record) => Buffer.from(JSON.stringify(record))),
      now,
    );
    // Written beside the file and renamed over it: should that fail, the old file and handle are still good.
    writeFileAtomicSync(this.file, buf);
    closeSync(this.fd);
    this.fd = openSync(this.file, 'a');
    this.size = buf.length;
  }
}
