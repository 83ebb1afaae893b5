import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Logger } from '../../../core/log.ts';
import type { LogRecord } from '../../../core/record/log-record.ts';
import { emptyBuckets } from '../../query/histogram.ts';
import type { SearchQuery, SortKey } from '../../query/types.ts';
import { boundedDoc } from '../hit-doc.ts';
import type {
  ContextQuery,
  ContextResult,
  CountResult,
  FacetResult,
  LogHit,
  LogStore,
  SearchResult,
  WriteOutcome,
} from '../store.ts';
import { DayFile, type Line, type StreamName } from './day.ts';
import { IdFilter } from './id-filter.ts';
import { type Plan, plan } from './match.ts';
import { fieldValues, keywordText, MAX_TIME, toRow } from './record.ts';

export interface EmbeddedStoreOptions {
  /** The folder of the day files; created when missing. */
  dir: string;
  log?: Logger;
  /**
   * Past this many bytes of day files an error (logged once) says the logs
   * have outgrown one machine and points to Elasticsearch. Default 20 GiB:
   * some 20 million lines, where unselective searches, histograms and
   * context across many days start to take seconds on one disk and core.
   */
  warnAtBytes?: number;
}

export const DEFAULT_WARN_AT_BYTES = 20 * 1024 ** 3;

const DAY_MS = 86_400_000;
const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.sqlite$/;
/** Hits counted before the total says "at least". */
const TOTAL_LIMIT = 10_000;
/** Largest page, and most context lines on one side, as Elasticsearch's max_result_window. */
const MAX_WINDOW = 10_000;
/** Lines a facet counts values over at most, the newest matching ones: each is read and parsed. */
const FACET_SAMPLE = 5_000;
/** Longer values are not counted, as Elasticsearch does not index keywords past `ignore_above` (1,024 characters). */
const MAX_FACET_VALUE_CHARS = 1_024;
/** Day files kept open; the least recently used one is closed past this. */
const MAX_OPEN_DAYS = 16;
/** Most lines written in one transaction, and the longest one may take, before the event loop gets a turn. */
const WRITE_BATCH = 1_000;
const WRITE_SLICE_MS = 10;
/** Milliseconds of time a stepwise scan starts with; each step grows or shrinks by how long the last one took. */
const FIRST_STEP_MS = 10 * 60_000;
const STEP_FAST_MS = 8;
const STEP_SLOW_MS = 30;
const MIN_STEP_MS = 1_000;
const SIZE_CHECK_MS = 60_000;
/** Ids read from a day file at a time while its id filter is built. */
const ID_READ_STEP = 20_000;

/** SQLite's JSON path of a dotted field in a stored document, whose fields are nested by name part. */
const jsonPath = (field: string) =>
  `$${field
    .split('.')
    .map((part) => `.${JSON.stringify(part)}`)
    .join('')}`;

const dayName = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

/** The id filter of one day: usable once complete; writes add to it while it is built. */
interface DayIds {
  filter: IdFilter;
  complete: boolean;
  built: Promise<void>;
}

/** One SQL call's worth of a scan: a time range inside one day. */
interface Step {
  day: number;
  from: number;
  to: number;
}

/**
 * Logs in SQLite (node:sqlite) on one machine, answering the same queries
 * as the Elasticsearch store. Like Elasticsearch's daily indices, each UTC
 * day of `@timestamp` is a file of its own (see schema.ts for its
 * tables), so retention deletes files and never rewrites what stays.
 *
 * Every SQLite call blocks the event loop, so each one is bounded: writes
 * commit in slices, reads are limited, and scans that may read far
 * (histograms, checks on columns) go in steps (see scan).
 */
export class EmbeddedStore implements LogStore {
  readonly kind = 'embedded' as const;
  private readonly dir: string;
  private readonly log: Logger | undefined;
  private readonly warnAtBytes: number;
  private opened = false;
  /** Days that have a file, as day numbers since the epoch. */
  private readonly days = new Set<number>();
  /** Open files, least recently used first. */
  private readonly files = new Map<number, DayFile>();
  private sizeCheckedAt = 0;
  private sizeWarned = false;
  /** The id filter of each day, built in the background after open and kept up to date by writes. */
  private readonly dayIds = new Map<number, DayIds>();

  constructor(options: EmbeddedStoreOptions) {
    this.dir = options.dir;
    this.log = options.log;
    this.warnAtBytes = options.warnAtBytes ?? DEFAULT_WARN_AT_BYTES;
  }

  async open(): Promise<void> {
    if (this.opened) return;
    try {
      mkdirSync(this.dir, { recursive: true });
      for (const name of readdirSync(this.dir)) {
        const match = DAY_FILE.exec(name);
        if (match) this.days.add(Date.parse(match[1]!) / DAY_MS);
      }
    } catch (err) {
      throw new Error(`cannot open the embedded log store in ${this.dir}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.opened = true;
    this.checkSize(true);
    void this.buildIdFilters();
  }

  async close(): Promise<void> {
    this.opened = false;
    for (const file of this.files.values()) file.close();
    this.files.clear();
    this.days.clear();
    this.dayIds.clear();
  }

  async ping(): Promise<boolean> {
    if (!this.opened) return false;
    try {
      return statSync(this.dir).isDirectory();
    } catch {
      return false;
    }
  }

  private checkOpen(): void {
    if (!this.opened) throw new Error('the embedded log store is not open');
  }

  private path(day: number): string {
    return join(this.dir, `${dayName(day)}.sqlite`);
  }

  /** The file of a day, opened on demand; undefined when the day has none and `create` is false. */
  private file(day: number, create: boolean): DayFile | undefined {
    this.checkOpen();
    let file = this.files.get(day);
    if (file) {
      this.files.delete(day);
      this.files.set(day, file);
      return file;
    }
    if (!create && !this.days.has(day)) return undefined;
    try {
      file = new DayFile(this.path(day));
    } catch (err) {
      const message = `cannot open the embedded log store file ${this.path(day)}: ${(err as Error).message}`;
      throw new Error(message, { cause: err });
    }
    this.days.add(day);
    this.files.set(day, file);
    for (const [old, oldFile] of this.files) {
      if (this.files.size <= MAX_OPEN_DAYS) break;
      if (oldFile.db.isTransaction) continue;
      oldFile.close();
      this.files.delete(old);
    }
    return file;
  }

  /** Days with a file in [from, to] (ms), in the order asked for. */
  private daysIn(from: number, to: number, desc: boolean): number[] {
    const first = Math.floor(from / DAY_MS);
    const last = Math.floor(to / DAY_MS);
    const days = [...this.days].filter((d) => d >= first && d <= last).sort((a, b) => a - b);
    return desc ? days.reverse() : days;
  }

  // ── writing ────────────────────────────────────────────────────────────

  async write(records: readonly LogRecord[], signal?: AbortSignal): Promise<WriteOutcome[]> {
    this.checkOpen();
    const outcomes: WriteOutcome[] = new Array(records.length);
    let i = 0;
    while (i < records.length) {
      signal?.throwIfAborted();
      if (i > 0) {
        await yieldToLoop();
        this.checkOpen();
      }
      i = this.writeSlice(records, i, outcomes);
    }
    this.checkSize(false);
    return outcomes;
  }

  /**
   * Writes records from `start` on until the slice is full, one transaction
   * per day file touched, and returns where it stopped. A failed commit (a
   * full disk, say) makes its day's lines of the slice `retry`.
   */
  private writeSlice(records: readonly LogRecord[], start: number, outcomes: WriteOutcome[]): number {
    const started = performance.now();
    const touched = new Map<number, { file: DayFile; indices: number[] }>();
    let i = start;
    let failure: unknown;
    try {
      for (; i < records.length && i - start < WRITE_BATCH; i++) {
        if (performance.now() - started > WRITE_SLICE_MS) break;
        const row = toRow(records[i]!);
        if (typeof row === 'string') {
          outcomes[i] = { result: 'reject', status: 400, reason: row };
          continue;
        }
        const day = Math.floor(row.time / DAY_MS);
        let open = touched.get(day);
        if (!open) {
          const file = this.file(day, true)!;
          file.begin();
          open = { file, indices: [] };
          touched.set(day, open);
        }
        open.indices.push(i);
        outcomes[i] = open.file.insert(row);
        const ids = this.dayIds.get(day);
        // A rolled-back line stays in the filter: a "maybe" too many costs one lookup, never a wrong answer.
        if (ids && !ids.filter.add(row.id)) this.dayIds.delete(day);
      }
    } catch (err) {
      failure = err;
    }
    for (const { file, indices } of touched.values()) {
      try {
        if (failure) throw failure;
        file.commit();
      } catch (err) {
        file.rollback();
        const reason = `the embedded log store could not write: ${(err as Error).message}`;
        for (const j of indices) outcomes[j] = { result: 'retry', status: 503, reason };
        this.log?.warn({ err, lines: indices.length }, 'embedded log store write failed');
      }
    }
    if (failure) {
      // The record that failed and those after it were not tried: they go back too.
      const reason = `the embedded log store could not write: ${(failure as Error).message}`;
      for (let j = i; j < records.length; j++) outcomes[j] = { result: 'retry', status: 503, reason };
      return records.length;
    }
    return i;
  }

  /** Bytes of day files; past the limit, one error that names the way out. */
  private checkSize(now: boolean): void {
    if (this.sizeWarned || (!now && Date.now() - this.sizeCheckedAt < SIZE_CHECK_MS)) return;
    this.sizeCheckedAt = Date.now();
    let bytes = 0;
    for (const day of this.days) {
      for (const suffix of ['', '-wal']) {
        try {
          bytes += statSync(this.path(day) + suffix).size;
        } catch {
          // A WAL comes and goes.
        }
      }
    }
    if (bytes <= this.warnAtBytes) return;
    this.sizeWarned = true;
    const gib = (n: number) => `${(n / 1024 ** 3).toFixed(1)} GiB`;
    this.log?.error(
      { dir: this.dir, bytes, limit: this.warnAtBytes },
      `the embedded log store holds ${gib(bytes)} of logs, more than the ${gib(this.warnAtBytes)} it is ` +
        'made for: searches and writes will keep slowing down as it grows. Keep logs of this volume in ' +
        'Elasticsearch (set collector.elasticsearch), or keep fewer days (collector.retention.days).',
    );
  }

  // ── searching ──────────────────────────────────────────────────────────

  /** The query as the index can answer it, its range cut to what the store can hold. */
  private plan(query: SearchQuery): Plan {
    this.checkOpen();
    if (!Number.isFinite(query.from) || !Number.isFinite(query.to)) {
      throw new RangeError(`a search needs a time range in epoch ms, got ${query.from} to ${query.to}`);
    }
    const from = Math.max(query.from, 0);
    const to = Math.min(query.to, MAX_TIME + 1);
    return plan({ ...query, from, to }, (ids) => this.idTimes(ids, from, to));
  }

  async search(query: SearchQuery, signal?: AbortSignal): Promise<SearchResult> {
    if (!Number.isInteger(query.size) || query.size < 0 || query.size > MAX_WINDOW) {
      throw new RangeError(`page size must be a whole number from 0 to ${MAX_WINDOW}, got ${query.size}`);
    }
    const p = this.plan(query);
    const after = query.after && checkCursor(query.after);
    const histogram = emptyBuckets(query);
    const result: SearchResult = { hits: [], total: { value: 0, exact: true } };
    if (histogram) result.histogram = histogram;
    if (p.match === undefined) return result;

    const desc = query.order === 'desc';
    let lines: Line[] = [];
    if (query.size > 0) lines = await this.page(p, desc, query.size + 1, after, signal);
    result.hits = lines.slice(0, query.size).map(toHit);
    if (lines.length > query.size) result.next = result.hits.at(-1)!.sort;
    // A first page that is not full has seen every match: it is the count.
    result.total =
      query.size > 0 && !after && lines.length <= query.size
        ? { value: lines.length, exact: true }
        : await this.countUpTo(p, signal);
    if (histogram) await this.fillHistogram(p, query.histogramIntervalMs!, histogram, signal);
    return result;
  }

  /**
   * Counts over the newest FACET_SAMPLE matching lines, read from their documents: the index keeps
   * no values to count by. A line counts once per value, however often it holds it.
   */
  async facet(query: SearchQuery, field: string, size: number, signal?: AbortSignal): Promise<FacetResult> {
    const p = this.plan(query);
    const counts = new Map<string, number>();
    let lines = 0;
    if (p.match !== undefined) {
      await this.scan(p.from, p.to, true, p.selective, signal, (step) => {
        const limit = FACET_SAMPLE + 1 - lines;
        for (const line of this.file(step.day, false)?.timeOrdered(p, step.from, step.to, true, limit) ??
          []) {
          if (++lines > FACET_SAMPLE) break;
          for (const value of new Set(fieldValues(line.doc, field).map(keywordText))) {
            if (value.length <= MAX_FACET_VALUE_CHARS) counts.set(value, (counts.get(value) ?? 0) + 1);
          }
        }
        return lines > FACET_SAMPLE;
      });
    }
    const values = [...counts]
      .map(([value, count]) => ({ value, count }))
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
      .slice(0, size);
    return { values, lines: Math.min(lines, FACET_SAMPLE), sampled: lines > FACET_SAMPLE };
  }

  /**
   * Exact counts, by SQL's count and GROUP BY over the full-text index's matches, stepwise so the
   * event loop gets turns. A combination's count is summed over the steps; a step with more than
   * `maxGroups` combinations means the answer cannot list them all.
   */
  async count(
    query: SearchQuery,
    groupBy: readonly string[],
    maxGroups: number,
    signal?: AbortSignal,
  ): Promise<CountResult> {
    const p = this.plan(query);
    const result: CountResult = { total: 0, groups: [], truncated: false };
    if (p.match === undefined) return result;
    if (groupBy.length === 0) return { ...result, total: await this.exactTotal(p, signal) };
    const paths = groupBy.map(jsonPath);
    const groups = new Map<string, CountResult['groups'][number]>();
    await this.scan(p.from, p.to, true, true, signal, (step) => {
      const rows = this.file(step.day, false)?.groupCounts(p, step.from, step.to, paths, maxGroups + 1) ?? [];
      if (rows.length > maxGroups) result.truncated = true;
      for (const row of rows) {
        result.total += row.count;
        const key = JSON.stringify(row.values);
        const group = groups.get(key);
        if (group) group.count += row.count;
        else groups.set(key, { ...row });
      }
      return false;
    });
    result.groups = [...groups.values()].sort((a, b) => b.count - a.count);
    if (result.groups.length > maxGroups) {
      result.truncated = true;
      result.groups.length = maxGroups;
    }
    if (result.truncated) result.total = await this.exactTotal(p, signal);
    return result;
  }

  private async exactTotal(p: Plan, signal: AbortSignal | undefined): Promise<number> {
    let n = 0;
    await this.scan(p.from, p.to, true, true, signal, (step) => {
      n += this.file(step.day, false)?.count(p, step.from, step.to, Number.MAX_SAFE_INTEGER) ?? 0;
      return false;
    });
    return n;
  }

  private idTimes(ids: string[], from: number, to: number): number[] {
    const json = JSON.stringify(ids);
    return this.daysIn(from, to, false)
      .filter((day) => ids.some((id) => this.mayHoldId(day, id)))
      .flatMap((day) => this.file(day, false)?.idTimes(json) ?? []);
  }

  // ── ids ────────────────────────────────────────────────────────────────

  /** False only when the day's complete id filter says the id is not there. */
  private mayHoldId(day: number, id: string): boolean {
    const ids = this.dayIds.get(day);
    return !ids?.complete || ids.filter.mayHave(id);
  }

  /** Builds the id filter of every day, newest first, one at a time in the background. */
  private async buildIdFilters(): Promise<void> {
    for (const day of [...this.days].sort((a, b) => b - a)) {
      if (!this.opened) return;
      await this.idsOf(day)?.built;
    }
  }

  /**
   * The id filter of a day, started when there is none. It reads the day's
   * ids a step at a time with a turn of the event loop between steps; lines
   * written meanwhile are added by the writes. A build that fails (the day
   * deleted, the store closed) leaves no filter: lookups then open the day.
   */
  private idsOf(day: number): DayIds | undefined {
    let ids = this.dayIds.get(day);
    if (ids || !this.days.has(day)) return ids;
    let lines: number;
    try {
      lines = this.file(day, false)!.lineCount();
    } catch {
      return undefined;
    }
    const entry: DayIds = {
      filter: new IdFilter(2 * lines + 4_096),
      complete: false,
      built: Promise.resolve(),
    };
    ids = entry;
    this.dayIds.set(day, entry);
    entry.built = (async () => {
      let after = -1n;
      for (;;) {
        await yieldToLoop();
        if (this.dayIds.get(day) !== entry) return;
        const step = this.file(day, false)?.idsAfter(after, ID_READ_STEP);
        if (!step) return;
        for (const id of step.ids) {
          if (!entry.filter.add(id)) {
            this.dayIds.delete(day);
            return;
          }
        }
        if (step.ids.length < ID_READ_STEP) break;
        after = step.last;
      }
      entry.complete = true;
    })().catch(() => {
      if (this.dayIds.get(day) === entry) this.dayIds.delete(day);
    });
    return ids;
  }

  /**
   * Up to `need` lines after the cursor in the line order. The index gives
   * lines in time order but in no fixed order within a millisecond, so the
   * millisecond the cursor is in, and the one the page ends in, are read
   * whole and sorted by (offset, id).
   */
  private async page(
    p: Plan,
    desc: boolean,
    need: number,
    after: SortKey | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Line[]> {
    let from = p.from;
    let to = p.to;
    const out: Line[] = [];
    const millisecond = (time: number, limit: number, cursor?: [number, string]) =>
      this.file(Math.floor(time / DAY_MS), false)?.millisecond(p, time, desc, limit, cursor) ?? [];
    if (after) {
      const [time, offset, id] = after;
      if (desc ? time < from : time > to) return out;
      if (time >= from && time <= to) {
        out.push(...millisecond(time, need, [offset, id]));
        if (desc) to = time - 1;
        else from = time + 1;
      }
    }
    if (out.length >= need || from > to) return out;
    const found: Line[] = [];
    await this.scan(from, to, desc, p.selective, signal, (step) => {
      const limit = need - out.length - found.length;
      const rows = this.file(step.day, false)?.timeOrdered(p, step.from, step.to, desc, limit) ?? [];
      found.push(...rows);
      return out.length + found.length >= need;
    });
    if (out.length + found.length < need) return out.concat(found.sort(lineOrder(desc)));
    // The last millisecond may be cut short and out of order: read it whole.
    const last = found.at(-1)!.time;
    out.push(...found.filter((line) => line.time !== last).sort(lineOrder(desc)));
    out.push(...millisecond(last, need - out.length));
    return out;
  }

  private async countUpTo(p: Plan, signal: AbortSignal | undefined): Promise<SearchResult['total']> {
    let n = 0;
    await this.scan(p.from, p.to, true, p.selective, signal, (step) => {
      n += this.file(step.day, false)?.count(p, step.from, step.to, TOTAL_LIMIT + 1 - n) ?? 0;
      return n > TOTAL_LIMIT;
    });
    return n > TOTAL_LIMIT ? { value: TOTAL_LIMIT, exact: false } : { value: n, exact: true };
  }

  private async fillHistogram(
    p: Plan,
    interval: number,
    buckets: { time: number; count: number }[],
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const first = buckets[0]?.time ?? 0;
    await this.scan(p.from, p.to, false, true, signal, (step) => {
      for (const row of this.file(step.day, false)?.histogram(p, step.from, step.to, interval) ?? []) {
        const slot = buckets[(row.bucket * interval - first) / interval];
        if (slot) slot.count += row.n;
      }
      return false;
    });
  }

  /**
   * Visits [from, to] a day file at a time, until `visit` says it has
   * enough. A stepwise scan (one that may read far: histograms, checks on
   * columns) cuts each day further into time steps, with a turn of the event
   * loop between them: a step grows while quick and halves when slow. Full
   * text matching does not always get cheaper with a shorter step (FTS5
   * looks past the end of the step for the next match of a rare phrase), so
   * when halving a step did not make it much quicker, the rest of the day
   * goes in one step rather than in many slow ones.
   */
  private async scan(
    from: number,
    to: number,
    desc: boolean,
    stepwise: boolean,
    signal: AbortSignal | undefined,
    visit: (step: Step) => boolean,
  ): Promise<void> {
    let span = FIRST_STEP_MS;
    let visited = false;
    for (const day of this.daysIn(from, to, desc)) {
      let lo = Math.max(from, day * DAY_MS);
      let hi = Math.min(to, day * DAY_MS + DAY_MS - 1);
      if (!stepwise) {
        if (visit({ day, from: lo, to: hi })) return;
        continue;
      }
      let previous: { span: number; took: number } | undefined;
      while (lo <= hi) {
        if (visited) {
          await yieldToLoop();
          signal?.throwIfAborted();
          this.checkOpen();
        }
        visited = true;
        const [a, b] = desc ? [Math.max(lo, hi - span + 1), hi] : [lo, Math.min(hi, lo + span - 1)];
        const started = performance.now();
        if (visit({ day, from: a, to: b })) return;
        const took = performance.now() - started;
        if (desc) hi = a - 1;
        else lo = b + 1;
        const used = b - a + 1;
        const notCheaper = previous !== undefined && used <= previous.span / 2 && took > previous.took * 0.75;
        if (took > STEP_SLOW_MS && notCheaper) span = DAY_MS;
        else if (took < STEP_FAST_MS) span = Math.min(span * 4, DAY_MS);
        else if (took > STEP_SLOW_MS) span = Math.max(MIN_STEP_MS, Math.floor(span / 2));
        previous = { span: used, took };
      }
    }
  }

  // ── context ────────────────────────────────────────────────────────────

  async context(query: ContextQuery, _signal?: AbortSignal): Promise<ContextResult | undefined> {
    this.checkOpen();
    const scope = query.namespaces && JSON.stringify(query.namespaces);
    // The anchor's day is unknown: each day's id filter tells which days to ask, newest first.
    let anchor: (Line & { stream: StreamName }) | undefined;
    let anchorDay = 0;
    for (const day of [...this.days].sort((a, b) => b - a)) {
      await this.idsOf(day)?.built;
      this.checkOpen();
      if (!this.mayHoldId(day, query.id)) continue;
      anchor = this.file(day, false)?.anchor(query.id, scope);
      if (anchor) {
        anchorDay = day;
        break;
      }
    }
    if (!anchor) return undefined;
    const found = anchor;
    /**
     * A stream goes on across midnight: a side not filled by the anchor's
     * day continues in the next day's file, as long as the stream has lines
     * there. Days further on are not opened for a stream that fell silent
     * for a whole day, so a side never walks through every day file.
     */
    const side = (desc: boolean, size: number): Line[] => {
      let limit = Number.isFinite(size) ? Math.min(Math.max(0, Math.floor(size)), MAX_WINDOW) : 0;
      const lines: Line[] = [];
      for (let day = anchorDay; limit > 0 && this.days.has(day); day += desc ? -1 : 1) {
        const file = this.file(day, false)!;
        const streams = file.contextStreams(found.stream);
        if (streams.length === 0) break;
        // The file may have been read under several names: each is a stream, merged in line order.
        const more = streams
          .flatMap((stream) => file.neighbours(stream, found, desc, limit))
          .sort(lineOrder(desc))
          .slice(0, limit);
        lines.push(...more);
        limit -= more.length;
      }
      return lines;
    };
    return {
      before: side(true, query.before).reverse().map(toHit),
      anchor: toHit(anchor),
      after: side(false, query.after).map(toHit),
    };
  }

  // ── retention ──────────────────────────────────────────────────────────

  async deleteBefore(cutoff: number): Promise<string[]> {
    this.checkOpen();
    const end = Math.floor(cutoff / DAY_MS);
    const deleted: string[] = [];
    for (const day of [...this.days].filter((d) => d < end).sort((a, b) => a - b)) {
      // Closing checkpoints the WAL into the file; then the WAL goes first, so a stale
      // one can never be replayed into a new file of the same name.
      this.files.get(day)?.close();
      this.files.delete(day);
      this.days.delete(day);
      this.dayIds.delete(day);
      const path = this.path(day);
      for (const suffix of ['-wal', '-shm', '']) rmSync(path + suffix, { force: true });
      deleted.push(dayName(day));
    }
    if (deleted.length > 0) this.log?.info({ days: deleted }, 'embedded log store deleted old days');
    return deleted;
  }
}

function toHit(line: Line): LogHit {
  return { id: line.id, sort: [line.time, line.offset, line.id], doc: boundedDoc(JSON.parse(line.doc)) };
}

/** Byte order of UTF-8, as SQLite and Elasticsearch compare ids. */
function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII is exactly \x00-\x7f
  if (/^[\x00-\x7f]*$/.test(a + b)) return a < b ? -1 : 1;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function lineOrder(desc: boolean): (a: Line, b: Line) => number {
  return (a, b) => {
    const order = a.time - b.time || a.offset - b.offset || compareIds(a.id, b.id);
    return desc ? -order : order;
  };
}

function checkCursor(after: SortKey): SortKey {
  const [time, offset, id] = after;
  if (!Number.isSafeInteger(time) || !Number.isFinite(offset) || typeof id !== 'string') {
    throw new RangeError('the cursor must be [time in ms, offset, id] as a previous page returned it');
  }
  return after;
}
