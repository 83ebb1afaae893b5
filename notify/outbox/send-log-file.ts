import { createHash } from 'node:crypto';
import type { Logger } from '../../core/log.ts';
import type { WindowState } from '../rate-window.ts';
import { DocumentFile } from './document.ts';
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
 */
export class SendLogFile implements SendLog {
  private readonly document: DocumentFile;
  private readonly log: Logger;
  private readonly robot: string;

  constructor(file: string, robot: string, log: Logger) {
    this.document = new DocumentFile(file, 'robot send log', log, { robot });
    this.robot = robot;
    this.log = log;
  }

  /** What the last process recorded for the same real robot; undefined when nothing (or another robot) was. */
  load(fingerprint: string): WindowState | undefined {
    const text = this.document.load();
    if (text === undefined) return undefined;
    let stored: unknown;
    try {
      stored = JSON.parse(text);
    } catch (err) {
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
    return this.document.save(JSON.stringify({ robot: fingerprint, ...state } satisfies Stored));
  }
}
