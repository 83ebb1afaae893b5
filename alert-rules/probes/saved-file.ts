import { mkdir, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { isNotFound, writeFileAtomic } from '../../core/atomic-file.ts';
import { describeError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { Metrics } from '../../core/metrics.ts';
import { PROBE_SCHEDULER_METRICS as M } from './metrics.ts';

/** A document whose targets are written one by one: ten thousand of them are megabytes of JSON. */
export interface SavedDocument {
  version: number;
  savedAtMs: number;
  targets: Iterable<unknown>;
}

/** Targets serialised between two yields to the event loop. */
const TARGETS_PER_TURN = 500;

/**
 * The document's JSON, its targets serialised a batch at a time with the
 * event loop free between batches, so that saving does not hold up probes
 * that are due; undefined as soon as it is over `maxBytes`.
 */
async function boundedJson(document: SavedDocument, maxBytes: number): Promise<string | undefined> {
  const { targets, ...head } = document;
  // `targets` comes last, so its array is the end of the head's JSON: `..."targets":[]}`.
  const parts = [JSON.stringify({ ...head, targets: [] }).slice(0, -2)];
  let bytes = Buffer.byteLength(parts[0]!) + 2;
  let count = 0;
  for (const target of targets) {
    if (count > 0 && count % TARGETS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
    const part = `${count > 0 ? ',' : ''}${JSON.stringify(target)}`;
    bytes += Buffer.byteLength(part);
    if (bytes > maxBytes) return undefined;
    parts.push(part);
    count++;
  }
  parts.push(']}');
  return parts.join('');
}

export interface SavedFileOptions<T> {
  path: string;
  /** The `file` label of its metrics and the word its log lines use. */
  name: string;
  schema: z.ZodType<T>;
  maxBytes: number;
  log: Logger;
  metrics: Metrics;
}

/**
 * One JSON document in the data directory, replaced atomically and bounded in
 * size. A file that cannot be understood is moved aside (`<file>.corrupt`,
 * replacing an earlier one) and counted, and the caller starts empty.
 */
export class SavedFile<T> {
  private readonly options: SavedFileOptions<T>;
  private readonly saveFailures;
  private readonly restoreFailures;
  private readonly bytes;

  constructor(options: SavedFileOptions<T>) {
    this.options = options;
    this.saveFailures = options.metrics.counter(M.saveFailures);
    this.restoreFailures = options.metrics.counter(M.restoreFailures);
    this.bytes = options.metrics.gauge(M.savedBytes);
  }

  /** The saved document; undefined when there is none or it cannot be used (logged and counted, never thrown). */
  async load(): Promise<T | undefined> {
    const { path, name, schema, log } = this.options;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      return this.unusable(err, 'cannot be read');
    }
    try {
      return schema.parse(JSON.parse(text));
    } catch (err) {
      const aside = `${path}.corrupt`;
      try {
        await rename(path, aside);
        log.warn({ path, aside }, `The saved probe ${name} was moved aside`);
      } catch (renameErr) {
        log.error({ path, err: describeError(renameErr) }, `The saved probe ${name} cannot be moved aside`);
      }
      return this.unusable(err, 'is not understood');
    }
  }

  private unusable(err: unknown, why: string): undefined {
    const { path, name, log } = this.options;
    this.restoreFailures.inc({ file: name });
    log.error(
      { path, err: describeError(err).slice(0, 500) },
      `The saved probe ${name} ${why}; the probes start without it`,
    );
    return undefined;
  }

  /**
   * Saves the first of `candidates` (fullest first) whose JSON fits the size
   * bound; failures are logged and counted, never thrown (the next save tries
   * again).
   */
  async save(candidates: readonly (() => SavedDocument)[]): Promise<void> {
    const { path, name, maxBytes, log } = this.options;
    let text: string | undefined;
    for (const [index, candidate] of candidates.entries()) {
      text = await boundedJson(candidate(), maxBytes);
      if (text === undefined) continue;
      if (index > 0)
        log.warn({ path, maxBytes }, `The probe ${name} is over its size limit; saved cut short`);
      break;
    }
    if (text === undefined) {
      this.saveFailures.inc({ file: name, reason: 'too_large' });
      log.error({ path, maxBytes }, `The probe ${name} is over its size limit; not saved`);
      return;
    }
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFileAtomic(path, text);
      this.bytes.set({ file: name }, Buffer.byteLength(text));
    } catch (err) {
      this.saveFailures.inc({ file: name, reason: 'write' });
      log.error({ path, err: describeError(err) }, `Saving the probe ${name} failed; trying again later`);
    }
  }
}
