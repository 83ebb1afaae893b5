import { z } from 'zod';
import type { ProbeResult } from './types.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * A ring of per-bucket counts (successes, probes) inside one shared array:
 * `count` buckets of `sizeMs` each, the latest at index `latest`.
 */
interface Series {
  sizeMs: number;
  count: number;
  /** Where its successes start in the counts array; its probes follow them. */
  offset: number;
}

// Hours for the last day, whole UTC days for the last month: enough buckets to cover each window.
const HOURS: Series = { sizeMs: HOUR_MS, count: 25, offset: 0 };
const DAYS: Series = { sizeMs: DAY_MS, count: 31, offset: 2 * 25 };
const COUNTS_LENGTH = 2 * (HOURS.count + DAYS.count);

/** The uptime windows the results API answers, and the buckets each is summed from. */
const WINDOWS = [
  { name: '24h', ms: DAY_MS, series: HOURS, latest: 'latestHour' },
  { name: '7d', ms: 7 * DAY_MS, series: DAYS, latest: 'latestDay' },
  { name: '30d', ms: 30 * DAY_MS, series: DAYS, latest: 'latestDay' },
] as const;

export interface Uptime {
  /** successes / probes, or null without probes in the window. */
  ratio: number | null;
  probes: number;
  successes: number;
}

export interface RecentResultJson {
  startedAt: string;
  durationSeconds: number;
  success: boolean;
  failure?: string;
  /** Reached the centre after the results that followed it were due: kept here and in uptime, but it moved no state. */
  late?: true;
}

/** The history part of `GET /api/probes/:id/results`. */
export interface HistoryJson {
  uptime: Record<(typeof WINDOWS)[number]['name'], Uptime>;
  /** Newest first. */
  results: RecentResultJson[];
}

interface RecentResult {
  startedAtMs: number;
  durationMs: number;
  /** Undefined for a success. */
  failure: string | undefined;
  late: boolean;
}

/**
 * The last results of a target in parallel arrays rather than an object
 * each, so that ten thousand targets' results take megabytes, not tens.
 */
class RecentResults {
  private readonly startedAtMs: Float64Array;
  private readonly durationMs: Float32Array;
  private readonly failures: (string | undefined)[];
  private readonly late: Uint8Array;
  private next = 0;
  private count = 0;

  constructor(capacity: number) {
    this.startedAtMs = new Float64Array(capacity);
    this.durationMs = new Float32Array(capacity);
    this.failures = new Array(capacity);
    this.late = new Uint8Array(capacity);
  }

  push(result: RecentResult): void {
    const capacity = this.startedAtMs.length;
    if (capacity === 0) return;
    this.startedAtMs[this.next] = result.startedAtMs;
    this.durationMs[this.next] = result.durationMs;
    this.failures[this.next] = result.failure;
    this.late[this.next] = result.late ? 1 : 0;
    this.next = (this.next + 1) % capacity;
    this.count = Math.min(this.count + 1, capacity);
  }

  /** Oldest first. */
  list(): RecentResult[] {
    const capacity = this.startedAtMs.length;
    return Array.from({ length: this.count }, (_, i) => {
      const at = (this.next - this.count + i + capacity) % capacity;
      return {
        startedAtMs: this.startedAtMs[at]!,
        durationMs: this.durationMs[at]!,
        failure: this.failures[at],
        late: this.late[at] === 1,
      };
    });
  }
}

/** One target's history: its last results, and uptime counts in about 450 bytes. */
class TargetHistory {
  readonly recent: RecentResults;
  counts = new Uint32Array(COUNTS_LENGTH);
  latestHour = -1;
  latestDay = -1;

  constructor(resultsPerTarget: number) {
    this.recent = new RecentResults(resultsPerTarget);
  }

  add(atMs: number, success: boolean): void {
    this.latestHour = addToSeries(this.counts, HOURS, this.latestHour, atMs, success);
    this.latestDay = addToSeries(this.counts, DAYS, this.latestDay, atMs, success);
  }

  uptime(window: (typeof WINDOWS)[number], nowMs: number): Uptime {
    const { series } = window;
    const latest = this[window.latest];
    const from = Math.max(Math.floor((nowMs - window.ms) / series.sizeMs), latest - series.count + 1);
    const to = Math.min(Math.floor(nowMs / series.sizeMs), latest);
    let successes = 0;
    let probes = 0;
    for (let index = from; index <= to; index++) {
      const slot = series.offset + (index % series.count);
      successes += this.counts[slot] ?? 0;
      probes += this.counts[slot + series.count] ?? 0;
    }
    return { ratio: probes === 0 ? null : successes / probes, probes, successes };
  }
}

/** Counts one probe in its bucket, clearing the buckets the ring moves over; returns the new latest index. */
function addToSeries(counts: Uint32Array, series: Series, latest: number, atMs: number, success: boolean) {
  const index = Math.floor(atMs / series.sizeMs);
  if (index <= latest - series.count) return latest;
  if (index > latest) {
    for (let i = Math.max(latest + 1, index - series.count + 1); i <= index; i++) {
      const slot = series.offset + (i % series.count);
      counts[slot] = 0;
      counts[slot + series.count] = 0;
    }
  }
  const slot = series.offset + (index % series.count);
  counts[slot + series.count] = (counts[slot + series.count] ?? 0) + 1;
  if (success) counts[slot] = (counts[slot] ?? 0) + 1;
  return Math.max(index, latest);
}

const savedTargetSchema = z.object({
  id: z.string(),
  /** [startedAtMs, durationMs, flags (SUCCESS, LATE), failure?], oldest first. */
  recent: z.array(z.tuple([z.number(), z.number(), z.number()], z.string())),
  latestHour: z.number().int(),
  latestDay: z.number().int(),
  counts: z.array(z.number().int().nonnegative()).length(COUNTS_LENGTH),
});
/** Bits of a saved result's flags. */
const SUCCESS = 1;
const LATE = 2;

export const savedHistorySchema = z.array(savedTargetSchema);
export type SavedHistory = z.infer<typeof savedHistorySchema>;

/**
 * Every target's recent raw results (at most `resultsPerTarget`) and its
 * uptime over 24 h (hourly buckets), 7 d and 30 d (UTC daily buckets). A
 * window is summed over the buckets it touches, so it covers up to one
 * bucket more than its name: 24 to 25 hours, 7 to 8 and 30 to 31 days.
 */
export class ProbeHistory {
  private readonly targets = new Map<string, TargetHistory>();
  private readonly resultsPerTarget: number;

  constructor(resultsPerTarget: number) {
    this.resultsPerTarget = resultsPerTarget;
  }

  /** Takes a result; a `late` one counts in uptime but is marked so in the results. */
  record(id: string, result: ProbeResult, late = false): void {
    let history = this.targets.get(id);
    if (!history) {
      history = new TargetHistory(this.resultsPerTarget);
      this.targets.set(id, history);
    }
    history.recent.push({
      startedAtMs: result.startedAtMs,
      durationMs: result.durationMs,
      failure: result.success ? undefined : (result.failure ?? 'failed'),
      late,
    });
    history.add(result.startedAtMs, result.success);
  }

  remove(id: string): void {
    this.targets.delete(id);
  }

  json(id: string, nowMs: number): HistoryJson {
    const history = this.targets.get(id) ?? new TargetHistory(0);
    const uptime = Object.fromEntries(
      WINDOWS.map((window) => [window.name, history.uptime(window, nowMs)]),
    ) as HistoryJson['uptime'];
    const results = history.recent
      .list()
      .reverse()
      .map(
        ({ startedAtMs, durationMs, failure, late }): RecentResultJson => ({
          startedAt: new Date(startedAtMs).toISOString(),
          durationSeconds: durationMs / 1000,
          success: failure === undefined,
          ...(failure === undefined ? {} : { failure }),
          ...(late ? { late: true as const } : {}),
        }),
      );
    return { uptime, results };
  }

  /** The saved form, target by target; `withResults` false leaves the raw results out to fit a size bound. */
  *snapshot(withResults = true): Generator<SavedHistory[number]> {
    for (const [id, history] of this.targets)
      yield {
        id,
        recent: withResults
          ? history.recent.list().map(({ startedAtMs, durationMs, failure, late }) => {
              const flags = (failure === undefined ? SUCCESS : 0) | (late ? LATE : 0);
              const tuple: [number, number, number, ...string[]] = [startedAtMs, durationMs, flags];
              if (failure !== undefined) tuple.push(failure);
              return tuple;
            })
          : [],
        latestHour: history.latestHour,
        latestDay: history.latestDay,
        counts: [...history.counts],
      };
  }

  /** Takes the saved history of the targets `keep` accepts. */
  restore(saved: SavedHistory, keep: (id: string) => boolean): void {
    for (const entry of saved) {
      if (!keep(entry.id)) continue;
      const history = new TargetHistory(this.resultsPerTarget);
      for (const [startedAtMs, durationMs, flags, failure] of entry.recent)
        history.recent.push({
          startedAtMs,
          durationMs,
          failure: flags & SUCCESS ? undefined : (failure ?? 'failed'),
          late: (flags & LATE) !== 0,
        });
      history.counts = Uint32Array.from(entry.counts);
      history.latestHour = entry.latestHour;
      history.latestDay = entry.latestDay;
      this.targets.set(entry.id, history);
    }
  }
}
