import { readFileSync } from 'node:fs';
import { table } from './measure.ts';
import { type MetricValues, sumOf } from './scrape.ts';

const MiB = 1024 ** 2;

/**
 * Where a Node process's resident memory is at one moment, in MiB. RSS and its
 * anonymous part are the kernel's (smaps_rollup); the V8 figures are prom-client's
 * default metrics from the process's own /metrics, read in the same instant.
 */
export interface MemoryBreakdown {
  rss: number;
  /** Pages of mapped files: the node binary and shared libraries (shared with other processes). */
  fileBacked: number;
  anonymous: number;
  /** What V8 has committed for its heap, and the part holding objects (live or not yet collected). */
  heapTotal: number;
  heapUsed: number;
  /** Committed per space: the young generation, the old one, compiled code, large objects. */
  newSpace: number;
  oldSpace: number;
  code: number;
  largeObjects: number;
  /** Memory of JavaScript objects kept outside the heap: Buffers and other array buffers. */
  external: number;
  /** The anonymous memory neither the heap nor `external` accounts for: allocator, threads' stacks, libuv, zlib, TLS. */
  otherNative: number;
}

/** RSS and its anonymous part from /proc, in MiB; the file-backed part is the rest. */
function residentMiB(pid: number): { rss: number; anonymous: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: kib('Rss') / 1024, anonymous: kib('Anonymous') / 1024 };
}

/** A breakdown of a running process; its /metrics must have been read just before. */
export function memoryBreakdown(pid: number, metrics: MetricValues): MemoryBreakdown {
  const { rss, anonymous } = residentMiB(pid);
  const mib = (name: string, labels = '') => sumOf(metrics, name, labels) / MiB;
  const space = (name: string) => mib('nodejs_heap_space_size_total_bytes', `space="${name}"`);
  const heapTotal = mib('nodejs_heap_size_total_bytes');
  const external = mib('nodejs_external_memory_bytes');
  return {
    rss,
    fileBacked: rss - anonymous,
    anonymous,
    heapTotal,
    heapUsed: mib('nodejs_heap_size_used_bytes'),
    newSpace: space('new'),
    oldSpace: space('old'),
    code: space('code') + space('code_large_object'),
    largeObjects: space('large_object') + space('new_large_object'),
    external,
    otherNative: anonymous - heapTotal - external,
  };
}

/** Keeps the breakdown taken when RSS was highest. */
export class PeakMemory {
  peak: MemoryBreakdown | undefined;

  observe(sample: MemoryBreakdown): void {
    if (!this.peak || sample.rss > this.peak.rss) this.peak = sample;
  }
}

const MEMORY_COLUMNS = [
  'RSS',
  'file-backed',
  'anonymous',
  'V8 heap committed',
  'heap used',
  'new space',
  'old space',
  'code',
  'large objects',
  'external + array buffers',
  'other native',
];

/** One row a labelled breakdown; `n/a` where there was none (the process never answered a poll). */
export function memoryTable(rows: [string, MemoryBreakdown | undefined][]): string {
  return table(
    ['Lookout, MiB', ...MEMORY_COLUMNS],
    rows.map(([label, m]) => [label, ...memoryCells(m)]),
  );
}

function memoryCells(m: MemoryBreakdown | undefined): (number | string)[] {
  if (!m) return MEMORY_COLUMNS.map(() => 'n/a');
  return [
    m.rss,
    m.fileBacked,
    m.anonymous,
    m.heapTotal,
    m.heapUsed,
    m.newSpace,
    m.oldSpace,
    m.code,
    m.largeObjects,
    m.external,
    m.otherNative,
  ];
}

export const MEMORY_METHOD =
  'RSS and its anonymous part are from `/proc/<pid>/smaps_rollup` (file-backed = RSS − anonymous: the node binary and libraries, shared with every other Node process); the V8 figures are the process\'s own `/metrics` read in the same poll (`nodejs_heap_size_total_bytes`, `nodejs_heap_size_used_bytes`, `nodejs_heap_space_size_total_bytes` by space, `nodejs_external_memory_bytes`, which includes array buffers); "other native" is anonymous − heap committed − external: the allocator\'s arenas, thread stacks, libuv, zlib and whatever else V8 does not count. All in MiB; committed heap pages not touched yet are counted by V8 but not by the kernel, so "other native" is a lower bound.';
