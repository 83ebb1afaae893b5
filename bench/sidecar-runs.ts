import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';
import { type MeasuredProcess, median, table, waitUntil } from './measure.ts';
import type { MemoryBreakdown } from './memory-breakdown.ts';

// What the sidecar benchmarks share: sizes, one measured run, medians over rounds.

export const FILES = 4;
// Some 1.04 GiB of Logback lines in four files, so that start-up is a small part of every run;
// LOOKOUT_BENCH_LINES_PER_FILE=20000 makes a quick run of it.
export const LINES_PER_FILE = Number(process.env.LOOKOUT_BENCH_LINES_PER_FILE ?? 2_100_000);
export const ROUNDS = Number(process.env.LOOKOUT_BENCH_ROUNDS ?? 5);
export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;

/** A run slower than `perSecond` lines a second (after a minute to start) has gone wrong. */
export function runTimeoutMs(lines: number, perSecond = 10_000): number {
  return 60_000 + (lines / perSecond) * 1000;
}

export type Admin = ReturnType<Kafka['admin']>;

/** Records in a topic: the sum of its partitions' end offsets. */
export async function topicRecords(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high), 0);
}

/** Until the topic holds a record for every line, or the process dies or times out. */
export function untilTopicHolds(
  admin: Admin,
  proc: MeasuredProcess,
  topic: string,
  lines: number,
): Promise<void> {
  return waitUntil(
    proc,
    'every line in the topic',
    async () => (await topicRecords(admin, topic)) >= lines,
    runTimeoutMs(lines),
  );
}

const CREATE_ATTEMPTS = 10;

/**
 * A one-partition topic, its leader elected. Right after the topics of the last run were deleted the
 * broker can answer "unknown topic" while it is being made, which kafkajs does not wait out: the
 * creation is tried again (it does nothing once the topic exists) on any retriable error.
 */
export async function createTopic(admin: Admin, topic: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      return;
    } catch (err) {
      if (attempt === CREATE_ATTEMPTS || !(err as { retriable?: boolean }).retriable) throw err;
      await delay(500);
    }
  }
}

export interface Run<S extends string> {
  side: S;
  round: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMiB: number;
  /** Lookout's memory when its RSS was highest. */
  memory?: MemoryBreakdown;
}

/** A shipper started on one run's work: its process, and a promise of the work done. */
export interface Started {
  process: MeasuredProcess;
  done: Promise<void>;
  /** Lookout's memory when its RSS was highest so far. */
  memory?: () => MemoryBreakdown | undefined;
}

/** Waits for the work, reads the process's figures from /proc before stopping it, and stops it whatever happened. */
export async function measured<S extends string>(side: S, round: number, started: Started): Promise<Run<S>> {
  const proc = started.process;
  try {
    await started.done;
    return {
      side,
      round,
      seconds: (performance.now() - proc.startedAt) / 1000,
      cpuSeconds: proc.cpuSeconds(),
      peakRssMiB: proc.peakRssMiB(),
      memory: started.memory?.(),
    };
  } finally {
    await proc.stop();
  }
}

/** One measured run in a directory of its own under `work`, removed afterwards. */
export async function measuredIn<S extends string>(
  work: string,
  side: S,
  round: number,
  start: (dir: string) => Promise<Started>,
): Promise<Run<S>> {
  const dir = join(work, `${side}-${round}`);
  await mkdir(dir);
  try {
    return await measured(side, round, await start(dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function runLine(run: Run<string>): string {
  return `round ${run.round} ${run.side}: ${run.seconds.toFixed(1)} s, ${run.cpuSeconds.toFixed(1)} CPU s, ${run.peakRssMiB.toFixed(0)} MiB`;
}

export interface Figures {
  linesPerSecond: number;
  mibPerSecond: number;
  cpuSecondsPerGiB: number;
  peakRssMiB: number;
}

/** Medians over the rounds of one side's runs. */
export function sideFigures<S extends string>(
  runs: Run<S>[],
  side: S,
  lines: number,
  bytes: number,
): Figures {
  const own = runs.filter((r) => r.side === side);
  return {
    linesPerSecond: median(own.map((r) => lines / r.seconds)),
    mibPerSecond: median(own.map((r) => bytes / MiB / r.seconds)),
    cpuSecondsPerGiB: median(own.map((r) => r.cpuSeconds / (bytes / GiB))),
    peakRssMiB: median(own.map((r) => r.peakRssMiB)),
  };
}

/**
 * `side`'s speed over `base`'s within each round, where the two ran minutes apart, in round order;
 * their median is the throughput ratio the targets are judged by, as a shared machine's drift from
 * one round to the next cancels out of it.
 */
export function roundRatios<S extends string>(runs: Run<S>[], side: S, base: S): number[] {
  const ratios: number[] = [];
  for (const run of runs) {
    const other = runs.find((r) => r.side === base && r.round === run.round);
    if (run.side === side && other) ratios.push(other.seconds / run.seconds);
  }
  return ratios;
}

/** Lookout's memory at its highest RSS in the run whose peak RSS is the median one (the lower of the middle two). */
export function memoryAtPeak<S extends string>(runs: Run<S>[], side: S): MemoryBreakdown | undefined {
  const sorted = runs.filter((r) => r.side === side).sort((a, b) => a.peakRssMiB - b.peakRssMiB);
  return sorted[Math.floor((sorted.length - 1) / 2)]?.memory;
}

/** One row of medians a side, with its lines/s against each baseline. */
export function sidesTable<S extends string>(
  sides: readonly S[],
  label: Record<S, string>,
  figures: Record<S, Figures>,
  baselines: [string, Figures][],
): string {
  return table(
    ['', 'lines/s', 'MiB/s', 'CPU s/GiB', 'peak RSS MiB', ...baselines.map(([name]) => `vs ${name}`)],
    sides.map((s) => {
      const m = figures[s];
      return [
        label[s],
        m.linesPerSecond,
        m.mibPerSecond,
        m.cpuSecondsPerGiB,
        m.peakRssMiB,
        ...baselines.map(([, base]) => ratio(m.linesPerSecond, base.linesPerSecond)),
      ];
    }),
  );
}

export const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

export function roundsTable<S extends string>(
  runs: Run<S>[],
  label: Record<S, string>,
  lines: number,
): string {
  return table(
    ['round', 'side', 'seconds', 'lines/s', 'CPU s', 'peak RSS MiB'],
    runs.map((r) => [
      String(r.round),
      label[r.side],
      r.seconds,
      lines / r.seconds,
      r.cpuSeconds,
      r.peakRssMiB,
    ]),
  );
}

/** Round 1 in the given order, round 2 in the reverse one, and so on: the drift of a shared machine falls on every side. */
export function orderOf<S>(sides: readonly S[], round: number): S[] {
  return round % 2 ? [...sides] : [...sides].reverse();
}

export function log(section: string, message: string): void {
  console.log(`[bench ${section}] ${message}`);
}
