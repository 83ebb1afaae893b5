import { z } from 'zod';
import type { Logger } from '../../core/log.ts';
import type { StoredDocument } from '../../notify/outbox/document.ts';

/** What a receiver was last told about one alert group (Alertmanager's notification log entry). */
export interface NotificationLogEntry {
  receiver: string;
  groupKey: string;
  /** Fingerprints of the alerts firing when it was told. */
  firing: string[];
  /** Fingerprints of the alerts resolved when it was told. */
  resolved: string[];
  sentAt: number;
  /** Forgotten after this: the group's repeat interval plus the retention. */
  expiresAt: number;
}

export interface NotificationLogOptions {
  /** Where the log is kept across restarts and leaders; undefined keeps it in memory only. */
  document?: StoredDocument;
  /** How long an entry outlives its repeat interval (Alertmanager keeps its log 120 hours). */
  retentionMs: number;
  /** Entries kept at most; beyond it those expiring soonest are forgotten (their group may be told again early). */
  maxEntries: number;
  log: Logger;
}

const entryKey = (receiver: string, groupKey: string) => JSON.stringify([receiver, groupKey]);

const storedSchema = z.object({
  entries: z.array(
    z.object({
      receiver: z.string(),
      groupKey: z.string(),
      firing: z.array(z.string()),
      resolved: z.array(z.string()),
      sentAt: z.number(),
      expiresAt: z.number(),
    }),
  ),
});

/**
 * Which alerts each receiver was told about for each group, and when, so the
 * dispatcher tells only what changed or is due again. Kept as one document
 * beside the robots' outboxes, so that after a restart (or on the next
 * leader) a firing group is not told again before its repeat interval, and a
 * group whose alerts resolve while nothing remembers them in memory is still
 * told that they resolved.
 */
export class NotificationLog {
  private readonly options: NotificationLogOptions;
  private readonly entries = new Map<string, NotificationLogEntry>();
  private saving: Promise<void> = Promise.resolve();

  constructor(options: NotificationLogOptions) {
    this.options = options;
    this.load();
  }

  get size(): number {
    return this.entries.size;
  }

  /** The receiver's last notification of the group, unless it expired. */
  query(receiver: string, groupKey: string, now: number): NotificationLogEntry | undefined {
    const entry = this.entries.get(entryKey(receiver, groupKey));
    return entry && entry.expiresAt > now ? entry : undefined;
  }

  /** Records a notification; resolves once it is kept (a failure to keep it is logged, never thrown). */
  record(entry: Omit<NotificationLogEntry, 'expiresAt'>, repeatIntervalMs: number): Promise<void> {
    const expiresAt = entry.sentAt + repeatIntervalMs + this.options.retentionMs;
    const key = entryKey(entry.receiver, entry.groupKey);
    this.entries.delete(key);
    this.entries.set(key, { ...entry, expiresAt });
    this.prune(entry.sentAt);
    return this.save();
  }

  /** Resolves once every record made so far is kept (before a shutdown). */
  saved(): Promise<void> {
    return this.saving;
  }

  private prune(now: number): void {
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
    if (this.entries.size <= this.options.maxEntries) return;
    // Down to nine tenths, so a full log is pruned (and logged) once in a while, not on every notification.
    const over = this.entries.size - Math.floor(this.options.maxEntries * 0.9);
    const soonest = [...this.entries].sort(([, a], [, b]) => a.expiresAt - b.expiresAt).slice(0, over);
    for (const [key] of soonest) this.entries.delete(key);
    this.options.log.warn(
      { forgotten: over, maxEntries: this.options.maxEntries },
      'notification log full: forgot the entries expiring soonest; their groups may be told again early',
    );
  }

  private save(): Promise<void> {
    const { document } = this.options;
    if (!document) return Promise.resolve();
    this.saving = document.save(JSON.stringify({ entries: [...this.entries.values()] }));
    return this.saving;
  }

  private load(): void {
    const text = this.options.document?.load();
    if (text === undefined) return;
    try {
      const stored = storedSchema.parse(JSON.parse(text));
      for (const entry of stored.entries) this.entries.set(entryKey(entry.receiver, entry.groupKey), entry);
    } catch (err) {
      this.options.log.warn(
        { error: (err as Error).message },
        'notification log unreadable; starting without it (firing groups may be told again)',
      );
    }
  }
}
