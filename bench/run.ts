import { readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { run } from '../test/infra/exec.ts';
import { ALERT_RULES_TITLE, alertRulesBenchmark } from './alert-rules.ts';
import { COLLECTOR_TITLE, collectorBenchmark } from './collector.ts';
import { CONSOLE_TITLE, consoleBenchmark } from './console.ts';
import { EVENT_ROUTER_TITLE, eventRouterBenchmark } from './event-router.ts';
import { LOG_RULES_TITLE, logRulesBenchmark } from './log-rules.ts';
import type { BenchmarkSection } from './measure.ts';
import { PROBES_TITLE, probesBenchmark } from './probes.ts';
import { SIDECAR_TITLE, sidecarBenchmark } from './sidecar.ts';
import { SIDECAR_NODE_ES_TITLE, sidecarNodeEsBenchmark } from './sidecar-node-es.ts';
import { SIDECAR_PER_NODE_TITLE, sidecarPerNodeBenchmark } from './sidecar-per-node.ts';

interface Benchmark {
  /** What LOOKOUT_BENCH_ONLY calls it. */
  name: string;
  /** Its section's heading in RESULTS.md. */
  title: string;
  run: () => Promise<BenchmarkSection>;
}

const BENCHMARKS: Benchmark[] = [
  { name: 'sidecar', title: SIDECAR_TITLE, run: sidecarBenchmark },
  { name: 'sidecar-node-es', title: SIDECAR_NODE_ES_TITLE, run: sidecarNodeEsBenchmark },
  { name: 'sidecar-per-node', title: SIDECAR_PER_NODE_TITLE, run: sidecarPerNodeBenchmark },
  { name: 'collector', title: COLLECTOR_TITLE, run: collectorBenchmark },
  { name: 'console', title: CONSOLE_TITLE, run: consoleBenchmark },
  { name: 'event-router', title: EVENT_ROUTER_TITLE, run: eventRouterBenchmark },
  { name: 'alert-rules', title: ALERT_RULES_TITLE, run: alertRulesBenchmark },
  { name: 'log-rules', title: LOG_RULES_TITLE, run: logRulesBenchmark },
  { name: 'probes', title: PROBES_TITLE, run: probesBenchmark },
];

// LOOKOUT_BENCH_ONLY=collector runs only the benchmarks named (comma-separated); the others keep the
// section their last run wrote, so one benchmark can be run again without losing the other's figures.
const only = process.env.LOOKOUT_BENCH_ONLY?.split(',')
  .map((name) => name.trim())
  .filter(Boolean);
const unknown = only?.filter((name) => !BENCHMARKS.some((b) => b.name === name)) ?? [];
if (unknown.length > 0) {
  throw new Error(
    `LOOKOUT_BENCH_ONLY names ${unknown.join(', ')}; the benchmarks are ${BENCHMARKS.map((b) => b.name).join(', ')}`,
  );
}

const started = performance.now();
const results = join(import.meta.dirname, 'RESULTS.md');
const previous = only ? await previousSections(results) : new Map<string, string>();
const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
const cores = cpus();
const machine = [
  `${cores.length} cores (${cores[0]?.model.trim() ?? 'unknown CPU'})`,
  `Node ${process.version}`,
];
const sections = new Map<string, string>();
for (const benchmark of BENCHMARKS) {
  const kept = previous.get(benchmark.title);
  if (kept) sections.set(benchmark.title, kept);
}

/** The file with the sections written so far: a benchmark that fails later loses none of them. */
async function write(): Promise<void> {
  const text = [
    '# Benchmarks',
    '',
    'Written by `make bench` (`node bench/run.ts`); every throughput figure is a median over rounds run against a peer in the same run, on a shared machine, so ratios mean more than absolute numbers; latencies are percentiles over hundreds of queries.',
    ...BENCHMARKS.flatMap((b) => {
      const section = sections.get(b.title);
      return section ? ['', section] : [];
    }),
    '',
  ].join('\n');
  await writeFile(results, text);
  // `make check` holds the file to the project's Markdown format, tables aligned included.
  await run(join(import.meta.dirname, '..', 'node_modules', '.bin', 'biome'), ['format', '--write', results]);
}

for (const benchmark of BENCHMARKS) {
  if (only && !only.includes(benchmark.name)) continue;
  const s = await benchmark.run();
  sections.set(
    benchmark.title,
    [`## ${s.title}`, '', `${date} UTC; ${[...machine, ...s.machine].join('; ')}.`, '', s.body].join('\n'),
  );
  await write();
}
console.log(`bench/RESULTS.md written after ${((performance.now() - started) / 1000).toFixed(0)} s`);

/** The `## ` sections of the results file as it is, by title. */
async function previousSections(file: string): Promise<Map<string, string>> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const sections = new Map<string, string>();
  for (const part of text.split(/^(?=## )/m).slice(1)) {
    const title = part.slice(3, part.indexOf('\n')).trim();
    sections.set(title, part.trim());
  }
  return sections;
}
