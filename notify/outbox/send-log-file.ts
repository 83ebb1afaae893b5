import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isNotFound, writeFileAtomic } from '../../core/atomic-file.ts';
import type { Logger } from '../../core/log.ts';
import type { WindowState } from '../rate-window.ts';
import type { SendLog } from './store.ts';

interface Stored extends WindowState {
  /** A hash of the robot's address: a history belongs to the real robot, not to the name it is configured under. */
  robot: string;
}

/** Names the real robot without keeping its token in the file. */
export function robotFingerprint(identity: string): string {
  return createHash('sha256').update(identity).digest('hex').slice(0, 32);
}

function isStored(value: unknown): value is Stored {
  const v = value as Partial<Stored> | null;
  return (
    typeof v?.robot === 'string' &&
    typeof v.blockedUntil === 'number' &&
    Array.isArray(v.sent) &&
    v.sent.every((t) => typeof t === 'number')
  );
}

/**
 * One robot's recent send times and throttle, kept in a small file replaced
 * atomically, so a new process starts with the minute the last one used.
 * Saves are written one at a time, the latest state winning.
 */
export class SendLogFile implements SendLog {
  private readonly file: string;
  private readonly log: Logger;
  private readonly robot: string;
  private pending: Stored | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(file: string, robot: string, log: Logger) {
    this.file = file;
    this.robot = robot;
    this.log = log;
  }

  /** What the last process recorded for the same real robot; undefined when nothing (or another robot) was. */
  load(fingerprint: string): WindowState | undefined {
    let stored: unknown;
    try {
      stored = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      this.log.warn(
        { robot: this.robot, error: (err as Error).message },
        'robot send log unreadable; starting without it',
      );
      return undefined;
    }
    if (!isStored(stored) || stored.robot !== fingerprint) return undefined;
    return { sent: stored.sent, blockedUntil: stored.blockedUntil };
  }

  /** Resolves once `state` (or a later one) is durable. A failure is logged: sending goes on without it. */
  save(fingerprint: string, state: WindowState): Promise<void> {
    const idle = this.pending === undefined;
    this.pending = { robot: fingerprint, ...state };
    if (idle) this.writing = this.writing.then(() => this.writeLatest());
    return this.writing;
  }

  private async writeLatest(): Promise<void> {
    const state = this.pending;
    this.pending = undefined;
    if (!state) return;
    try {
      await writeFileAtomic(this.file, JSON.stringify(state));
    } catch (err) {
      this.log.warn(
        { robot: this.robot, error: (err as Error).message },
        'could not save the robot send log; a restart may not see these sends',
      );
    }
  }
}
