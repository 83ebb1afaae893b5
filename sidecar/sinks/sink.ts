import type { LogRecord } from '../../core/record/log-record.ts';

/** One event as the queue holds it: its id, time, and the finished record JSON. */
export type Entry = LogRecord;

/** A queue payload decoded: the fields common to the file it came from, and its events. */
export interface Batch {
  header: Record<string, unknown>;
  entries: Entry[];
}

export interface Sink {
  readonly name: string;
  /**
   * Resolves when every entry is confirmed by the destination or, for a
   * permanent per-record rejection, written to the dead-letter file. Throws when
   * the destination cannot be reached; the runner then retries the same batches.
   */
  deliver(batches: Batch[], signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}
