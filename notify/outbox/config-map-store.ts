import { type BackoffOptions, RetryStreak } from '../../core/backoff.ts';
import { describeError } from '../../core/errors.ts';
import { describeApiError, responseStatus } from '../../core/kube/api-requests.ts';
import type { KubeClient } from '../../core/kube/client.ts';
import { type ConfigMap, configMapsPath, readConfigMap } from '../../core/kube/objects.ts';
import type { Logger } from '../../core/log.ts';
import type { Entry } from '../compose.ts';
import type { WindowState } from '../rate-window.ts';
import type { StoredDocument } from './document.ts';
import { documentName, type OpenedOutbox, type OutboxLog, type OutboxStore, type SendLog } from './store.ts';

/** Names the replica that owns the object; a write that finds another name there comes from a deposed leader. */
export const OWNER_ANNOTATION = 'lookout/outbox-owner';

export interface ConfigMapOutboxOptions {
  kube: KubeClient;
  namespace: string;
  name: string;
  /** This replica's identity in the Lease. */
  owner: string;
  /** The data the robots may keep there, shared evenly between them; a ConfigMap holds at most 1 MiB. */
  maxBytes: number;
  log: Logger;
  retry?: BackoffOptions;
}

interface RobotData {
  entries: Entry[];
  sends?: { robot: string } & WindowState;
}

const DEFAULT_RETRY: BackoffOptions = { initialMs: 500, maxMs: 15_000 };
/** Conflicts in a row at claim time before giving up: each one means another replica wrote in between. */
const CLAIM_ATTEMPTS = 5;

const dataKey = (robot: string) => `${robot}.json`;

/** Another replica claimed the object: this one lost its Lease and must write no more. */
export class OutboxDeposedError extends Error {
  constructor(where: string, owner: string | undefined) {
    super(`${where} now belongs to ${owner ?? 'another replica'}; this replica no longer writes it`);
    this.name = 'OutboxDeposedError';
  }
}

function entryBytes(entry: Entry): number {
  return Buffer.byteLength(JSON.stringify(entry));
}

/**
 * The robots' outboxes and send logs in one ConfigMap, for replicas that send
 * only while they hold a Lease: the next leader finds there what the last one
 * had not sent, and how much of the minute it had used. The new leader first
 * claims the object (its name in an annotation, written with the
 * resourceVersion it read); every later write carries the resourceVersion of
 * the last, so once another replica has claimed it a deposed leader's write
 * fails with 409 and it stops writing rather than overwrite the new state.
 *
 * Changes are kept in memory at once and written soon after, coalesced, one
 * write at a time; `flush` waits for them. Each robot's share of `maxBytes`
 * bounds what waits: over it, the robot merges the oldest into a digest.
 */
export class ConfigMapOutboxStore implements OutboxStore {
  private readonly options: ConfigMapOutboxOptions;
  private readonly log: Logger;
  private resourceVersion: string | undefined;
  /** What other keys hold (robots no longer configured, or moved-aside data): written back unchanged. */
  private readonly others: Record<string, string>;
  private readonly robots = new Map<string, RobotState>();
  private readonly documents = new Map<string, ConfigMapDocument>();
  private readonly streak: RetryStreak;
  private changes = 0;
  private written = 0;
  private writing: Promise<void> = Promise.resolve();
  private scheduled: NodeJS.Timeout | undefined;
  private deposed: OutboxDeposedError | undefined;
  private closed = false;

  private constructor(options: ConfigMapOutboxOptions, configMap: ConfigMap) {
    this.options = options;
    this.log = options.log;
    this.resourceVersion = configMap.metadata?.resourceVersion;
    this.others = { ...configMap.data };
    this.streak = new RetryStreak({ backoff: options.retry ?? DEFAULT_RETRY });
  }

  /**
   * Reads the object (creating it when missing) and writes this replica's name
   * into it, so that from now on only this replica's writes succeed.
   */
  static async claim(options: ConfigMapOutboxOptions): Promise<ConfigMapOutboxStore> {
    const { kube, namespace, name, owner } = options;
    for (let attempt = 1; ; attempt++) {
      try {
        const current = await readConfigMap(kube, namespace, name);
        const metadata = {
          name,
          resourceVersion: current?.metadata?.resourceVersion,
          annotations: { ...current?.metadata?.annotations, [OWNER_ANNOTATION]: owner },
        };
        const body = { metadata, data: current?.data ?? {} };
        const claimed = current
          ? await kube.put<ConfigMap>(configMapsPath(namespace, name), body)
          : await kube.post<ConfigMap>(configMapsPath(namespace), body);
        return new ConfigMapOutboxStore(options, claimed);
      } catch (err) {
        // 409: another replica wrote in between (a deposed leader's last write); read again and claim once more.
        if (responseStatus(err) !== 409 || attempt >= CLAIM_ATTEMPTS) throw err;
      }
    }
  }

  describe(): string {
    return `ConfigMap ${this.options.namespace}/${this.options.name}`;
  }

  openOutbox(robot: string): OpenedOutbox {
    const state = this.robot(robot);
    // A copy: the robot keeps its own queue, and tells this outbox of each change.
    return { outbox: state, entries: [...state.entries], tornBytes: 0, corrupt: state.corrupt };
  }

  sendLog(robot: string): SendLog {
    return this.robot(robot);
  }

  document(name: string): StoredDocument {
    const key = `${documentName(name)}.json`;
    let document = this.documents.get(key);
    if (!document) {
      document = new ConfigMapDocument(this, this.others[key]);
      delete this.others[key];
      this.documents.set(key, document);
    }
    return document;
  }

  flush(): Promise<void> {
    const target = this.changes;
    this.writing = this.writing.catch(() => {}).then(() => this.writeUpTo(target));
    return this.writing;
  }

  async close(): Promise<void> {
    clearTimeout(this.scheduled);
    this.scheduled = undefined;
    try {
      await this.flush();
    } catch (err) {
      this.log.warn(
        { outbox: this.describe(), err: describeError(err) },
        'could not keep the last outbox changes; the next leader may send some messages again',
      );
    }
    this.closed = true;
  }

  /** The bytes each robot's waiting messages may take. */
  share(): number {
    return Math.floor(this.options.maxBytes / Math.max(1, this.robots.size));
  }

  /** Called on every change: a write follows soon, with whatever else changed meanwhile. */
  changed(): void {
    this.changes++;
    if (this.scheduled || this.closed || this.deposed) return;
    this.writeInBackground();
  }

  private writeInBackground(delayMs = 0): void {
    this.scheduled = setTimeout(() => {
      this.scheduled = undefined;
      this.flush().then(
        () => {
          if (this.streak.succeed() !== undefined)
            this.log.info({ outbox: this.describe() }, 'robot outbox written again');
        },
        (err: unknown) => {
          if (err instanceof OutboxDeposedError || this.closed) return;
          const retryMs = this.streak.fail();
          if (this.streak.failures === 1)
            this.log.warn(
              { outbox: this.describe(), err: describeApiError(err), retryMs },
              'cannot write the robot outbox; retrying (sending goes on from memory)',
            );
          this.writeInBackground(retryMs);
        },
      );
    }, delayMs);
    this.scheduled.unref();
  }

  private robot(name: string): RobotState {
    let state = this.robots.get(name);
    if (!state) {
      const text = this.others[dataKey(name)];
      delete this.others[dataKey(name)];
      state = new RobotState(this, name, text);
      if (state.corrupt) this.others[state.corrupt.movedTo] = text!;
      this.robots.set(name, state);
    }
    return state;
  }

  private async writeUpTo(target: number): Promise<void> {
    if (this.deposed) throw this.deposed;
    if (this.closed || this.written >= target) return;
    const changes = this.changes;
    const data = { ...this.others };
    for (const [name, state] of this.robots) data[dataKey(name)] = state.serialize();
    for (const [key, document] of this.documents) {
      if (document.text !== undefined) data[key] = document.text;
    }
    try {
      await this.replace(data);
    } catch (err) {
      if (responseStatus(err) !== 409) throw err;
      // Ours may be the write that conflicts: one whose answer was lost. Any other owner means a new leader.
      const current = await readConfigMap(this.options.kube, this.options.namespace, this.options.name);
      const owner = current?.metadata?.annotations?.[OWNER_ANNOTATION];
      if (owner !== this.options.owner) {
        this.deposed = new OutboxDeposedError(this.describe(), owner);
        this.log.error(
          { outbox: this.describe(), owner: owner ?? null },
          'another replica took over the robot outbox; this one no longer writes it',
        );
        throw this.deposed;
      }
      this.resourceVersion = current?.metadata?.resourceVersion;
      await this.replace(data);
    }
    this.written = Math.max(this.written, changes);
  }

  private async replace(data: Record<string, string>): Promise<void> {
    const { kube, namespace, name, owner } = this.options;
    const replaced = await kube.put<ConfigMap>(configMapsPath(namespace, name), {
      metadata: { name, resourceVersion: this.resourceVersion, annotations: { [OWNER_ANNOTATION]: owner } },
      data,
    });
    this.resourceVersion = replaced.metadata?.resourceVersion;
  }
}

function parseRobotData(text: string): RobotData {
  const data = JSON.parse(text) as Partial<RobotData>;
  if (!Array.isArray(data.entries)) throw new Error('no list of entries');
  return { entries: data.entries, sends: data.sends };
}

/** A process's own document in the object, written with the robots' data. */
class ConfigMapDocument implements StoredDocument {
  text: string | undefined;
  private readonly store: ConfigMapOutboxStore;

  constructor(store: ConfigMapOutboxStore, text: string | undefined) {
    this.store = store;
    this.text = text;
  }

  load(): string | undefined {
    return this.text;
  }

  async save(text: string): Promise<void> {
    this.text = text;
    this.store.changed();
    // A failure is logged by the background writer; sending goes on without waiting for it.
    await this.store.flush().catch(() => {});
  }
}

/** One robot's part of the object: its waiting messages in order and its send log. */
class RobotState implements OutboxLog, SendLog {
  readonly entries: Entry[] = [];
  readonly corrupt: { error: string; movedTo: string } | undefined;
  private readonly store: ConfigMapOutboxStore;
  private readonly bytes = new Map<Entry, number>();
  private total = 0;
  private sends: RobotData['sends'];

  constructor(store: ConfigMapOutboxStore, name: string, text: string | undefined) {
    this.store = store;
    if (text === undefined) return;
    try {
      const data = parseRobotData(text);
      this.sends = data.sends;
      for (const entry of data.entries) this.track(entry);
    } catch (err) {
      // Kept under another key for inspection, never silently emptied.
      this.corrupt = { error: `robot ${name}: ${(err as Error).message}`, movedTo: `${name}.corrupt` };
    }
  }

  serialize(): string {
    return JSON.stringify({ entries: this.entries, sends: this.sends } satisfies RobotData);
  }

  setPolicy(): void {}

  add(entries: readonly Entry[]): void {
    for (const entry of entries) this.track(entry);
    this.store.changed();
  }

  replace(previous: Entry, next: Entry): void {
    const index = this.entries.indexOf(previous);
    if (index < 0) return;
    this.untrack(previous);
    this.entries[index] = next;
    this.count(next);
    this.store.changed();
  }

  remove(entries: readonly Entry[]): void {
    const gone = new Set(entries);
    const kept = this.entries.filter((e) => !gone.has(e));
    if (kept.length === this.entries.length) return;
    for (const entry of entries) this.untrack(entry);
    this.entries.splice(0, this.entries.length, ...kept);
    this.store.changed();
  }

  fits(): boolean {
    return this.total <= this.store.share();
  }

  close(): void {}

  load(fingerprint: string): WindowState | undefined {
    const sends = this.sends;
    if (!sends || sends.robot !== fingerprint) return undefined;
    return { sent: sends.sent, blockedUntil: sends.blockedUntil };
  }

  async save(fingerprint: string, state: WindowState): Promise<void> {
    this.sends = { robot: fingerprint, ...state };
    this.store.changed();
    // A failure is logged by the background writer; sending goes on without waiting for it.
    await this.store.flush().catch(() => {});
  }

  private track(entry: Entry): void {
    this.entries.push(entry);
    this.count(entry);
  }

  private count(entry: Entry): void {
    const bytes = entryBytes(entry);
    this.bytes.set(entry, bytes);
    this.total += bytes;
  }

  private untrack(entry: Entry): void {
    this.total -= this.bytes.get(entry) ?? 0;
    this.bytes.delete(entry);
  }
}
