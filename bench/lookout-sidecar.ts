import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { enrichSchema } from '../sidecar/enrich.ts';
import { LOOKOUT_CLI, MeasuredProcess, waitUntil } from './measure.ts';
import { type MemoryBreakdown, memoryBreakdown, PeakMemory } from './memory-breakdown.ts';
import { type MetricValues, scrapeMetrics } from './scrape.ts';
import type { Started } from './sidecar-runs.ts';

// Each poll reads /metrics, which costs the process a little: five a second is precise enough for runs of minutes.
const POLL_MS = 200;

/** The Downward API's variables as the benchmark gives them to every sidecar-mode process. */
const POD_ENV = { POD_NAMESPACE: 'bench', POD_NAME: 'app-0' };
const DOWNWARD_API = Object.values(enrichSchema.parse({}).env);

/**
 * The environment of a shipper: without the Downward API's variables the machine running the benchmark
 * may have (a container name would add fields to every record), in sidecar mode with the pod's.
 */
export function shipperEnv(mode: 'sidecar' | 'node'): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of DOWNWARD_API) delete env[name];
  return mode === 'sidecar' ? { ...env, ...POD_ENV } : env;
}

export interface LookoutOptions {
  /** The run's own directory: configuration and data directory. */
  dir: string;
  mode: 'sidecar' | 'node';
  paths: string[];
  /** The `sinks:` entries, as YAML lines indented by four spaces. */
  sinks: string;
  /** The `queue:` value, as YAML. */
  queue?: string;
  /** More of the `sidecar:` section, as YAML lines indented by two spaces. */
  more?: string;
  /** Variables added to the shipper's environment. */
  env?: NodeJS.ProcessEnv;
  nodeFlags?: string[];
}

/** Whether a run's work is done, given the process's metrics of this poll. */
type Done = (metrics: MetricValues) => Promise<boolean> | boolean;

/** `lookout sidecar` under measurement, its /metrics and memory polled while it is waited for. */
export class LookoutSidecar {
  readonly process: MeasuredProcess;
  readonly memory = new PeakMemory();
  readonly dataDir: string;
  private readonly address: Promise<string>;

  private constructor(process: MeasuredProcess, dataDir: string) {
    this.process = process;
    this.dataDir = dataDir;
    this.address = process.waitForOutput(/API at (http:\/\/\S+?)\/ /, 60_000);
    // Whoever waits meets a failure to start; until then it is no unhandled rejection.
    this.address.catch(() => {});
  }

  static async start(options: LookoutOptions): Promise<LookoutSidecar> {
    const dataDir = join(options.dir, 'data');
    const config = join(options.dir, 'lookout.yaml');
    await writeFile(
      config,
      `http: { listen: "127.0.0.1:0", auth: { enabled: false } }
dataDir: ${dataDir}
shutdown: { timeout: 20s }
sidecar:
  mode: ${options.mode}
  inputs:
    - paths: [${options.paths.map((p) => JSON.stringify(p)).join(', ')}]
  queue: ${options.queue ?? '{}'}
  sinks:
${options.sinks}
${options.more ?? ''}`,
    );
    const args = [...(options.nodeFlags ?? []), LOOKOUT_CLI, 'sidecar', '--config', config];
    const env = { ...shipperEnv(options.mode), ...options.env };
    return new LookoutSidecar(new MeasuredProcess(process.execPath, args, env), dataDir);
  }

  /** Reads /metrics and the process's memory at once; the breakdown is kept if RSS is the highest yet. */
  async sample(): Promise<{ metrics: MetricValues; memory: MemoryBreakdown }> {
    const metrics = await scrapeMetrics(await this.address);
    const memory = memoryBreakdown(this.process.pid, metrics);
    this.memory.observe(memory);
    return { metrics, memory };
  }

  /** Polls until `done` holds, sampling memory on the way. */
  async until(what: string, done: Done, timeoutMs: number, pollMs = POLL_MS): Promise<void> {
    await waitUntil(this.process, what, async () => done((await this.sample()).metrics), timeoutMs, pollMs);
  }

  /** The process as a started run: done when `done` holds (see until). */
  watch(what: string, done: Done, timeoutMs: number, pollMs = POLL_MS): Started {
    return {
      process: this.process,
      done: this.until(what, done, timeoutMs, pollMs),
      memory: () => this.memory.peak,
    };
  }

  /** Bytes every file's checkpoint covers: a checkpoint moves only once what precedes it is fsynced in the queue. */
  async checkpointedBytes(): Promise<number> {
    const file = join(this.dataDir, 'sidecar', 'checkpoints.json');
    const { checkpoints } = JSON.parse(await readFile(file, 'utf8')) as {
      checkpoints: Record<string, { offset: number }>;
    };
    return Object.values(checkpoints).reduce((sum, c) => sum + c.offset, 0);
  }
}

/** Records a sink has had acknowledged. */
export function acked(metrics: MetricValues, sink: string): number {
  let sum = 0;
  for (const [key, value] of metrics) {
    if (
      key.startsWith('lookout_sidecar_sink_events_total{') &&
      key.includes(`sink="${sink}"`) &&
      key.includes('outcome="acked"')
    )
      sum += value;
  }
  return sum;
}
