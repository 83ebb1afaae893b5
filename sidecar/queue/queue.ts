/**
 * The sidecar's commit point. The tail appends encoded batches; each sink reads
 * with its own cursor and acknowledges what its destination confirmed. A
 * record is forgotten only when every sink has acknowledged it.
 */

/** Where a record sits: segment number and byte offset inside it. */
export interface QueuePosition {
  segment: number;
  offset: number;
}

export interface QueueRecord {
  position: QueuePosition;
  /** Position just past this record: the cursor after acknowledging it. */
  next: QueuePosition;
  /** Wall-clock ms when the record was appended (age of the oldest unacknowledged event). */
  appendedAt: number;
  payload: Buffer;
}

export interface QueueStats {
  /** Bytes held on disk (or in memory) that some sink has not acknowledged. */
  bytes: number;
  /** appendedAt of the oldest record some sink has not acknowledged. */
  oldestUnackedAt?: number;
  /** Total time appenders have waited because the queue was full, in seconds. */
  backpressureSeconds: number;
  /** Records found torn or corrupt at recovery and skipped. */
  tornRecords: number;
}

export interface Queue {
  /**
   * Appends records as one write. Resolves once they are durable under the
   * fsync policy; waits (backpressure) while the queue is over its size limit.
   * The queue keeps no reference to `payloads` after that: the caller may
   * reuse their memory.
   */
  append(payloads: Buffer[], signal?: AbortSignal): Promise<void>;
  /** The reader for one sink; its cursor starts where that sink last acknowledged. */
  reader(sink: string): QueueReader;
  stats(): QueueStats;
  close(): Promise<void>;
}

export interface QueueReader {
  /**
   * Records after the read position, up to about maxBytes (always at least one
   * when any is there). Waits for data; rejects with the signal's reason when it aborts,
   * and with QueueClosedError once the queue closes. One read at a time per reader.
   * The payloads may be overwritten by the reader's next read: a sink must be done with them by then.
   */
  read(maxBytes: number, signal?: AbortSignal): Promise<QueueRecord[]>;
  /**
   * The sink confirmed everything up to and including `record`. The cursor is
   * persisted before this resolves, or, where the queue coalesces cursor
   * writes, within its flush interval: a crash re-delivers at most that
   * window and never skips. Acknowledging an older record than before is a no-op.
   */
  ack(record: QueueRecord): Promise<void>;
  /** Moves the read position back to the acknowledged cursor, to send unacknowledged records again. */
  rewind(): void;
}
