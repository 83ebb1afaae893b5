import { join } from 'node:path';
import type { Logger } from '../../core/log.ts';
import type { Entry } from '../compose.ts';
import type { WindowState } from '../rate-window.ts';
import { DocumentFile, type StoredDocument } from './document.ts';
import { type FsyncPolicy, Outbox } from './outbox.ts';
import { SendLogFile } from './send-log-file.ts';

/** One robot's waiting messages, changed as the robot queues, merges and sends them. */
export interface OutboxLog {
  setPolicy(policy: FsyncPolicy): void;
  add(entries: readonly Entry[], now: number): void;
  /** `next` takes `previous`'s place in the order it is replayed in. */
  replace(previous: Entry, next: Entry, now: number): void;
  remove(entries: readonly Entry[], now: number): void;
  /** False while what waits is over the store's size bound: the robot then merges the oldest into a digest. */
  fits(): boolean;
  close(): void;
}

export interface OpenedOutbox {
  outbox: OutboxLog;
  /** What waited when the last process (or leader) stopped, oldest first. */
  entries: Entry[];
  /** Bytes of a last record cut short by a crash, removed at open. */
  tornBytes: number;
  /** Set when what was stored could not be read: why, and where it was moved aside. */
  corrupt?: { error: string; movedTo: string };
}

/** A robot's recent send times and throttle, kept for the next process. */
export interface SendLog {
  /** What was recorded for the same real robot; undefined when nothing (or another robot) was. */
  load(fingerprint: string): WindowState | undefined;
  /** Resolves once `state` (or a later one) is kept. Never rejects: a failure is logged and sending goes on. */
  save(fingerprint: string, state: WindowState): Promise<void>;
}

/** Where the robots of a process keep their outbox and send log. */
export interface OutboxStore {
  /** For logs: where it lives. */
  describe(): string;
  openOutbox(robot: string, policy: FsyncPolicy, now: number): OpenedOutbox;
  sendLog(robot: string, log: Logger): SendLog;
  /**
   * A document of the process's own kept in the same place, so that what it
   * says about the messages survives with them: `name` is letters, digits,
   * "-" and "_"; `what` names it in log lines.
   */
  document(name: string, what: string, log: Logger): StoredDocument;
  /** Resolves once every change made before the call is kept; rejects when it cannot be. */
  flush(): Promise<void>;
  /** After the robots stopped: keeps their last changes, then writes no more. */
  close(): Promise<void>;
}

/** Files in the data directory: a single process's store. Writes are synchronous, so flush has nothing to wait for. */
export class FileOutboxStore implements OutboxStore {
  private readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  describe(): string {
    return `directory ${this.dir}`;
  }

  openOutbox(robot: string, policy: FsyncPolicy, now: number): OpenedOutbox {
    return Outbox.open(join(this.dir, `${robot}.outbox`), policy, now);
  }

  sendLog(robot: string, log: Logger): SendLog {
    return new SendLogFile(join(this.dir, `${robot}.sends.json`), robot, log);
  }

  document(name: string, what: string, log: Logger): StoredDocument {
    return new DocumentFile(join(this.dir, `${documentName(name)}.json`), what, log);
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}

const DOCUMENT_NAME = /^[A-Za-z0-9_-]+$/;

/** Document names start with "_", which no robot name does, so a document never takes a robot's file or key. */
export function documentName(name: string): string {
  if (!DOCUMENT_NAME.test(name)) throw new Error(`invalid document name ${JSON.stringify(name)}`);
  return `_${name}`;
}
