import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  ELASTICSEARCH_VERSION,
  type ElasticsearchServer,
  startElasticsearch,
} from '../test/infra/elasticsearch.ts';
import { type RobotServer, startRobotServer } from '../test/robots/robot-server.ts';
import { latencyRow } from './alert-rules.ts';
import { esJson, fillEmbeddedStore, loadRecords, settle, startCollector } from './collector.ts';
import { type BenchmarkSection, LOOKOUT_CLI, MeasuredProcess, table, waitUntil } from './measure.ts';
import { scrapeMetrics, sumOf } from './scrape.ts';
import { type RecordSet, writeRecordSet } from './sidecar-records.ts';

export const LOG_RULES_TITLE =
  'alert-rules: 200 log rules over 10 million lines in Elasticsearch and 1 million in the embedded store';

const ES_DOCS = Number(process.env.LOOKOUT_BENCH_LOG_RULES_ES_DOCS ?? 10_000_000);
const EMBEDDED_DOCS = Number(process.env.LOOKOUT_BENCH_LOG_RULES_EMBEDDED_DOCS ?? 1_000_000);
const GROUPS = 20;
const INTERVAL_MS = 60_000;
/** The store with the collector up and no rule: what the rules' load is measured above. */
const BASELINE_MS = Number(process.env.LOOKOUT_BENCH_LOG_RULES_BASELINE_SECONDS ?? 120) * 1000;
/** Every group evaluates once within an interval of starting; the steady window comes after. */
const WARMUP_MS = INTERVAL_MS + 15_000;
const WINDOW_MS = Number(process.env.LOOKOUT_BENCH_LOG_RULES_WINDOW_SECONDS ?? 300) * 1000;
/** `/api/rules` is read this often, so every evaluation of a rule (one an interval) is seen. */
const SAMPLE_MS = 5_000;
/** The records span this much time before the benchmark starts: the longest window and the one before it. */
const HISTORY_MS = 60 * 60_000;
const ES_PREFIX = 'lookout-bench-log-rules-';
const MINUTE = 60_000;

type StoreKind = 'elasticsearch' | 'embedded';
type RuleType = 'count' | 'ratio' | 'spike' | 'flatline' | 'any';

/**
 * The ten rules of a group, all of one namespace: what teams write (errors per pod, a word's count, an
 * error ratio, a spike, a silent pod, any line of a rare kind), with thresholds some of them pass.
 */
function groupRules(namespace: string, g: number): { type: RuleType; yaml: string }[] {
  const rule = (type: RuleType, name: string, body: string) => ({
    type,
    yaml: `      - alert: ${name}${g}
        type: ${type}
        namespaces: [${namespace}]
${body
  .trim()
  .split('\n')
  .map((line) => `        ${line}`)
  .join('\n')}`,
  });
  return [
    rule(
      'count',
      'ErrorsPerPod',
      `query: 'level:error'\nwindow: 5m\nabove: ${2_000 + g * 200}\ngroup_by: [pod]`,
    ),
    rule('count', 'Timeouts', `query: timeout\nwindow: 5m\nabove: ${5_000 + g * 1_000}`),
    rule('count', 'FewLines', `query: ''\nwindow: 1m\nbelow: 10`),
    rule(
      'count',
      'PoolErrors',
      `query: 'pool AND level:error'\nwindow: 10m\nabove: 50000\ngroup_by: [pod, container]`,
    ),
    rule(
      'ratio',
      'ErrorRatio',
      `query: 'level:error'\ntotal: ''\nwindow: 5m\nabove: ${(0.1 + g * 0.003).toFixed(3)}`,
    ),
    rule(
      'ratio',
      'TimeoutShare',
      `query: timeout\ntotal: 'level:warn OR level:error'\nwindow: 5m\nabove: 0.9\ngroup_by: [pod]`,
    ),
    rule('spike', 'EvictionSpike', `query: evicted\nwindow: 5m\nabove: 3\nmin_count: 20\ngroup_by: [pod]`),
    rule('flatline', 'PodSilent', `query: ''\nwindow: 10m\ngroup_by: [pod]`),
    rule('any', 'OutOfMemory', `query: 'java.lang.OutOfMemoryError'\nwindow: 1m\ngroup_by: [pod]`),
    rule('any', 'AuditErrors', `query: 'level:error AND container:audit'\nwindow: 1m\nmax_alerts: 5`),
  ];
}

interface RuleFile {
  path: string;
  types: Map<string, RuleType>;
  rules: number;
}

async function writeRules(dir: string, namespaces: string[]): Promise<RuleFile> {
  const types = new Map<string, RuleType>();
  const groups: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    const namespace = namespaces[g % namespaces.length]!;
    const rules = groupRules(namespace, g);
    for (const { type, yaml } of rules) types.set(/alert: (\S+)/.exec(yaml)![1]!, type);
    groups.push(
      `  - name: ${namespace}-logs-${g}\n    kind: logs\n    interval: 1m\n    rules:\n${rules.map((r) => r.yaml).join('\n')}`,
    );
  }
  const path = join(dir, 'log-rules.yaml');
  await writeFile(path, `groups:\n${groups.join('\n')}\n`);
  return { path, types, rules: types.size };
}

/** What the store does, read at both ends of a window. */
interface StoreReading {
  atMs: number;
  collectorCpuS: number;
  /** Elasticsearch's own: process CPU and searches, from its node stats; zero on the embedded store. */
  esCpuS: number;
  esQueries: number;
  esQueryS: number;
}

async function readStore(collector: MeasuredProcess, es?: ElasticsearchServer): Promise<StoreReading> {
  const stats = es
    ? ((await esJson(
        es,
        'GET',
        '/_nodes/_local/stats/process,indices?filter_path=nodes.*.process.cpu.total_in_millis,nodes.*.indices.search.query_total,nodes.*.indices.search.query_time_in_millis',
      )) as {
        nodes: Record<
          string,
          {
            process: { cpu: { total_in_millis: number } };
            indices: { search: { query_total: number; query_time_in_millis: number } };
          }
        >;
      })
    : undefined;
  const node = stats ? Object.values(stats.nodes)[0] : undefined;
  return {
    atMs: Date.now(),
    collectorCpuS: collector.cpuSeconds(),
    esCpuS: (node?.process.cpu.total_in_millis ?? 0) / 1000,
    esQueries: node?.indices.search.query_total ?? 0,
    esQueryS: (node?.indices.search.query_time_in_millis ?? 0) / 1000,
  };
}

/** Per second over the window from `a` to `b`. */
function rate(a: StoreReading, b: StoreReading, field: keyof StoreReading): number {
  return (b[field] - a[field]) / ((b.atMs - a.atMs) / 1000);
}

interface RuleState {
  name: string;
  health: string;
  lastError?: string;
  evaluationTime: number;
  lastEvaluation: string;
}

interface RulesAnswer {
  data: { groups: { name: string; evaluationTime: number; lastEvaluation: string; rules: RuleState[] }[] };
}

/** Every evaluation seen of every rule and group, by its start: `/api/rules` keeps each until the next. */
class Evaluations {
  readonly rules = new Map<string, { rule: string; startMs: number; ms: number; health: string }>();
  readonly groups = new Map<string, { startMs: number; ms: number }>();

  record(answer: RulesAnswer): void {
    for (const group of answer.data.groups) {
      const groupStart = Date.parse(group.lastEvaluation);
      if (groupStart > 0)
        this.groups.set(`${group.name}@${groupStart}`, {
          startMs: groupStart,
          ms: group.evaluationTime * 1000,
        });
      for (const rule of group.rules) {
        const startMs = Date.parse(rule.lastEvaluation);
        if (!(startMs > 0)) continue;
        this.rules.set(`${rule.name}@${startMs}`, {
          rule: rule.name,
          startMs,
          ms: rule.evaluationTime * 1000,
          health: rule.health,
        });
      }
    }
  }

  rulesWithin(fromMs: number, toMs: number) {
    return [...this.rules.values()].filter(({ startMs }) => startMs >= fromMs && startMs < toMs);
  }

  groupsWithin(fromMs: number, toMs: number): number[] {
    return [...this.groups.values()]
      .filter(({ startMs }) => startMs >= fromMs && startMs < toMs)
      .map(({ ms }) => ms);
  }
}

interface StoreRun {
  store: StoreKind;
  docs: number;
  namespaces: number;
  /** Each rule's type, by name. */
  types: Map<string, RuleType>;
  /** Lines a minute in the records' time span: how many a 5-minute window counts. */
  linesPerMinute: number;
  baseline: [StoreReading, StoreReading];
  window: [StoreReading, StoreReading];
  evaluations: { rule: string; ms: number; health: string }[];
  groupMs: number[];
  failures: string[];
  missed: number;
  firing: number;
  notifications: number;
  alertRulesCpuS: number;
  alertRulesPeakRssMiB: number;
  collectorPeakRssMiB: number;
  load: [number, number];
}

async function measureStore(
  work: string,
  store: StoreKind,
  records: RecordSet,
  robots: RobotServer,
  es?: ElasticsearchServer,
): Promise<StoreRun> {
  const dir = join(work, store);
  await mkdir(dir, { recursive: true });
  if (store === 'embedded') {
    await step(`write ${count(records.count)} records into the embedded store`, () =>
      fillEmbeddedStore(dir, records),
    );
  }
  const collector = await startCollector(
    dir,
    es ? { elasticsearch: `{ nodes: ["${es.url}"], index: "${ES_PREFIX}{yyyy.MM.dd}", replicas: 0 }` } : {},
  );
  let alertRules: MeasuredProcess | undefined;
  try {
    const api = await collector.address;
    await waitUntil(collector, 'the collector ready', async () => (await fetch(`${api}/readyz`)).ok, 60_000);
    const baselineStart = await readStore(collector, es);
    log(`${store}: ${BASELINE_MS / 1000} s with no rule`);
    await delay(BASELINE_MS);
    const baselineEnd = await readStore(collector, es);

    const rules = await writeRules(dir, records.namespaces);
    const robot = robots.dingtalk({ name: `log-rules-${store}`, perMinute: 10_000 });
    await writeFile(
      join(dir, 'alertmanager.yml'),
      'route:\n  receiver: oncall\n  group_by: [alertname]\n  group_wait: 10s\n  group_interval: 1m\n',
    );
    const config = join(dir, 'alert-rules.yaml');
    await writeFile(
      config,
      `http: { listen: "127.0.0.1:0", auth: { enabled: false } }
dataDir: ${join(dir, 'alert-rules-data')}
robots:
  oncall: { type: dingtalk, baseUrl: "${robot.baseUrl}", accessToken: "${robot.accessToken}", perMinute: 10000 }
alertRules:
  ruleFiles: [${JSON.stringify(rules.path)}]
  # Log rules ask no Prometheus; the setting is required, and nothing listens here.
  prometheus: { url: "http://127.0.0.1:9" }
  logs: { url: "${api}" }
  routing:
    alertmanagerConfigFile: ${JSON.stringify(join(dir, 'alertmanager.yml'))}
    receivers: { oncall: { robots: [oncall] } }
`,
    );
    alertRules = new MeasuredProcess(process.execPath, [LOOKOUT_CLI, 'alert-rules', '--config', config]);
    const address = await alertRules.waitForOutput(/API at (http:\/\/\S+?)\/ /, 60_000);
    await alertRules.waitForOutput(/alert rules started/, 60_000);
    const evaluations = new Evaluations();
    let sampling = true;
    const ruleApi = new URL('/api/rules', address);
    const sampler = (async () => {
      while (sampling && !alertRules.exited) {
        try {
          evaluations.record((await (await fetch(ruleApi)).json()) as RulesAnswer);
        } catch (err) {
          log(`reading /api/rules failed: ${String(err)}`);
        }
        await delay(SAMPLE_MS);
      }
    })();
    log(`${store}: ${rules.rules} rules in ${GROUPS} groups; warming up ${WARMUP_MS / 1000} s`);
    await delay(WARMUP_MS);
    const metricsBefore = await scrapeMetrics(address);
    const windowStart = await readStore(collector, es);
    const cpuBefore = alertRules.cpuSeconds();
    const loadBefore = loadavg()[0]!;
    log(`${store}: steady window of ${WINDOW_MS / 1000} s`);
    await delay(WINDOW_MS);
    const windowEnd = await readStore(collector, es);
    const cpuAfter = alertRules.cpuSeconds();
    const metricsAfter = await scrapeMetrics(address);
    sampling = false;
    await sampler;
    if (alertRules.exited) throw alertRules.failure('lookout alert-rules exited during the run');
    const within = evaluations.rulesWithin(windowStart.atMs, windowEnd.atMs);
    const alerts = (await (await fetch(new URL('/api/alerts', address))).json()) as {
      data: { alerts: { state: string }[] };
    };
    const missed = (m: typeof metricsAfter) => sumOf(m, 'lookout_alert_rules_group_iterations_missed_total');
    return {
      store,
      docs: records.count,
      namespaces: records.namespaces.length,
      types: rules.types,
      linesPerMinute: (records.count / (records.to - records.from)) * MINUTE,
      baseline: [baselineStart, baselineEnd],
      window: [windowStart, windowEnd],
      evaluations: within,
      groupMs: evaluations.groupsWithin(windowStart.atMs, windowEnd.atMs),
      failures: [...new Set(within.filter((e) => e.health !== 'ok').map((e) => `${e.rule}: ${e.health}`))],
      missed: missed(metricsAfter) - missed(metricsBefore),
      firing: alerts.data.alerts.filter((a) => a.state === 'firing').length,
      notifications: robots.accepted(`log-rules-${store}`).length,
      alertRulesCpuS: cpuAfter - cpuBefore,
      alertRulesPeakRssMiB: alertRules.peakRssMiB(),
      collectorPeakRssMiB: collector.peakRssMiB(),
      load: [loadBefore, loadavg()[0]!],
    };
  } finally {
    await alertRules?.stop();
    await collector.stop();
  }
}

/**
 * 200 log rules (20 groups of 10, each group one namespace's, every minute) evaluated by `lookout
 * alert-rules` through a collector's count API, first over Elasticsearch holding 10 million records, then
 * over the embedded store holding 1 million: the time each rule evaluation takes, and the load the rules
 * add to the store and the collector above the same store left alone.
 *
 * At the default sizes this takes some 30 minutes on two cores, most of it generating and loading the
 * ten million records, and some 8 GB of temporary disk; LOOKOUT_BENCH_LOG_RULES_*_DOCS make it smaller.
 */
export async function logRulesBenchmark(): Promise<BenchmarkSection> {
  const started = performance.now();
  const work = await mkdtemp(join(tmpdir(), 'lookout-bench-log-rules-'));
  const robots = await startRobotServer();
  let es: ElasticsearchServer | undefined;
  try {
    // The records reach past the end of the run, so every window evaluated is full of lines, as in a
    // cluster that keeps logging; the longest window and the one before it fit in the history.
    const now = Date.now();
    const esRecords = await step(`generate ${count(ES_DOCS)} records`, () =>
      writeRecordSet(join(work, 'es.tsv'), ES_DOCS, now - HISTORY_MS, now + 45 * MINUTE, 11),
    );
    es = await step('start Elasticsearch', () => startElasticsearch());
    await step(`load ${count(ES_DOCS)} records into Elasticsearch`, () =>
      loadRecords(es!, ES_PREFIX, esRecords),
    );
    await rm(esRecords.path);
    await step('wait for merges to finish', () => settle(es!, ES_PREFIX));
    if (Date.now() + BASELINE_MS + WARMUP_MS + WINDOW_MS > esRecords.to) {
      throw new Error('loading took so long that the windows would run past the records; give it fewer');
    }
    const esRun = await step('Elasticsearch', () =>
      measureStore(work, 'elasticsearch', esRecords, robots, es),
    );
    await es.close();
    es = undefined;

    const embeddedNow = Date.now();
    const embeddedRecords = await step(`generate ${count(EMBEDDED_DOCS)} records`, () =>
      writeRecordSet(
        join(work, 'embedded.tsv'),
        EMBEDDED_DOCS,
        embeddedNow - HISTORY_MS,
        embeddedNow + 20 * MINUTE,
        12,
      ),
    );
    const embeddedRun = await step('embedded store', () =>
      measureStore(work, 'embedded', embeddedRecords, robots),
    );
    const minutes = (performance.now() - started) / 60_000;
    return {
      title: LOG_RULES_TITLE,
      machine: [`Elasticsearch ${ELASTICSEARCH_VERSION}`],
      body: report([esRun, embeddedRun], minutes),
    };
  } finally {
    await es?.close();
    await robots.close();
    await rm(work, { recursive: true, force: true });
  }
}

function report(runs: StoreRun[], minutes: number): string {
  const types: RuleType[] = ['count', 'ratio', 'spike', 'flatline', 'any'];
  const cores = (v: number) => v.toFixed(3);
  return [
    `Method: ${GROUPS * 10} log rules in ${GROUPS} groups of 10 (\`kind: logs\`, \`interval: 1m\`), each group about one of the records' ${runs[0]?.namespaces} namespaces: per group four \`count\` rules (errors per pod over 5m, a word over 5m, fewer than 10 lines in 1m, a word and level per pod and container over 10m), two \`ratio\` (errors of all lines over 5m; timeouts of warnings and errors per pod), a \`spike\` per pod over 5m, a \`flatline\` per pod over 10m and two \`any\` over 1m (a class name that never occurs; errors of the audit container, at most 5 alerts a rule). Thresholds differ by group, so some rules fire and most do not. \`lookout alert-rules\` asks a \`lookout collector\` (auth off) over loopback HTTP; alerts are routed to the DingTalk double (test/robots/robot-server.ts). The records are the collector benchmark's (the sidecar's own pipeline over logback-style lines of 48 containers in 6 namespaces), spread evenly over the hour before the run and the run itself, so every window is full: Elasticsearch holds them in daily indices loaded by \`bench/bulk-load.ts\` and merged before anything is measured; the embedded store is written in-process into the collector's data directory.`,
    '',
    `Each store is first left alone with the collector up for ${BASELINE_MS / 1000} s (the baseline); then alert-rules starts, evaluates for ${WARMUP_MS / 1000} s, and the steady window of ${WINDOW_MS / 1000} s is measured. A rule evaluation's time is the rule's \`evaluationTime\` in \`/api/rules\`, read every ${SAMPLE_MS / 1000} s (each evaluation is seen once: it stays until the rule's next, a minute later): it runs from the rule's start to its alerts' state, including the count request, the collector's translation and the store's aggregation, and the searches for quoted lines of new alerts. "Extra load" is CPU per second in the window less CPU per second in the baseline, in cores: Elasticsearch's process CPU from its node stats, the collector's and alert-rules' from /proc.`,
    '',
    table(
      ['store', 'lines', 'lines in a 5m window', 'rule evaluations', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
      runs.map((run) => {
        const [label, n, p50, p90, p99, max] = latencyRow(
          run.store,
          run.evaluations.map((e) => e.ms),
        );
        return [label!, count(run.docs), count(run.linesPerMinute * 5), n!, p50!, p90!, p99!, max!];
      }),
    ),
    '',
    table(
      ['by rule type', ...runs.flatMap((run) => [`${run.store} p50 ms`, `${run.store} p99 ms`])],
      types.map((type) => [
        type,
        ...runs.flatMap((run) => {
          const ms = run.evaluations.filter((e) => run.types.get(e.rule) === type).map((e) => e.ms);
          const [, , p50, , p99] = latencyRow(type, ms);
          return [p50!, p99!];
        }),
      ]),
    ),
    '',
    table(
      [
        'store',
        'group evaluations p99 ms',
        'missed',
        'failed rules',
        'Elasticsearch extra cores',
        'ES searches/s',
        'ES ms per search',
        'collector extra cores',
        'alert-rules cores',
        'alert-rules peak MiB',
        'collector peak MiB',
      ],
      runs.map((run) => {
        const [b0, b1] = run.baseline;
        const [w0, w1] = run.window;
        const searches = w1.esQueries - w0.esQueries;
        const windowS = (w1.atMs - w0.atMs) / 1000;
        return [
          run.store,
          latencyRow('', run.groupMs)[4]!,
          run.missed,
          run.failures.length,
          run.store === 'elasticsearch' ? cores(rate(w0, w1, 'esCpuS') - rate(b0, b1, 'esCpuS')) : 'n/a',
          run.store === 'elasticsearch' ? (searches / windowS).toFixed(1) : 'n/a',
          run.store === 'elasticsearch' && searches > 0
            ? ((w1.esQueryS - w0.esQueryS) * 1000) / searches
            : 'n/a',
          cores(rate(w0, w1, 'collectorCpuS') - rate(b0, b1, 'collectorCpuS')),
          cores(run.alertRulesCpuS / windowS),
          run.alertRulesPeakRssMiB,
          run.collectorPeakRssMiB,
        ];
      }),
    ),
    '',
    ...runs.map(
      (run) =>
        `${run.store}: ${run.firing} alerts firing at the end of the window, ${run.notifications} messages accepted by the robot in the run; the machine's load average (1 min) was ${run.load[0].toFixed(1)} at the start of the window and ${run.load[1].toFixed(1)} at its end.${run.failures.length > 0 ? ` Failed: ${run.failures.slice(0, 5).join('; ')}.` : ''}`,
    ),
    '',
    `Elasticsearch counts searches per shard: one count request over two daily indices is two. Duration: the whole benchmark took ${minutes.toFixed(1)} min on this machine.`,
  ].join('\n');
}

async function step<T>(name: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  log(`${name}…`);
  const result = await work();
  log(`${name}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function log(message: string): void {
  console.log(`[bench log-rules] ${message}`);
}
