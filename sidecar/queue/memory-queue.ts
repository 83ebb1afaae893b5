import type { QueuePosition, QueueRecord } from './queue.ts';
import { QueueBase } from './queue-base.ts';

export interface MemoryQueueOptions {
  sinks: readonly string[];
  /** Appends wait while more than this many payload bytes are unacknowledged. Default 64 MiB. */
  maxBytes?: number;
}

// Dropping from the front of an array is O(n); compact only once the dead prefix is large.
const COMPACT_AFTER = 1024;

/**
 * The queue for those who accept losing what is in flight when the process
 * dies: the same contract as the disk queue, nothing survives a restart.
 * Positions are record sequence numbers in segment 0.
 */
export class MemoryQueue extends QueueBase {
  /** Released entries are cleared at once so their payloads can be collected before compaction. */
  private records: (QueueRecord | undefined)[] = [];
  /** Index in `records` of the oldest record still held. */
  private head = 0;
  /** Sequence number of records[head]. */
  private headSeq = 0;
  private bytes = 0;

  constructor(options: MemoryQueueOptions) {
    super({ sinks: options.sinks, maxBytes: options.maxBytes ?? 64 * 1024 * 1024 }, () => ({
      segment: 0,
      offset: 0,
    }));
  }

  protected async write(payloads: Buffer[]): Promise<QueuePosition> {
    const appendedAt = Date.now();
    let seq = this.headSeq + this.records.length - this.head;
    for (const payload of payloads) {
      this.records.push({
        position: { segment: 0, offset: seq },
        next: { segment: 0, offset: seq + 1 },
        appendedAt,
        // A copy: the appender reuses its buffers once the append resolves.
        payload: Buffer.from(payload),
      });
      this.bytes += payload.length;
      seq++;
    }
    this.appended.notify();
    return { segment: 0, offset: seq };
  }

  protected async durable(): Promise<void> {}

  protected async readFrom(position: QueuePosition, maxBytes: number): Promise<QueueRecord[]> {
    const out: QueueRecord[] = [];
    let size = 0;
    for (let i = this.head + Math.max(0, position.offset - this.headSeq); i < this.records.length; i++) {
      const record = this.records[i]!;
      if (out.length > 0 && size + record.payload.length > maxBytes) break;
      out.push(record);
      size += record.payload.length;
    }
    return out;
  }

  protected unackedBytes(): number {
    return this.bytes;
  }

  protected oldestUnackedAt(): number | undefined {
    return this.records[this.head]?.appendedAt;
  }

  protected release(min: QueuePosition): void {
    while (this.head < this.records.length && this.headSeq < min.offset) {
      this.bytes -= this.records[this.head]!.payload.length;
      this.records[this.head] = undefined;
      this.head++;
      this.headSeq++;
    }
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.records.length) {
      this.records = this.records.slice(this.head);
      this.head = 0;
    }
  }

  protected async persistCursor(): Promise<void> {}

  protected async shutdown(): Promise<void> {}
}
