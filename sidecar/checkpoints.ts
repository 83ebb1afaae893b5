import { copyFile, link, readFile, rename } from 'node:fs/promises';
import { isNotFound, removeIfExists, writeFileAtomic } from '../core/atomic-file.ts';
import type { Logger } from '../core/log.ts';
import { Coalescer } from '../core/waiters.ts';

const VERSION = 1;

export interface CheckpointStoreOptions {
  log?: Logger;
}

/** Where the positions came from at open. */
export type CheckpointSource = 'file' | 'backup' | 'empty';

type Loaded = { entries: Map<string, string> } | 'missing' | 'corrupt';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function load(file: string): Promise<Loaded> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (isNotFound(err)) return 'missing';
    throw err;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (!isPlainObject(parsed) || parsed.version !== VERSION || !isPlainObject(parsed.checkpoints)) {
      return 'corrupt';
    }
    const entries = new Map<string, string>();
    for (const [key, value] of Object.entries(parsed.checkpoints)) {
      if (!isPlainObject(value)) return 'corrupt';
      entries.set(key, JSON.stringify(value));
    }
    return { entries };
  } catch {
    return 'corrupt';
  }
}

/**
 * File read positions, saved as one JSON file. A flush replaces the file
 * atomically (tmp → fsync → rename → fsync dir) and first keeps the file it
 * replaces as `<file>.bak`: should the main file be found damaged anyway (a
 * filesystem that reorders, a disk error), the previous flush's positions
 * are used. Older positions only make the tailer read lines again.
 *
 * Values are stored as their JSON text at set(), so a caller mutating its
 * object afterwards cannot make a flush save a position it has not committed.
 */
export class CheckpointStore<V extends object = Record<string, unknown>> {
  readonly file: string;
  /** Where the positions came from at open. */
  readonly source: CheckpointSource;
  /** Files (main, backup) found damaged at open. */
  readonly corruptFiles: number;
  private readonly entries: Map<string, string>;
  private readonly log: Logger | undefined;
  private dirty = false;
  private readonly flusher = new Coalescer(() => this.write());

  private constructor(
    file: string,
    loaded: { entries: Map<string, string>; source: CheckpointSource; corrupt: number },
    log: Logger | undefined,
  ) {
    this.file = file;
    this.entries = loaded.entries;
    this.source = loaded.source;
    this.corruptFiles = loaded.corrupt;
    this.log = log;
  }

  static async open<V extends object = Record<string, unknown>>(
    file: string,
    options: CheckpointStoreOptions = {},
  ): Promise<CheckpointStore<V>> {
    const { log } = options;
    // Leftovers of a flush interrupted before its renames; the files they were meant to replace still stand.
    await removeIfExists(`${file}.tmp`);
    await removeIfExists(`${file}.bak.tmp`);
    let corrupt = 0;
    const main = await load(file);
    if (typeof main === 'object')
      return new CheckpointStore<V>(file, { ...main, source: 'file', corrupt }, log);
    if (main === 'corrupt') corrupt++;
    const backup = await load(`${file}.bak`);
    if (backup === 'corrupt') corrupt++;
    if (typeof backup === 'object') {
      log?.warn(
        { file, main },
        'checkpoint file unusable: using the previous version; some lines are read again',
      );
      return new CheckpointStore<V>(file, { ...backup, source: 'backup', corrupt }, log);
    }
    if (corrupt > 0)
      log?.error({ file }, 'checkpoint file and its backup unusable: starting without positions');
    return new CheckpointStore<V>(file, { entries: new Map(), source: 'empty', corrupt }, log);
  }

  get(key: string): V | undefined {
    const text = this.entries.get(key);
    return text === undefined ? undefined : (JSON.parse(text) as V);
  }

  set(key: string, value: V): void {
    const text = JSON.stringify(value);
    if (this.entries.get(key) === text) return;
    this.entries.set(key, text);
    this.dirty = true;
  }

  delete(key: string): void {
    if (this.entries.delete(key)) this.dirty = true;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  get size(): number {
    return this.entries.size;
  }

  /** Saves the current positions. Concurrent calls share writes; each resolves after a write that saw its changes. */
  flush(): Promise<void> {
    return this.flusher.run();
  }

  private async write(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const parts: string[] = [];
    for (const [key, text] of this.entries) parts.push(`${JSON.stringify(key)}:${text}`);
    const body = `{"version":${VERSION},"checkpoints":{${parts.join(',')}}}\n`;
    try {
      await writeFileAtomic(this.file, body, () => this.keepBackup());
    } catch (err) {
      this.dirty = true;
      throw err;
    }
  }

  /** Points `.bak` at the file about to be replaced (a hard link: the old inode is never written again). */
  private async keepBackup(): Promise<void> {
    const backup = `${this.file}.bak`;
    const tmp = `${backup}.tmp`;
    await removeIfExists(tmp);
    try {
      await link(this.file, tmp);
    } catch (err) {
      if (isNotFound(err)) return;
      // Filesystems without hard links: a copy, checked like any file at open.
      this.log?.debug({ err }, 'hard link refused; copying the checkpoint backup');
      try {
        await copyFile(this.file, tmp);
      } catch (copyErr) {
        if (isNotFound(copyErr)) return;
        throw copyErr;
      }
    }
    await rename(tmp, backup);
  }
}
