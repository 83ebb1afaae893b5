import { readFileSync } from 'node:fs';
import { isNotFound, writeFileAtomic } from '../../core/atomic-file.ts';
import type { Logger } from '../../core/log.ts';

/**
 * A small text a sender keeps beside its robots' outboxes, so that the next
 * process (or the next leader) starts from it: the robots' send logs, or which
 * alerts were last told to whom.
 */
export interface StoredDocument {
  /** What was kept last; undefined when nothing was, or it cannot be read (logged). */
  load(): string | undefined;
  /** Resolves once `text` (or a later one) is kept. Never rejects: a failure is logged and sending goes on. */
  save(text: string): Promise<void>;
}

/**
 * A document in a file replaced atomically. Saves are written one at a time,
 * the latest text winning, so a burst of saves costs one or two writes.
 */
export class DocumentFile implements StoredDocument {
  private readonly file: string;
  /** Names the document in log lines: "robot send log". */
  private readonly what: string;
  private readonly context: Record<string, unknown>;
  private readonly log: Logger;
  private pending: string | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(file: string, what: string, log: Logger, context: Record<string, unknown> = {}) {
    this.file = file;
    this.what = what;
    this.log = log;
    this.context = context;
  }

  load(): string | undefined {
    try {
      return readFileSync(this.file, 'utf8');
    } catch (err) {
      if (!isNotFound(err)) {
        this.log.warn(
          { ...this.context, error: (err as Error).message },
          `${this.what} unreadable; starting without it`,
        );
      }
      return undefined;
    }
  }

  save(text: string): Promise<void> {
    const idle = this.pending === undefined;
    this.pending = text;
    if (idle) this.writing = this.writing.then(() => this.writeLatest());
    return this.writing;
  }

  private async writeLatest(): Promise<void> {
    const text = this.pending;
    this.pending = undefined;
    if (text === undefined) return;
    try {
      await writeFileAtomic(this.file, text);
    } catch (err) {
      this.log.warn(
        { ...this.context, error: (err as Error).message },
        `could not save the ${this.what}; a restart may not see the latest of it`,
      );
    }
  }
}
