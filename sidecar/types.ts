/**
 * The contracts between the sidecar's stages:
 *
 *   tail (RawLine) → container format → multiline → parse (LogEvent) → record (queue entry)
 *   → queue (QueueBatch) → sinks
 *
 * Offsets are byte offsets in the file being read, so a line read twice keeps
 * its offset and therefore its event.id.
 */

/** One line as read from a file, newline removed, already decoded (invalid UTF-8 replaced). */
export interface RawLine {
  text: string;
  /** Byte offset of the line's first byte. */
  offset: number;
  /** Byte offset just past the line's newline: where reading resumes. */
  end: number;
  /** The line was longer than the limit and was cut on a UTF-8 boundary. */
  truncated: boolean;
  /**
   * The event time when the line has none: when it was read, as the tailer
   * saved it, so that a line read again after a crash gets the same time.
   */
  readAt: number;
  /** Wall-clock ms when the line arrived: the joiners' timeouts count from here. */
  receivedAt: number;
}

/** One log event on its way through the pipeline (a line, or several joined by multiline/partials). */
export interface LogEvent {
  message: string;
  /** Byte offset of the event's first byte. */
  offset: number;
  /** Byte offset just past the event's last line. */
  end: number;
  truncated: boolean;
  readAt: number;
  receivedAt: number;
  /** Event time in epoch ms, when the line carried one. */
  time?: number;
  /** The time the line carried when it was too far in the future to be the event time. */
  futureTime?: number;
  level?: string;
  /** stdout/stderr, from container log formats. */
  stream?: string;
  /** Fields parsed from the line (JSON, regex groups, logfmt). */
  fields?: Record<string, unknown>;
  /** Why parsing failed; the raw line is kept. */
  parseError?: string;
}

/**
 * A stage that may hold events back (multiline, CRI partial lines). The file
 * checkpoint must never pass `pendingOffset()`, or a crash would lose what is held.
 */
export interface Joiner<In, Out> {
  push(item: In): Out[];
  /** Emits what has waited longer than the stage's timeout (or everything with force). */
  flush(now: number, force?: boolean): Out[];
  /** Offset of the first byte still held, if any. */
  pendingOffset(): number | undefined;
}

/** Everything that is the same for every line of one file: Kubernetes fields, host, service, static fields. */
export type SourceFields = Record<string, unknown>;

/**
 * The identity of a file, by content and inode rather than name. It survives
 * renames; copytruncate bumps `generation`.
 */
export interface FileIdentity {
  dev: number;
  ino: number;
  /** Hash of the file's first `fingerprintLength` bytes. */
  fingerprint: string;
  fingerprintLength: number;
  generation: number;
}
