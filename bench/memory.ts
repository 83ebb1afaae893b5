import type { MeasuredProcess } from './measure.ts';
import { type MetricValues, scrapeMetrics, sumOf } from './scrape.ts';

/** One reading of a process's memory while it works. */
export interface MemorySample {
  /** Seconds since sampling began. */
  at: number;
  rssMiB: number;
  /** Of the RSS, pages of files mapped (the node binary's code above all), shared with other processes. */
  fileMiB: number;
  /** The process's own account of its memory at about the same moment; none for a process without /metrics. */
  v8?: V8Figures;
}

/** MiB, from prom-client's default metrics: what V8 holds, by space, and memory outside its heap. */
interface V8Figures {
  used: number;
  committed: number;
  newSpace: number;
  oldSpace: number;
  largeObjects: number;
  code: number;
  external: number;
}

function v8Figures(metrics: MetricValues): V8Figures {
  const mib = (name: string, labels = '') => sumOf(metrics, name, labels) / 2 ** 20;
  const space = (name: string) => mib('nodejs_heap_space_size_used_bytes', `space="${name}"`);
  return {
    used: mib('nodejs_heap_size_used_bytes'),
    committed: mib('nodejs_heap_size_total_bytes'),
    newSpace: space('new'),
    oldSpace: space('old'),
    largeObjects: space('large_object'),
    code: space('code'),
    external: mib('nodejs_external_memory_bytes'),
  };
}

/** Reads a process's RSS every `everyMs`, and its /metrics when it serves them at `address`. */
export class MemorySampler {
  readonly samples: MemorySample[] = [];
  readonly everyMs: number;
  private readonly timer: NodeJS.Timeout;

  /** `address` may come later (a process's API starts listening after it is spawned). */
  constructor(proc: MeasuredProcess, address: string | Promise<string> | undefined, everyMs: number) {
    this.everyMs = everyMs;
    let api: string | undefined;
    void Promise.resolve(address).then(
      (resolved) => (api = resolved),
      () => undefined,
    );
    const started = performance.now();
    this.timer = setInterval(() => {
      if (proc.exited) return;
      const sample: MemorySample = {
        at: (performance.now() - started) / 1000,
        rssMiB: proc.rssMiB(),
        fileMiB: proc.rssFileMiB(),
      };
      this.samples.push(sample);
      if (api) {
        void scrapeMetrics(api).then(
          (metrics) => (sample.v8 = v8Figures(metrics)),
          () => undefined,
        );
      }
    }, everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** How the RSS moved: first sample, middle, last. */
  growth(): string {
    const { samples } = this;
    if (samples.length === 0) return 'not sampled';
    const at = (i: number) => `${samples[i]!.rssMiB.toFixed(0)} MiB at ${samples[i]!.at.toFixed(0)} s`;
    return `${at(0)}, ${at(Math.floor(samples.length / 2))}, ${at(samples.length - 1)}`;
  }

  /** What the memory was made of at the largest sample with the process's own figures. */
  breakdownAtPeak(): string {
    const peak = this.samples
      .filter((s) => s.v8)
      .reduce<MemorySample | undefined>((a, b) => (a && a.rssMiB >= b.rssMiB ? a : b), undefined);
    if (!peak?.v8) return 'Memory breakdown: not sampled.';
    const { v8 } = peak;
    const f = (mib: number) => mib.toFixed(1);
    const rest = peak.rssMiB - v8.committed - v8.external;
    return `Memory at the largest of the ${this.everyMs / 1000}-second samples (RSS ${f(peak.rssMiB)} MiB at ${peak.at.toFixed(0)} s; V8's figures from \`/metrics\`): V8 heap ${f(v8.used)} MiB used of ${f(v8.committed)} MiB committed (new space ${f(v8.newSpace)}, old space ${f(v8.oldSpace)}, large objects ${f(v8.largeObjects)}, code ${f(v8.code)}), external (buffers) ${f(v8.external)} MiB; the rest, ${f(rest)} MiB, is native memory and mapped files, of which ${f(peak.fileMiB)} MiB file pages (the node binary's code, shared with other processes). "Used" includes garbage not collected yet.`;
  }
}
