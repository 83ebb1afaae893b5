import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { infraAddress } from '../infra/control.ts';
import { elasticsearchMessages, kafkaMessages } from './log-stores.ts';
import { eventually, LookoutProcess, writeConfig } from './lookout-process.ts';
import { gapsAndRepeats, NumberedWriter, ranges, sequenceNumbers } from './numbered-writer.ts';

/** A sidecar process reading <dir>/logs/app.log, with the numbered writer that feeds it. */
export interface SidecarRun {
  run: string;
  dir: string;
  writer: NumberedWriter;
  sidecar: LookoutProcess;
  topic: string;
  indexPattern: string;
  sinks: ('kafka' | 'elasticsearch')[];
}

export interface SidecarRunOptions {
  layout?: 'file' | 'container';
  sinks?: ('kafka' | 'elasticsearch')[];
  /** Extra YAML lines inside the sidecar section, indented by two spaces. */
  extra?: string;
  /** Glob of each input, relative to the run's directory; by default the writer's logs/app.log alone. */
  inputs?: string[];
}

/** Kafka gets a topic per run and Elasticsearch an index pattern per run, so runs never see each other. */
export async function startSidecarRun(name: string, options: SidecarRunOptions = {}): Promise<SidecarRun> {
  const sinks = options.sinks ?? ['kafka', 'elasticsearch'];
  const run = `${name}${Date.now().toString(36)}`;
  const dir = await mkdtemp(join(tmpdir(), `lookout-${name}-`));
  await mkdir(join(dir, 'logs'));
  const file = await writeConfig(dir, sidecarYaml(run, dir, { ...options, sinks }));
  const sidecar = new LookoutProcess('sidecar', file, { env: { POD_NAMESPACE: run, POD_NAME: 'app-0' } });
  const writer = new NumberedWriter(join(dir, 'logs'), run, options.layout ?? 'file');
  await writer.init();
  return { run, dir, writer, sidecar, topic: `it-${run}`, indexPattern: `it-${run}-*`, sinks };
}

/** The configuration file of a run: one input per glob, every sink on the run's own topic and index. */
function sidecarYaml(run: string, dir: string, options: SidecarRunOptions): string {
  const sinkYaml = (options.sinks ?? [])
    .map((sink) =>
      sink === 'kafka'
        ? `    kafka: { brokers: ["${infraAddress('kafka')}"], topic: "it-{kubernetes.namespace}" }`
        : `    elasticsearch: { nodes: ["${infraAddress('elasticsearch')}"], index: "it-${run}-{yyyy.MM.dd}", replicas: 0 }`,
    )
    .join('\n');
  const inputYaml = (options.inputs ?? [join('logs', 'app.log')])
    .map((glob) => `    - paths: ["${join(dir, glob)}"]\n      parser: { type: none }`)
    .join('\n');
  return `
http: { listen: "127.0.0.1:0", auth: { enabled: false } }
dataDir: ${join(dir, 'data')}
shutdown: { timeout: 20s }
sidecar:
  inputs:
${inputYaml}
  scanInterval: 200ms
  releaseAfter: 1s
  batchBytes: 64KiB
  retry: { initial: 100ms, max: 2s }
${options.extra ?? ''}
  sinks:
${sinkYaml}
`;
}

/** Writes a run's configuration file again (same sinks, other inputs or extra lines) for a SIGHUP to read. */
export async function rewriteSidecarConfig(
  s: SidecarRun,
  options: Pick<SidecarRunOptions, 'inputs' | 'extra'>,
): Promise<void> {
  await writeConfig(s.dir, sidecarYaml(s.run, s.dir, { ...options, sinks: s.sinks }));
}

/** Sequence numbers in Elasticsearch, once there are at least `count` (or the timeout says what is missing). */
export async function numbersInElasticsearch(
  s: SidecarRun,
  count: number,
  timeoutMs = 90_000,
): Promise<number[]> {
  let numbers: number[] = [];
  await eventually(
    async () => {
      numbers = sequenceNumbers(await elasticsearchMessages(s.indexPattern), s.run);
      return numbers.length;
    },
    (n) => n >= count,
    `${count} lines in Elasticsearch`,
    timeoutMs,
  ).catch((err: Error) => {
    const { missing } = gapsAndRepeats(numbers, count);
    throw new Error(`${err.message}\nmissing ${missing.length}: ${ranges(missing)}\n${s.sidecar.tail(30)}`);
  });
  return numbers;
}

export async function numbersInKafka(s: SidecarRun, count: number, timeoutMs = 90_000): Promise<number[]> {
  const enough = (m: string[]) => new Set(sequenceNumbers(m, s.run)).size >= count;
  return sequenceNumbers(await kafkaMessages(s.topic, enough, timeoutMs), s.run);
}

/** Every number written arrives in Elasticsearch exactly once, and in Kafka at least once. */
export async function expectAllDelivered(s: SidecarRun, timeoutMs = 90_000): Promise<void> {
  const total = s.writer.written;
  if (s.sinks.includes('elasticsearch')) {
    const inElasticsearch = await numbersInElasticsearch(s, total, timeoutMs);
    expect(gapsAndRepeats(inElasticsearch, total)).toEqual({ missing: [], repeated: [] });
  }
  if (s.sinks.includes('kafka')) {
    expect(ranges(gapsAndRepeats(await numbersInKafka(s, total, timeoutMs), total).missing)).toBe('');
  }
}

/** One metric's value from the Prometheus text a Lookout process serves: the first series with all `labels`. */
export async function metricValue(
  address: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  return metricInText(await (await fetch(`${address}/metrics`)).text(), name, labels);
}

/** One metric's value in Prometheus text: the first series with all `labels`; NaN when there is none. */
export function metricInText(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}=${JSON.stringify(value)}`);
  const line = text
    .split('\n')
    .find(
      (l) =>
        (l.startsWith(`${name} `) || l.startsWith(`${name}{`)) &&
        wanted.every((pair) => l.includes(`{${pair}`) || l.includes(`,${pair}`)),
    );
  return line ? Number(line.split(' ').at(-1)) : Number.NaN;
}

export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
