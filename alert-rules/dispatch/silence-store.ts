import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { isNotFound, writeFileAtomic } from '../../core/atomic-file.ts';
import type { SilenceMatcher } from '../api-types.ts';

export interface Silence {
  id: string;
  matchers: SilenceMatcher[];
  /** Milliseconds since the epoch. */
  startsAt: number;
  endsAt: number;
  updatedAt: number;
  createdBy: string;
  comment: string;
}

export interface LoadedSilences {
  silences: Silence[];
  /** Set when what was stored could not be read: why, and where it was moved aside. */
  corrupt?: { error: string; movedTo: string };
}

/** Where silences are kept between runs: a file in the data directory, or (with two replicas) a shared object. */
export interface SilenceStore {
  /** For logs: where it lives. */
  describe(): string;
  /** What was saved last; nothing when nothing was. Never rejects for unreadable content: it reports it as corrupt. */
  load(): Promise<LoadedSilences>;
  save(silences: readonly Silence[]): Promise<void>;
}

const FORMAT_VERSION = 1;

/** The stored form: times as RFC 3339 text, readable by a person looking at the file. */
export function serializeSilences(silences: readonly Silence[]): string {
  return JSON.stringify({
    version: FORMAT_VERSION,
    silences: silences.map((s) => ({
      ...s,
      startsAt: new Date(s.startsAt).toISOString(),
      endsAt: new Date(s.endsAt).toISOString(),
      updatedAt: new Date(s.updatedAt).toISOString(),
    })),
  });
}

function time(value: unknown, what: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new Error(`${what}: not a time`);
  return ms;
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what}: not a string`);
  return value;
}

function matcher(value: unknown, what: string): SilenceMatcher {
  const m = value as Partial<Record<keyof SilenceMatcher, unknown>> | null;
  if (!m || typeof m.isRegex !== 'boolean' || typeof m.isEqual !== 'boolean')
    throw new Error(`${what}: not a matcher`);
  return {
    name: text(m.name, `${what}.name`),
    value: text(m.value, `${what}.value`),
    isRegex: m.isRegex,
    isEqual: m.isEqual,
  };
}

/** Reads the stored form; throws on anything that is not exactly it. */
export function parseSilences(json: string): Silence[] {
  const data = JSON.parse(json) as { version?: unknown; silences?: unknown };
  if (data.version !== FORMAT_VERSION)
    throw new Error(`unknown format version ${JSON.stringify(data.version)}`);
  if (!Array.isArray(data.silences)) throw new Error('no list of silences');
  return data.silences.map((raw: Record<string, unknown>, i) => {
    const where = `silences[${i}]`;
    if (!Array.isArray(raw?.matchers)) throw new Error(`${where}.matchers: not a list`);
    return {
      id: text(raw.id, `${where}.id`),
      matchers: raw.matchers.map((m, j) => matcher(m, `${where}.matchers[${j}]`)),
      startsAt: time(raw.startsAt, `${where}.startsAt`),
      endsAt: time(raw.endsAt, `${where}.endsAt`),
      updatedAt: time(raw.updatedAt, `${where}.updatedAt`),
      createdBy: text(raw.createdBy, `${where}.createdBy`),
      comment: text(raw.comment, `${where}.comment`),
    };
  });
}

/** A file in the data directory, replaced atomically on every save. */
export class FileSilenceStore implements SilenceStore {
  private readonly file: string;

  constructor(dataDir: string, fileName = 'silences.json') {
    this.file = join(dataDir, fileName);
  }

  describe(): string {
    return `file ${this.file}`;
  }

  async load(): Promise<LoadedSilences> {
    let json: string;
    try {
      json = await readFile(this.file, 'utf8');
    } catch (err) {
      if (isNotFound(err)) return { silences: [] };
      throw err;
    }
    try {
      return { silences: parseSilences(json) };
    } catch (err) {
      // Kept for inspection rather than overwritten by the next save.
      const movedTo = `${this.file}.corrupt-${Date.now()}`;
      await rename(this.file, movedTo);
      return { silences: [], corrupt: { error: (err as Error).message, movedTo } };
    }
  }

  async save(silences: readonly Silence[]): Promise<void> {
    await writeFileAtomic(this.file, serializeSilences(silences));
  }
}

/**
 * Two replicas' views of the silences made one, as Alertmanager's peers
 * merge theirs: per id, the version updated last wins.
 */
export function mergeSilences(ours: readonly Silence[], theirs: readonly Silence[]): Silence[] {
  const merged = new Map<string, Silence>();
  for (const silence of [...theirs, ...ours]) {
    const known = merged.get(silence.id);
    if (!known || silence.updatedAt >= known.updatedAt) merged.set(silence.id, silence);
  }
  return [...merged.values()];
}
