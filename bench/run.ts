import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { run } from '../test/infra/exec.ts';
import { type BenchmarkSection, sidecarBenchmark } from './sidecar.ts';

const BENCHMARKS: (() => Promise<BenchmarkSection>)[] = [sidecarBenchmark];

const started = performance.now();
const sections: BenchmarkSection[] = [];
for (const benchmark of BENCHMARKS) sections.push(await benchmark());

const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
const cores = cpus();
const machine = [
  `${cores.length} cores (${cores[0]?.model.trim() ?? 'unknown CPU'})`,
  `Node ${process.version}`,
];
const text = [
  '# Benchmarks',
  '',
  'Written by `make bench` (`node bench/run.ts`); every figure is a median over rounds run against a peer in the same run, on a shared machine, so ratios mean more than absolute numbers.',
  ...sections.flatMap((s) => [
    '',
    `## ${s.title}`,
    '',
    `${date} UTC; ${[...machine, ...s.machine].join('; ')}.`,
    '',
    s.body,
  ]),
  '',
].join('\n');
const results = join(import.meta.dirname, 'RESULTS.md');
await writeFile(results, text);
// `make check` holds the file to the project's Markdown format, tables aligned included.
await run(join(import.meta.dirname, '..', 'node_modules', '.bin', 'biome'), ['format', '--write', results]);
console.log(`bench/RESULTS.md written after ${((performance.now() - started) / 1000).toFixed(0)} s`);
