import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { nextSlot } from '../alert-rules/probes/probe-runner.ts';
import { onPath } from '../test/infra/exec.ts';
import { freePort } from '../test/infra/ports.ts';
import { ensurePrometheusStack } from '../test/infra/prometheus.ts';
import {
  type BenchmarkSection,
  LOOKOUT_CLI,
  MeasuredProcess,
  median,
  percentile,
  table,
  waitUntil,
} from './measure.ts';
import {
  type Bucket,
  bucketsBetween,
  histogramBuckets,
  type MetricValues,
  metricsText,
  parseMetrics,
  quantileBound,
  sumOf,
} from './scrape.ts';

export const PROBES_TITLE = 'Probes: Lookout against blackbox_exporter, and 5,000 targets on a schedule';

const SITE = join(import.meta.dirname, 'probe-site.ts');
const LOAD = join(import.meta.dirname, 'probe-load.ts');
const setting = (name: string, fallback: number) =>
  Number(process.env[`LOOKOUT_BENCH_PROBES_${name}`] ?? fallback);

// Part 1: probes asked for through /probe, as fast as each prober answers.
const ROUNDS = setting('ROUNDS', 5);
const ROUND_SECONDS = setting('ROUND_SECONDS', 10);
const WARMUP_SECONDS = 5;
const CONCURRENCY = setting('CONCURRENCY', 16);
const TARGET_RATIO = 1;

// Part 2: targets probed on their schedule.
const TARGETS = setting('TARGETS', 5000);
const INTERVAL_S = 30;
/** One interval and a little: every target has had its first probe, and the first state save is done. */
const SCHEDULE_WARMUP_S = setting('SCHEDULE_WARMUP_SECONDS', 40);
const SCHEDULE_WINDOW_S = setting('SCHEDULE_WINDOW_SECONDS', 120);
/** The one-target reference runs this long: its first probe and a state save. */
const REFERENCE_S = 35;
const RSS_SAMPLE_MS = 1_000;
/** The site's ports: the targets are spread over them, each with a path of its own. */
const SITE_PORTS = 4;
const RESULT_READERS = 8;
const TARGET_P99_S = 1;
/** /metrics with every target's latest results is large; its scrape may take a while on a busy machine. */
const SCRAPE_TIMEOUT_MS = 30_000;

const MODULES = `modules:
  http_2xx:
    prober: http
    timeout: 5s
`;

/**
 * With taskset and two cores: the prober under measurement gets a core of its own, the site and the
 * load generator the other, so that neither takes CPU from it (others' work on a shared machine still may).
 */
const PINNED = onPath('taskset') !== undefined && cpus().length >= 2;
type Core = 'prober' | 'helpers' | 'any';
function onCore(core: Core, command: string, args: string[]): [string, string[]] {
  if (!PINNED || core === 'any') return [command, args];
  return ['taskset', ['-c', core === 'prober' ? '0' : '1', command, ...args]];
}

function log(message: string): void {
  console.log(`[bench probes] ${message}`);
}

// ---------------------------------------------------------------------------------------------------------
// Part 1: probes per CPU-second.

type SideName = 'lookout' | 'blackbox';
const SIDE_LABEL: Record<SideName, string> = {
  lookout: 'Lookout (`lookout alert-rules`, /probe)',
  blackbox: 'blackbox_exporter (/probe)',
};

interface Side {
  name: SideName;
  proc: MeasuredProcess;
  probeUrl: string;
}

interface Round {
  round: number;
  side: SideName;
  seconds: number;
  ok: number;
  failed: number;
  cpuS: number;
  load: number;
}

interface LoadAnswer {
  ok: number;
  failed: number;
  seconds: number;
  failures: string[];
}

/** One round of the load generator against a side; the side's CPU is read around it. */
async function loadRound(side: Side, seconds: number, round: number): Promise<Round> {
  const cpuBefore = side.proc.cpuSeconds();
  const load = new MeasuredProcess(
    ...onCore('helpers', process.execPath, [LOAD, side.probeUrl, String(CONCURRENCY), String(seconds)]),
  );
  const answer = JSON.parse(await load.waitForOutput(/^(\{.*\})$/m, (seconds + 30) * 1000)) as LoadAnswer;
  const cpuS = side.proc.cpuSeconds() - cpuBefore;
  if (side.proc.exited) throw side.proc.failure(`${side.name} exited during a round`);
  if (answer.failed > 0)
    log(`${side.name}: ${answer.failed} probes failed, e.g. ${answer.failures.slice(0, 2).join(' | ')}`);
  return {
    round,
    side: side.name,
    seconds: answer.seconds,
    ok: answer.ok,
    failed: answer.failed,
    cpuS,
    load: loadavg()[0]!,
  };
}

/** A prober (or Lookout) under measurement and where it answers. */
interface Running {
  proc: MeasuredProcess;
  address: string;
}

async function startBlackbox(modulesFile: string): Promise<Running> {
  await ensurePrometheusStack();
  const address = `127.0.0.1:${await freePort()}`;
  const proc = new MeasuredProcess(
    ...onCore('prober', 'prometheus-blackbox-exporter', [
      `--config.file=${modulesFile}`,
      `--web.listen-address=${address}`,
    ]),
  );
  const ready = async () => (await fetch(`http://${address}/-/ready`)).ok;
  await waitUntil(proc, 'blackbox_exporter to be ready', ready, 30_000);
  return { proc, address: `http://${address}` };
}

/** `lookout alert-rules` with only probes: no rule files, so the Prometheus named is never asked. */
function lookoutConfig(dir: string, modulesFile: string, targets: string): string {
  return `http: { listen: "127.0.0.1:0", auth: { enabled: false } }
dataDir: ${join(dir, 'data')}
alertRules:
  prometheus: { url: "http://127.0.0.1:9" }
  probes:
    modulesFile: ${JSON.stringify(modulesFile)}
    allow: [127.0.0.0/8]
    targets:${targets || ' []'}
`;
}

async function startLookout(dir: string, config: string, core: Core): Promise<Running> {
  const file = join(dir, 'lookout.yaml');
  await writeFile(file, config);
  const args = [LOOKOUT_CLI, 'alert-rules', '--config', file];
  const proc = new MeasuredProcess(...onCore(core, process.execPath, args));
  const address = await proc.waitForOutput(/API at (http:\/\/\S+?)\/ /, 60_000);
  await proc.waitForOutput(/alert rules started/, 120_000);
  return { proc, address };
}

interface PerCore {
  rounds: Round[];
  blackboxVersion: string;
}

async function probesPerCore(work: string, modulesFile: string, sitePort: number): Promise<PerCore> {
  const blackbox = await startBlackbox(modulesFile);
  const dir = await mkdtemp(join(work, 'per-core-'));
  const lookout = await startLookout(dir, lookoutConfig(dir, modulesFile, ''), 'prober');
  try {
    const target = encodeURIComponent(`http://127.0.0.1:${sitePort}/`);
    const probe = (base: string) => `${base}/probe?target=${target}&module=http_2xx`;
    const sides: Side[] = [
      { name: 'lookout', proc: lookout.proc, probeUrl: probe(lookout.address) },
      { name: 'blackbox', proc: blackbox.proc, probeUrl: probe(blackbox.address) },
    ];
    log(`warming up both sides for ${WARMUP_SECONDS} s each`);
    for (const side of sides) await loadRound(side, WARMUP_SECONDS, 0);
    const rounds: Round[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternating who goes first evens out a machine that gets busier or quieter over the run.
      const order = round % 2 ? sides : [...sides].reverse();
      for (const side of order) {
        const r = await loadRound(side, ROUND_SECONDS, round);
        log(
          `round ${round} ${side.name}: ${(r.ok / r.seconds).toFixed(0)} probes/s, ${(r.ok / r.cpuS).toFixed(0)} per CPU-second`,
        );
        rounds.push(r);
      }
    }
    const build = await metricsText(blackbox.address).then(parseMetrics);
    const info = [...build.keys()].find((k) => k.startsWith('blackbox_exporter_build_info{'));
    return { rounds, blackboxVersion: /[{,]version="([^"]+)"/.exec(info ?? '')?.[1] ?? 'unknown' };
  } finally {
    await Promise.all([lookout.proc.stop(), blackbox.proc.stop()]);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Part 2: many targets on their schedule.

function targetsYaml(count: number, sitePorts: number[]): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const port = sitePorts[i % sitePorts.length];
    lines.push(
      `\n      - { name: t${i}, target: "http://127.0.0.1:${port}/page/${i}", module: http_2xx, interval: ${INTERVAL_S}s }`,
    );
  }
  return lines.join('');
}

interface Reading {
  atMs: number;
  cpuS: number;
  metrics: MetricValues;
  /** The machine's load average over the last minute: other work on a shared machine shows here. */
  load: number;
}

interface Scheduled {
  targets: number;
  startupS: number;
  rssAfterStartMiB: number;
  start: Reading;
  end: Reading;
  /** VmRSS every second of the window. */
  rssMiB: number[];
  peakRssMiB: number;
  scrape: { cpuS: number; bytes: number };
  /** Each probe started in the window: how long after its slot, from the results API. */
  startDelaysMs: number[];
}

interface ResultsAnswer {
  results: { startedAt: string }[];
}

/** How late each probe of the window started, from every target's recent results (start times to the ms). */
async function startDelays(address: string, ids: string[], fromMs: number, toMs: number): Promise<number[]> {
  const delays: number[] = [];
  const intervalMs = INTERVAL_S * 1000;
  let next = 0;
  const reader = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      const answer = (await (await fetch(`${address}/api/probes/${id}/results`)).json()) as ResultsAnswer;
      for (const { startedAt } of answer.results) {
        const startedAtMs = Date.parse(startedAt);
        if (startedAtMs < fromMs || startedAtMs >= toMs) continue;
        delays.push(startedAtMs - (nextSlot(id, intervalMs, startedAtMs) - intervalMs));
      }
    }
  };
  await Promise.all(Array.from({ length: RESULT_READERS }, reader));
  return delays;
}

async function read(lookout: Running): Promise<Reading> {
  const metrics = parseMetrics(await metricsText(lookout.address, SCRAPE_TIMEOUT_MS));
  return { atMs: Date.now(), cpuS: lookout.proc.cpuSeconds(), metrics, load: loadavg()[0]! };
}

async function scheduled(work: string, modulesFile: string, sitePorts: number[]): Promise<Scheduled> {
  const dir = await mkdtemp(join(work, 'scheduled-'));
  const started = performance.now();
  const lookout = await startLookout(
    dir,
    lookoutConfig(dir, modulesFile, targetsYaml(TARGETS, sitePorts)),
    'any',
  );
  const startupS = (performance.now() - started) / 1000;
  const rssAfterStartMiB = lookout.proc.rssMiB();
  const rssMiB: number[] = [];
  let sampling = false;
  const sampler = setInterval(() => {
    if (sampling && !lookout.proc.exited) rssMiB.push(lookout.proc.rssMiB());
  }, RSS_SAMPLE_MS);
  try {
    log(`${TARGETS} targets every ${INTERVAL_S}s; warming up ${SCHEDULE_WARMUP_S} s`);
    await delay(SCHEDULE_WARMUP_S * 1000);
    // The scrape before the CPU reading at the start and after it at the end: the window counts none.
    const start = await read(lookout);
    sampling = true;
    log(`steady window of ${SCHEDULE_WINDOW_S} s`);
    await delay(SCHEDULE_WINDOW_S * 1000);
    sampling = false;
    const endCpuS = lookout.proc.cpuSeconds();
    const endAtMs = Date.now();
    const text = await metricsText(lookout.address, SCRAPE_TIMEOUT_MS);
    const end = { atMs: endAtMs, cpuS: endCpuS, metrics: parseMetrics(text), load: loadavg()[0]! };
    const scrape = { cpuS: lookout.proc.cpuSeconds() - endCpuS, bytes: text.length };
    if (lookout.proc.exited) throw lookout.proc.failure('lookout alert-rules exited during the run');
    const ids = Array.from({ length: TARGETS }, (_, i) => `t${i}`);
    const startDelaysMs = await startDelays(lookout.address, ids, start.atMs, end.atMs);
    return {
      targets: TARGETS,
      startupS,
      rssAfterStartMiB,
      start,
      end,
      rssMiB,
      peakRssMiB: lookout.proc.peakRssMiB(),
      scrape,
      startDelaysMs,
    };
  } finally {
    clearInterval(sampler);
    await lookout.proc.stop();
  }
}

interface Reference {
  rssMiB: number;
  peakRssMiB: number;
  metrics: MetricValues;
}

/** The same process with one target: what the probes cost above it. */
async function reference(work: string, modulesFile: string, sitePorts: number[]): Promise<Reference> {
  const dir = await mkdtemp(join(work, 'reference-'));
  const lookout = await startLookout(dir, lookoutConfig(dir, modulesFile, targetsYaml(1, sitePorts)), 'any');
  try {
    log(`one target for ${REFERENCE_S} s, for reference`);
    await delay(REFERENCE_S * 1000);
    const metrics = parseMetrics(await metricsText(lookout.address, SCRAPE_TIMEOUT_MS));
    return { rssMiB: lookout.proc.rssMiB(), peakRssMiB: lookout.proc.peakRssMiB(), metrics };
  } finally {
    await lookout.proc.stop();
  }
}

// ---------------------------------------------------------------------------------------------------------

export async function probesBenchmark(): Promise<BenchmarkSection> {
  const work = await mkdtemp(join(tmpdir(), 'lookout-bench-probes-'));
  const site = new MeasuredProcess(...onCore('helpers', process.execPath, [SITE, String(SITE_PORTS)]));
  try {
    const sitePorts = (await site.waitForOutput(/listening on ([\d,]+)/, 30_000)).split(',').map(Number);
    const modulesFile = join(work, 'blackbox.yml');
    await writeFile(modulesFile, MODULES);
    const perCore = await probesPerCore(work, modulesFile, sitePorts[0]!);
    const ref = await reference(work, modulesFile, sitePorts);
    const run = await scheduled(work, modulesFile, sitePorts);
    return {
      title: PROBES_TITLE,
      machine: [`blackbox_exporter ${perCore.blackboxVersion}`],
      body: report(perCore, ref, run),
    };
  } finally {
    await site.stop();
    await rm(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------

interface SideSummary {
  probesPerS: number;
  cpuS: number;
  cores: number;
  perCpuS: number;
  failed: number;
}

function summary(rounds: Round[], side: SideName): SideSummary {
  const mine = rounds.filter((r) => r.side === side);
  return {
    probesPerS: median(mine.map((r) => r.ok / r.seconds)),
    cpuS: median(mine.map((r) => r.cpuS)),
    cores: median(mine.map((r) => r.cpuS / r.seconds)),
    perCpuS: median(mine.map((r) => r.ok / r.cpuS)),
    failed: mine.reduce((sum, r) => sum + r.failed, 0),
  };
}

function report(perCore: PerCore, ref: Reference, run: Scheduled): string {
  return [...perCoreReport(perCore), '', ...scheduledReport(ref, run)].join('\n');
}

/** Lookout's probes per CPU-second over blackbox's, within each round: the two ran a few seconds apart. */
function roundRatios(rounds: Round[]): number[] {
  const perCpuS = (round: number, side: SideName) => {
    const r = rounds.find((x) => x.round === round && x.side === side)!;
    return r.ok / r.cpuS;
  };
  const numbers = [...new Set(rounds.map((r) => r.round))];
  return numbers.map((n) => perCpuS(n, 'lookout') / perCpuS(n, 'blackbox'));
}

function perCoreReport({ rounds, blackboxVersion }: PerCore): string[] {
  const lookout = summary(rounds, 'lookout');
  const blackbox = summary(rounds, 'blackbox');
  const ratios = roundRatios(rounds);
  const ratio = median(ratios);
  const loads = rounds.map((r) => r.load);
  const pinning = PINNED
    ? "Each prober runs pinned to core 0 (`taskset -c 0`; Go then runs one P) and the site and the load generator to core 1, so neither takes CPU from the prober measured; other people's work on the shared machine still can."
    : 'taskset or a second core is missing, so nothing is pinned: the site and the load generator share the cores with the prober measured.';
  const sideRow = (side: SideName, s: SideSummary) => [
    SIDE_LABEL[side],
    s.probesPerS,
    s.cpuS,
    s.cores,
    s.perCpuS,
    String(s.failed),
  ];
  const side = (round: number, name: SideName) => rounds.find((r) => r.round === round && r.side === name)!;
  return [
    `### Probes per CPU-second: Lookout against blackbox_exporter ${blackboxVersion}`,
    '',
    `Method: a site of the benchmark's own (\`bench/probe-site.ts\`, a 3-byte page) in its own process; blackbox_exporter (Debian's) and \`lookout alert-rules\` (no rules, only probes; auth off; \`probes.allow: [127.0.0.0/8]\`) load the same module file (\`http_2xx\`: prober http, timeout 5s) and probe the same URL. A load generator (\`bench/probe-load.ts\`, its own process) asks each side's \`/probe?target=…&module=http_2xx\` with ${CONCURRENCY} requests in flight over kept-alive connections, ${ROUND_SECONDS} s a round, ${ROUNDS} rounds a side after a ${WARMUP_SECONDS} s warm-up each, the side going first alternating. Only answers with \`probe_success 1\` count. The prober's CPU (utime + stime, all its threads) is read from /proc around each round, so both sides pay for serving \`/probe\` over HTTP and for writing the exposition, like for like. ${pinning} The ratio is the median over the rounds of Lookout's probes per CPU-second over blackbox's in the same round; the other figures are medians over the rounds.`,
    '',
    `Lookout made ${fmt(lookout.perCpuS)} probes per CPU-second against blackbox_exporter's ${fmt(blackbox.perCpuS)}: ${ratio.toFixed(2)}× (rounds from ${Math.min(...ratios).toFixed(2)}× to ${Math.max(...ratios).toFixed(2)}×) ${ratio >= TARGET_RATIO ? `(target ≥ ${TARGET_RATIO}× met)` : `(target ≥ ${TARGET_RATIO}×, not met)`}; blackbox's maintainers quote about 1,000 a core, for real sites rather than a page on loopback. Lookout kept ${lookout.cores.toFixed(2)} of its core busy and blackbox ${blackbox.cores.toFixed(2)}: below 1, the site and the load generator on the other core (or others' work) set the pace, so probes/s is the machine's figure and probes per CPU-second the prober's. The machine's load average (1 min) was ${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)} over the rounds.`,
    '',
    table(
      ['prober', 'probes/s', 'CPU s a round', 'cores used', 'probes per CPU-second', 'failed'],
      [sideRow('lookout', lookout), sideRow('blackbox', blackbox)],
    ),
    '',
    table(
      [
        'round',
        'first',
        'Lookout probes/s',
        'Lookout per CPU-second',
        'blackbox probes/s',
        'blackbox per CPU-second',
        'Lookout ÷ blackbox',
        'load (1 min)',
      ],
      ratios.map((r, i) => {
        const round = i + 1;
        const [l, b] = [side(round, 'lookout'), side(round, 'blackbox')];
        const first = rounds.find((x) => x.round === round)!.side;
        return [
          String(round),
          first,
          l.ok / l.seconds,
          l.ok / l.cpuS,
          b.ok / b.seconds,
          b.ok / b.cpuS,
          r,
          l.load,
        ];
      }),
    ),
  ];
}

function scheduledReport(ref: Reference, run: Scheduled): string[] {
  const seconds = (run.end.atMs - run.start.atMs) / 1000;
  const delta = (name: string, labels = '') =>
    sumOf(run.end.metrics, name, labels) - sumOf(run.start.metrics, name, labels);
  const cores = (run.end.cpuS - run.start.cpuS) / seconds;
  const probes = delta('lookout_probes_total');
  const failures = delta('lookout_probes_total', 'outcome="failure"');
  const skipped = delta('lookout_probes_skipped_total');
  const expected = (run.targets * seconds) / INTERVAL_S;
  const histogram: Bucket[] = bucketsBetween(
    histogramBuckets(run.start.metrics, 'lookout_probes_start_delay_seconds'),
    histogramBuckets(run.end.metrics, 'lookout_probes_start_delay_seconds'),
  );
  const p99Bound = quantileBound(histogram, 0.99);
  const delays = run.startDelaysMs;
  const p99 = percentile(delays, 99);
  const met = p99 < TARGET_P99_S * 1000;
  const steady = median(run.rssMiB);
  return [
    `### ${run.targets.toLocaleString('en-US')} targets every ${INTERVAL_S}s`,
    '',
    `Method: \`lookout alert-rules\` with ${run.targets.toLocaleString('en-US')} targets in its configuration file (module \`http_2xx\`, interval ${INTERVAL_S}s, the scheduler's defaults: concurrency 256, 50 results kept per target, state saved every 10s), spread over ${SITE_PORTS} ports of the same site with a path each; not pinned. It started in ${run.startupS.toFixed(1)} s (to "alert rules started"). After ${SCHEDULE_WARMUP_S} s (every target probed once), a window of ${seconds.toFixed(0)} s (${(seconds / INTERVAL_S).toFixed(1)} intervals): CPU (utime + stime) from /proc, RSS (VmRSS) every ${RSS_SAMPLE_MS / 1000} s, and \`/metrics\` read just before the window and just after it, so its scrapes are not counted. Lateness is how long after its slot each probe started: the bound of the \`lookout_probes_start_delay_seconds\` bucket holding the 99th percentile of the window's observations, and, to the millisecond, every result's \`startedAt\` (\`/api/probes/:id/results\`, read after the window) less the slot the scheduler computes for the target (\`nextSlot\`). The one-target reference is the same process and configuration with one target, after ${REFERENCE_S} s.`,
    '',
    `Lookout used ${cores.toFixed(3)} of a core for ${run.targets.toLocaleString('en-US')} targets (${(probes / seconds).toFixed(0)} probes/s); RSS ${steady.toFixed(0)} MiB steady (median of the window), ${run.peakRssMiB.toFixed(0)} MiB at peak, against ${ref.rssMiB.toFixed(0)} MiB with one target. Probes started p50 ${fmtMs(median(delays))} ms, p99 ${fmtMs(p99)} ms, max ${fmtMs(Math.max(...delays))} ms after their slots (histogram: p99 ≤ ${p99Bound} s) ${met ? `(target p99 < ${TARGET_P99_S} s met)` : `(target p99 < ${TARGET_P99_S} s, not met)`}. In the window ${probes.toLocaleString('en-US')} probes ran of the ${Math.round(expected).toLocaleString('en-US')} due, ${failures} failed and ${skipped} were skipped. A \`/metrics\` scrape (${(run.scrape.bytes / 2 ** 20).toFixed(1)} MiB with every target's latest results) cost ${(run.scrape.cpuS * 1000).toFixed(0)} ms of CPU. The machine's load average (1 min) was ${run.start.load.toFixed(1)} at the start of the window and ${run.end.load.toFixed(1)} at its end.`,
    '',
    table(
      [
        'targets',
        'cores used',
        'probes/s',
        'p50 start delay ms',
        'p99 start delay ms',
        'max ms',
        'skipped',
        'failed',
      ],
      [
        [
          run.targets.toLocaleString('en-US'),
          cores.toFixed(3),
          probes / seconds,
          median(delays),
          p99,
          Math.max(...delays),
          String(skipped),
          String(failures),
        ],
      ],
    ),
    '',
    table(
      ['targets', 'RSS MiB', 'peak RSS MiB', 'V8 heap used MiB', 'V8 heap total MiB', 'external MiB'],
      [
        memoryRow('1 (reference, at its end)', ref.rssMiB, ref.peakRssMiB, ref.metrics),
        memoryRow(
          `${run.targets.toLocaleString('en-US')} (median of the window)`,
          steady,
          run.peakRssMiB,
          run.end.metrics,
        ),
      ],
    ),
    '',
    `RSS right after start ${run.rssAfterStartMiB.toFixed(0)} MiB; over the window from ${Math.min(...run.rssMiB).toFixed(0)} to ${Math.max(...run.rssMiB).toFixed(0)} MiB. V8's heap figures are \`nodejs_heap_size_used_bytes\`, \`nodejs_heap_size_total_bytes\` and \`nodejs_external_memory_bytes\` at the end; "used" includes garbage not collected yet.`,
  ];
}

function memoryRow(
  label: string,
  rssMiB: number,
  peakMiB: number,
  metrics: MetricValues,
): (string | number)[] {
  const mib = (name: string) => sumOf(metrics, name) / 2 ** 20;
  return [
    label,
    rssMiB,
    peakMiB,
    mib('nodejs_heap_size_used_bytes'),
    mib('nodejs_heap_size_total_bytes'),
    mib('nodejs_external_memory_bytes'),
  ];
}

const fmt = (v: number) => Math.round(v).toLocaleString('en-US');
const fmtMs = (v: number) => v.toFixed(0);
