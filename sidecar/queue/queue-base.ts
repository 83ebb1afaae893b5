import { IdleRelease, KEEP_FOR_REUSE_MS } from '../../core/idle-release.ts';
import { Mutex, Notifier } from '../../core/waiters.ts';
import type { Queue, QueuePosition, QueueReader, QueueRecord, QueueStats } from './queue.ts';
import { QueueClosedError, SpaceGate } from './space-gate.ts';

export function comparePositions(a: QueuePosition, b: QueuePosition): number {
  return a.segment - b.segment || a.offset - b.offset;
}

// Sink names become file names (one cursor file per sink).
const SINK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

export function checkSinkNames(sinks: readonly string[]): void {
  if (sinks.length === 0)
    throw new Error('a queue needs at least one sink: nothing would ever release a record');
  const seen = new Set<string>();
  for (const sink of sinks) {
    if (!SINK_NAME.test(sink)) {
      throw new Error(`sink name ${JSON.stringify(sink)} must be letters, digits, '.', '_' or '-'`);
    }
    if (seen.has(sink)) throw new Error(`sink ${sink} is listed twice`);
    seen.add(sink);
  }
}

/** What a reader needs from its queue; kept narrow so readers cannot reach storage internals. */
interface ReaderHost {
  assertOpen(): void;
  readonly appended: Notifier;
  readFrom(position: QueuePosition, maxBytes: number, scratch: ReadScratch): Promise<QueueRecord[]>;
  acked(reader: SinkReader, previousMin: QueuePosition): Promise<void>;
  minCursor(): QueuePosition;
}

/** A reader's buffer for reading records from storage, used again by its next read. */
export interface ReadScratch {
  buffer?: Buffer;
}

export class SinkReader implements QueueReader {
  readonly name: string;
  /** Everything before this position is confirmed by the sink. */
  acked: QueuePosition;
  /** Where the next read starts. */
  position: QueuePosition;
  /** The furthest position ever handed out: an ack past it would skip records never read. */
  private furthest: QueuePosition;
  private reading = false;
  private readonly host: ReaderHost;
  private readonly scratch: ReadScratch = {};
  private readonly scratchRelease = new IdleRelease(KEEP_FOR_REUSE_MS, () => {
    // Idle: the last read's records were handed out long ago.
    this.scratch.buffer = undefined;
  });

  constructor(host: ReaderHost, name: string, start: QueuePosition) {
    this.host = host;
    this.name = name;
    this.acked = start;
    this.position = start;
    this.furthest = start;
  }

  async read(maxBytes: number, signal?: AbortSignal): Promise<QueueRecord[]> {
    if (this.reading) throw new Error(`sink ${this.name} already has a read in progress`);
    this.reading = true;
    try {
      for (;;) {
        signal?.throwIfAborted();
        this.host.assertOpen();
        const mark = this.host.appended.mark();
        const from = this.position;
        const records = await this.host.readFrom(from, maxBytes, this.scratch);
        this.scratchRelease.touch();
        // A rewind during the read asked for another starting point.
        if (this.position !== from) continue;
        const last = records.at(-1);
        if (last) {
          this.position = last.next;
          if (comparePositions(last.next, this.furthest) > 0) this.furthest = last.next;
          return records;
        }
        await this.host.appended.wait(mark, signal);
      }
    } finally {
      this.reading = false;
    }
  }

  async ack(record: QueueRecord): Promise<void> {
    const next = record.next;
    if (comparePositions(next, this.furthest) > 0) {
      throw new RangeError(`sink ${this.name} acknowledged a record it has not read`);
    }
    const previousMin = this.host.minCursor();
    if (comparePositions(next, this.acked) > 0) this.acked = next;
    await this.host.acked(this, previousMin);
  }

  rewind(): void {
    this.position = this.acked;
  }
}

export interface QueueBaseOptions {
  sinks: readonly string[];
  /** Appends wait while more than this many unacknowledged bytes are held. */
  maxBytes: number;
}

/**
 * What the memory and disk queues have in common: one serialized appender
 * with backpressure, one reader per configured sink, and the minimum cursor
 * that decides what may be forgotten. Subclasses store and fetch records.
 */
export abstract class QueueBase implements Queue {
  protected readonly readers = new Map<string, SinkReader>();
  protected readonly appended = new Notifier();
  protected tornRecords = 0;
  private readonly maxBytes: number;
  private readonly appendLock = new Mutex();
  private readonly space = new SpaceGate();
  private closing: Promise<void> | undefined;
  private readonly isFull = () => this.unackedBytes() > this.maxBytes;

  protected constructor(options: QueueBaseOptions, start: (sink: string) => QueuePosition) {
    checkSinkNames(options.sinks);
    this.maxBytes = options.maxBytes;
    const host: ReaderHost = {
      assertOpen: () => this.assertOpen(),
      appended: this.appended,
      readFrom: (position, maxBytes, scratch) => this.readFrom(position, maxBytes, scratch),
      acked: (reader, previousMin) => this.acked(reader, previousMin),
      minCursor: () => this.minCursor(),
    };
    for (const sink of options.sinks) this.readers.set(sink, new SinkReader(host, sink, start(sink)));
  }

  /** Writes the records; resolves with the position just past them once written (not yet durable). */
  protected abstract write(payloads: Buffer[]): Promise<QueuePosition>;
  /** Resolves once everything before `end` is durable. */
  protected abstract durable(end: QueuePosition): Promise<void>;
  /** Records from `position`; they may be views into `scratch`, which the reader's next read reuses. */
  protected abstract readFrom(
    position: QueuePosition,
    maxBytes: number,
    scratch: ReadScratch,
  ): Promise<QueueRecord[]>;
  protected abstract unackedBytes(): number;
  protected abstract oldestUnackedAt(): number | undefined;
  /** Every sink is past `min`: storage before it may go. */
  protected abstract release(min: QueuePosition): Promise<void> | void;
  /** Makes the reader's cursor survive a restart (now, or within the storage's flush interval). */
  protected abstract persistCursor(reader: SinkReader): Promise<void>;
  /** Runs after close() has stopped appends and readers: flush and release resources. */
  protected abstract shutdown(): Promise<void>;

  async append(payloads: Buffer[], signal?: AbortSignal): Promise<void> {
    const release = await this.appendLock.acquire(signal);
    let end: QueuePosition;
    try {
      this.assertOpen();
      if (payloads.length === 0) return;
      await this.space.waitWhile(this.isFull, signal);
      end = await this.write(payloads);
    } finally {
      // Released before waiting for durability, so later appends share the next fsync.
      release();
    }
    await this.durable(end);
  }

  reader(sink: string): QueueReader {
    const reader = this.readers.get(sink);
    if (!reader) throw new Error(`sink ${sink} is not one of this queue's sinks`);
    return reader;
  }

  stats(): QueueStats {
    return {
      bytes: this.unackedBytes(),
      oldestUnackedAt: this.oldestUnackedAt(),
      backpressureSeconds: this.space.seconds(),
      tornRecords: this.tornRecords,
    };
  }

  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    this.space.close();
    this.appended.notify();
    // Appends already writing finish; those still queued see the queue closed.
    const release = await this.appendLock.acquire();
    try {
      await this.shutdown();
    } finally {
      release();
    }
  }

  protected isClosing(): boolean {
    return this.closing !== undefined;
  }

  protected assertOpen(): void {
    if (this.closing) throw new QueueClosedError();
  }

  protected minCursor(): QueuePosition {
    let min: QueuePosition | undefined;
    for (const reader of this.readers.values()) {
      if (!min || comparePositions(reader.acked, min) < 0) min = reader.acked;
    }
    return min!;
  }

  private async acked(reader: SinkReader, previousMin: QueuePosition): Promise<void> {
    // After close the cursor files belong to whoever opens the queue next.
    this.assertOpen();
    const min = this.minCursor();
    if (comparePositions(min, previousMin) > 0) {
      const released = this.release(min);
      this.space.check();
      await released;
    }
    await this.persistCursor(reader);
  }
}
