import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type HttpServer, type PrometheusOptions, startPrometheus } from '../test/infra/prometheus.ts';
import { type RobotServer, startRobotServer } from '../test/robots/robot-server.ts';
import { ScriptedExporter } from '../test/support/scripted-exporter.ts';
import { ProbeSchedule, type ProbeTiming } from './alert-rules-probes.ts';
import { type RuleFiles, ServiceFleet, writeRuleFiles } from './alert-rules-workload.ts';
import { type BenchmarkSection, LOOKOUT_CLI, MeasuredProcess, median, percentile, table } from './measure.ts';
import { type MetricValues, scrapeMetrics, sumOf } from './scrape.ts';

export const ALERT_RULES_TITLE = 'alert-rules: 2,000 rules against Prometheus';

const GROUPS = 100;
const RULE_FILES = 10;
const INTERVAL = '15s';
const INTERVAL_MS = 15_000;
// Long enough for two scrapes (rate() needs both) and the first evaluation of every group; then the
// steady window: several evaluation cycles of every group.
const WARMUP_MS = Number(process.env.LOOKOUT_BENCH_RULES_WARMUP_SECONDS ?? 45) * 1000;
const WINDOW_MS = Number(process.env.LOOKOUT_BENCH_RULES_WINDOW_SECONDS ?? 150) * 1000;
/** A third of the interval: every group's last-duration gauge is read at least once per evaluation. */
const SAMPLE_MS = 5_000;
const TARGET_CORES = 0.2;
/** New BenchProbe alerts a round, one round an interval, each series kept two scrapes. */
const PROBES_PER_ROUND = 12;
const PROBE_LIFETIME_MS = 2 * INTERVAL_MS;
/** Probes stop this long before the window ends: a probe fires within a scrape and an evaluation. */
const PROBE_SETTLE_MS = 2 * INTERVAL_MS;
/** A paging route's wait for more alerts of a group (Alertmanager's group_wait; its default is 30s). */
const PROBE_GROUP_WAIT = '10s';
const PROBE_GROUP_WAIT_MS = 10_000;
const TARGET_SEND_P99_MS = 1000 + PROBE_GROUP_WAIT_MS;

type Side = 'lookout' | 'prometheus';

/** What each evaluator calls its per-group gauges. */
const GROUP_METRIC_PREFIX: Record<Side, string> = {
  lookout: 'lookout_alert_rules_group',
  prometheus: 'prometheus_rule_group',
};

/** `name{rule_group="x"}` → x. */
function byGroup(metrics: MetricValues, name: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const [key, value] of metrics) {
    const group = key.startsWith(`${name}{`) ? /rule_group="([^"]*)"/.exec(key)?.[1] : undefined;
    if (group !== undefined) values.set(group, value);
  }
  return values;
}

/**
 * Every group evaluation seen, by group and start time: reading the last-duration gauge more often
 * than the interval catches each evaluation once, whatever the alignment of the groups.
 */
class GroupEvaluations {
  private readonly seen = new Map<string, { group: string; startS: number; seconds: number }>();
  private readonly prefix: string;

  constructor(side: Side) {
    this.prefix = GROUP_METRIC_PREFIX[side];
  }

  record(metrics: MetricValues): void {
    const starts = byGroup(metrics, `${this.prefix}_last_evaluation_timestamp_seconds`);
    const durations = byGroup(metrics, `${this.prefix}_last_duration_seconds`);
    for (const [group, startS] of starts) {
      const seconds = durations.get(group);
      if (startS > 0 && seconds !== undefined)
        this.seen.set(`${group}@${startS}`, { group, startS, seconds });
    }
  }

  /** Durations in seconds of the evaluations that started within [fromMs, toMs). */
  within(fromMs: number, toMs: number): number[] {
    return [...this.seen.values()]
      .filter(({ startS }) => startS * 1000 >= fromMs && startS * 1000 < toMs)
      .map(({ seconds }) => seconds);
  }

  /**
   * When the evaluation of the team's group at `slotMs` ended (its start is the timer's, a little off the
   * slot): an alert it fires is handed on at the end of its rule, and the probe rule is its group's last.
   * Infinity when that evaluation was not seen.
   */
  endedAfter(team: string, slotMs: number): number {
    const ends = [...this.seen.values()]
      .filter(({ group, startS }) => group.includes(`;${team}-`) && startS * 1000 >= slotMs - INTERVAL_MS / 2)
      .map(({ startS, seconds }) => (startS + seconds) * 1000);
    return Math.min(...ends);
  }
}

/** The readings at one end of the steady window. */
interface Snapshot {
  atMs: number;
  /** The machine's load average over the last minute: other work on a shared machine shows here. */
  load: number;
  lookoutCpuS: number;
  /** Prometheus's own process_cpu_seconds_total and the rest of its metrics, by instance. */
  prometheus: Record<PrometheusRole, MetricValues>;
  lookout: MetricValues;
}

/**
 * Three Prometheus servers scrape the same exporter: one evaluates the rules itself, one answers
 * Lookout's queries and evaluates nothing, one does neither; the third's CPU is what scraping and
 * storage cost, so the others' CPU above it is what the rules cost each way.
 */
type PrometheusRole = 'evaluating' | 'queried' | 'idle';
const ROLES: PrometheusRole[] = ['evaluating', 'queried', 'idle'];

interface Run {
  rules: RuleFiles;
  series: number;
  start: Snapshot;
  end: Snapshot;
  lookoutPeakRssMiB: number;
  evaluations: Record<Side, number[]>;
  probes: {
    sent: number;
    timings: ProbeTiming[];
    unsent: number;
    /** For each timing, from the end of the group evaluation that fired it to the robot, less group_wait. */
    afterEvaluationMs: number[];
  };
  /** Messages of the team alerts: accepted and refused by the rate-limited robot. */
  opsMessages: { accepted: number; rejected: number };
  version: string;
}

/** Two robots: the probes' (no rate limit, so its figures are latency alone) and everyone else's. */
interface Robots {
  server: RobotServer;
  probe: string;
  ops: string;
}

function lookoutConfig(dir: string, rules: RuleFiles, prometheus: HttpServer, robots: Robots): string {
  const probe = robots.server.dingtalk({ name: robots.probe, perMinute: 10_000 });
  const ops = robots.server.wecom({ name: robots.ops });
  return `http: { listen: "127.0.0.1:0", auth: { enabled: false } }
dataDir: ${join(dir, 'data')}
robots:
  ops: { type: wecom, baseUrl: "${ops.baseUrl}", key: "${ops.key}" }
  probe: { type: dingtalk, baseUrl: "${probe.baseUrl}", accessToken: "${probe.accessToken}", perMinute: 10000 }
alertRules:
  ruleFiles: [${rules.paths.map((p) => JSON.stringify(p)).join(', ')}]
  prometheus: { url: "${prometheus.url}" }
  evaluationInterval: ${INTERVAL}
  routing: { alertmanagerConfigFile: ${JSON.stringify(join(dir, 'alertmanager.yml'))} }
`;
}

/** Alertmanager's defaults for the team alerts; each probe alert a group of its own on a paging route. */
const ROUTES = `route:
  receiver: ops
  group_by: [alertname, service]
  routes:
    - matchers: ['alertname="BenchProbe"']
      receiver: probe
      group_by: ['...']
      group_wait: ${PROBE_GROUP_WAIT}
`;

async function snapshot(
  lookout: MeasuredProcess,
  address: string,
  servers: Record<PrometheusRole, HttpServer>,
) {
  const [lookoutMetrics, ...prometheus] = await Promise.all([
    scrapeMetrics(address),
    ...ROLES.map((role) => scrapeMetrics(servers[role].url)),
  ]);
  return {
    atMs: Date.now(),
    load: loadavg()[0]!,
    lookoutCpuS: lookout.cpuSeconds(),
    lookout: lookoutMetrics!,
    prometheus: Object.fromEntries(ROLES.map((role, i) => [role, prometheus[i]!])) as Record<
      PrometheusRole,
      MetricValues
    >,
  };
}

async function measure(work: string, robotServer: RobotServer): Promise<Run> {
  const exporter = await ScriptedExporter.start();
  const fleet = new ServiceFleet(exporter);
  fleet.start();
  const rulesDir = join(work, 'rules');
  await mkdir(rulesDir);
  const rules = await writeRuleFiles(rulesDir, GROUPS, RULE_FILES);
  const probes = new ProbeSchedule(exporter, rules.teams, PROBES_PER_ROUND, PROBE_LIFETIME_MS);
  const scrape = { scrapeTargets: [{ job: 'services', urls: [exporter.url] }], scrapeInterval: INTERVAL };
  // One after the other: a free port is picked before the server binds it, and three at once can pick one.
  const servers = {
    evaluating: await startPrometheusRetried({
      ...scrape,
      ruleFiles: rules.paths,
      evaluationInterval: INTERVAL,
    }),
    queried: await startPrometheusRetried(scrape),
    idle: await startPrometheusRetried(scrape),
  };
  const id = randomUUID().slice(0, 8);
  const robots = { server: robotServer, probe: `probe-${id}`, ops: `ops-${id}` };
  const config = join(work, 'lookout.yaml');
  await writeFile(config, lookoutConfig(work, rules, servers.queried, robots));
  await writeFile(join(work, 'alertmanager.yml'), ROUTES);
  const lookout = new MeasuredProcess(process.execPath, [LOOKOUT_CLI, 'alert-rules', '--config', config]);
  const evaluations = {
    lookout: new GroupEvaluations('lookout'),
    prometheus: new GroupEvaluations('prometheus'),
  };
  let sampling = true;
  let readFailures = 0;
  try {
    const address = await lookout.waitForOutput(/API at (http:\/\/\S+?)\/ /, 30_000);
    await lookout.waitForOutput(/alert rules started/, 60_000);
    log(`${rules.rules} rules in ${rules.groups} groups; warming up ${WARMUP_MS / 1000} s`);
    const sampler = (async () => {
      while (sampling && !lookout.exited) {
        try {
          const [own, theirs, alerts] = await Promise.all([
            scrapeMetrics(address),
            scrapeMetrics(servers.evaluating.url),
            fetch(new URL('/api/alerts', address)).then((r) => r.json() as Promise<AlertsAnswer>),
          ]);
          evaluations.lookout.record(own);
          evaluations.prometheus.record(theirs);
          probes.record(alerts.data.alerts);
        } catch (err) {
          // One reading missed costs nothing (the gauges hold for an interval); many make the figures thin.
          if (readFailures++ < 3) log(`reading the evaluators failed: ${String(err)}`);
        }
        await delay(SAMPLE_MS);
      }
    })();
    await delay(WARMUP_MS);
    const start = await snapshot(lookout, address, servers);
    log(`steady window of ${WINDOW_MS / 1000} s, with ${PROBES_PER_ROUND} probe alerts every ${INTERVAL}`);
    probes.start(INTERVAL_MS);
    await delay(WINDOW_MS - PROBE_SETTLE_MS);
    probes.stop();
    await delay(PROBE_SETTLE_MS);
    const end = await snapshot(lookout, address, servers);
    // The last probes' messages, after the window so that their wait is not counted as steady load.
    await delay(PROBE_GROUP_WAIT_MS + SAMPLE_MS);
    sampling = false;
    await sampler;
    if (lookout.exited) throw lookout.failure('lookout alert-rules exited during the run');
    if (readFailures > 0) log(`${readFailures} readings of the evaluators failed`);
    const build = [...start.prometheus.evaluating.keys()].find((k) => k.startsWith('prometheus_build_info{'));
    const accepted = robotServer.accepted(robots.probe);
    const timings = probes.timings(accepted);
    return {
      rules,
      series: ServiceFleet.seriesCount,
      start,
      end,
      lookoutPeakRssMiB: lookout.peakRssMiB(),
      evaluations: {
        lookout: evaluations.lookout.within(start.atMs, end.atMs),
        prometheus: evaluations.prometheus.within(start.atMs, end.atMs),
      },
      probes: {
        sent: probes.sent,
        timings,
        unsent: probes.unsent(accepted),
        afterEvaluationMs: timings
          .map(
            (t) => t.acceptedAtMs - evaluations.lookout.endedAfter(t.team, t.firedAtMs) - PROBE_GROUP_WAIT_MS,
          )
          .filter(Number.isFinite),
      },
      opsMessages: {
        accepted: robotServer.accepted(robots.ops).length,
        rejected: robotServer.rejected(robots.ops).length,
      },
      version: /[{,]version="([^"]+)"/.exec(build ?? '')?.[1] ?? 'unknown',
    };
  } finally {
    sampling = false;
    probes.stop();
    await lookout.stop();
    fleet.stop();
    await Promise.all([...Object.values(servers).map((s) => s.close()), exporter.close()]);
  }
}

/** A second try when the port picked was taken meanwhile (the machine is shared). */
async function startPrometheusRetried(options: PrometheusOptions): Promise<HttpServer> {
  try {
    return await startPrometheus(options);
  } catch (err) {
    if (!String(err).includes('address already in use')) throw err;
    log('the port picked for a Prometheus was taken meanwhile; trying another');
    return startPrometheus(options);
  }
}

interface AlertsAnswer {
  data: { alerts: Parameters<ProbeSchedule['record']>[0] };
}

export async function alertRulesBenchmark(): Promise<BenchmarkSection> {
  const work = await mkdtemp(join(tmpdir(), 'lookout-bench-alert-rules-'));
  const robots = await startRobotServer();
  try {
    const run = await measure(work, robots);
    return {
      title: ALERT_RULES_TITLE,
      machine: [`Prometheus ${run.version} (three instances on loopback)`],
      body: report(run),
    };
  } finally {
    await robots.close();
    await rm(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------

function report(run: Run): string {
  const seconds = (run.end.atMs - run.start.atMs) / 1000;
  const delta = (pick: (s: Snapshot) => number) => pick(run.end) - pick(run.start);
  const cores = (pick: (s: Snapshot) => number) => delta(pick) / seconds;
  const promCores = (role: PrometheusRole) =>
    cores((s) => sumOf(s.prometheus[role], 'process_cpu_seconds_total'));
  const lookoutCores = cores((s) => s.lookoutCpuS);
  const idle = promCores('idle');
  const evaluating = promCores('evaluating');
  const queried = promCores('queried');
  const rulesCost = evaluating - idle;
  const queryCost = queried - idle;
  const queries = delta((s) =>
    sumOf(s.prometheus.queried, 'prometheus_http_requests_total', 'handler="/api/v1/query"'),
  );
  const missed = (side: Side) => (s: Snapshot) =>
    sumOf(
      side === 'lookout' ? s.lookout : s.prometheus.evaluating,
      `${GROUP_METRIC_PREFIX[side]}_iterations_missed_total`,
    );
  const failures = {
    lookout: delta((s) => sumOf(s.lookout, 'lookout_alert_rules_rule_evaluation_failures_total')),
    prometheus: delta((s) => sumOf(s.prometheus.evaluating, 'prometheus_rule_evaluation_failures_total')),
  };
  const alerts = (s: Snapshot, state: string) =>
    sumOf(s.lookout, 'lookout_alert_rules_alerts', `alertstate="${state}"`);
  const ms = (values: number[], p: number) => percentile(values, p) * 1000;
  const groupRow = (label: string, seconds: number[]) =>
    latencyRow(
      label,
      seconds.map((v) => v * 1000),
    );
  const sendMs = run.probes.timings.map((t) => t.ms);
  const sendP50 = percentile(sendMs, 50);
  const sendP99 = percentile(sendMs, 99);
  const lookoutP99 = ms(run.evaluations.lookout, 99);
  const prometheusP99 = ms(run.evaluations.prometheus, 99);
  const verdict = [
    `Lookout used ${lookoutCores.toFixed(3)} of a core evaluating ${run.rules.rules.toLocaleString('en-US')} rules every ${INTERVAL}`,
    lookoutCores < TARGET_CORES ? `(target < ${TARGET_CORES} met);` : `(target < ${TARGET_CORES}, not met);`,
    `the Prometheus it queried used ${queryCost.toFixed(3)} of a core more than one that only scrapes, so the rules cost ${(lookoutCores + queryCost).toFixed(3)} of a core done this way,`,
    `against ${rulesCost.toFixed(3)} of a core for Prometheus evaluating them itself (${(lookoutCores / rulesCost).toFixed(1)}× for Lookout alone, ${((lookoutCores + queryCost) / rulesCost).toFixed(1)}× with the queries).`,
    `p99 group evaluation: Lookout ${lookoutP99.toFixed(0)} ms, Prometheus ${prometheusP99.toFixed(0)} ms (${(lookoutP99 / prometheusP99).toFixed(1)}×).`,
    `From the evaluation that fired a probe alert to the robot accepting its message: p50 ${wholeMs(sendP50)} ms, p99 ${wholeMs(sendP99)} ms over ${sendMs.length} alerts with group_wait ${PROBE_GROUP_WAIT}, so ${wholeMs(sendP99 - PROBE_GROUP_WAIT_MS)} ms beyond group_wait at p99, of which the group's evaluation before the alert was handed on is part (from the end of that evaluation: p99 ${wholeMs(percentile(run.probes.afterEvaluationMs, 99))} ms beyond group_wait)`,
    sendP99 < TARGET_SEND_P99_MS
      ? `(target p99 < 1 s + group_wait met).`
      : `(target p99 < 1 s + group_wait, not met).`,
  ].join(' ');
  return [
    `Load: ${run.rules.rules.toLocaleString('en-US')} alerting rules in ${run.rules.groups} groups (${RULE_FILES} files), evaluated every ${INTERVAL}; an exporter of the benchmark's own serves ${run.series} series of 20 services (requests by code, request durations, queue depths, memory, CPU, up), scraped every ${INTERVAL}. Each group is one team's 20 rules about one service (5xx ratios over 1m and 5m, 503 and 4xx ratios, mean latency, traffic and traffic drop, queues, memory and its prediction, CPU, down and absent, a fleet-wide sum, a probe), with \`for\` from 0 to 10m, labels, and annotations using \`$labels\`, \`humanizePercentage\`, \`humanizeDuration\`, \`humanize1024\` and \`printf\`; five teams watch each service with thresholds of their own, and five services misbehave, so ${alerts(run.end, 'firing')} alerts were firing and ${alerts(run.end, 'pending')} pending at the end.`,
    '',
    `Method: three Prometheus servers scrape the exporter: one evaluates the rule files itself, one answers the queries of \`lookout alert-rules\` (the same files, evaluationInterval ${INTERVAL}, default settings) and evaluates nothing, one only scrapes. After ${WARMUP_MS / 1000} s of warm-up, a steady window of ${seconds.toFixed(0)} s (${(seconds / (INTERVAL_MS / 1000)).toFixed(0)} evaluations of every group): Lookout's CPU (utime + stime) is read from /proc, each Prometheus's from its own \`process_cpu_seconds_total\` (which reads /proc too); what a Prometheus used above the one that only scrapes is what the rules cost it. Group evaluation times are each evaluator's own gauge of the last evaluation (\`lookout_alert_rules_group_last_duration_seconds\`, \`prometheus_rule_group_last_duration_seconds\`), read every ${SAMPLE_MS / 1000} s and counted once per evaluation started in the window.`,
    '',
    verdict,
    '',
    table(
      ['process', 'cores used', 'above scraping only'],
      [
        ['lookout alert-rules', lookoutCores, 'n/a'],
        ['Prometheus answering Lookout', queried, queryCost],
        ['Prometheus evaluating the rules', evaluating, rulesCost],
        ['Prometheus only scraping', idle, 0],
      ].map(([label, ...values]) => [label!, ...values.map(coreShare)]),
    ),
    '',
    table(
      ['group evaluations', 'count', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
      [
        groupRow('Lookout (HTTP queries)', run.evaluations.lookout),
        groupRow('Prometheus (in process)', run.evaluations.prometheus),
      ],
    ),
    '',
    `Lookout made ${queries.toLocaleString('en-US')} queries in the window (${(queries / seconds).toFixed(0)} a second), missed ${delta(missed('lookout'))} group evaluations and had ${failures.lookout} rule evaluation failures; Prometheus missed ${delta(missed('prometheus'))} and had ${failures.prometheus} failures. Lookout's peak RSS was ${run.lookoutPeakRssMiB.toFixed(0)} MiB. The machine's load average (1 min) was ${run.start.load.toFixed(1)} at the start of the window and ${run.end.load.toFixed(1)} at its end.`,
    '',
    `Sending: every ${INTERVAL} of the window but its last ${PROBE_SETTLE_MS / 1000} s, ${PROBES_PER_ROUND} new \`bench_probe\` series, each of another team, make that team's BenchProbe rule (\`for: 0\`) fire at its group's next evaluation after the next scrape, and go again ${PROBE_LIFETIME_MS / 1000} s later (the alert resolves). Lookout's routing (an Alertmanager route file: team alerts grouped by alertname and service with Alertmanager's defaults to a WeCom robot at 20 messages a minute, BenchProbe alerts each a group of their own with group_wait ${PROBE_GROUP_WAIT} to a DingTalk robot without limit) sends them to the robot double (test/robots/robot-server.ts). The time runs from the alert's \`activeAt\` in Lookout's \`/api/alerts\` (read every ${SAMPLE_MS / 1000} s; with \`for: 0\` it is the timestamp of the evaluation that fired it) to the double accepting the first message that names the probe: it includes the wait for the rule's turn in its group's evaluation. ${run.probes.sent} probes were set, ${run.probes.timings.length + run.probes.unsent} seen firing, and the robot accepted a message for ${run.probes.timings.length} of those; the team alerts made ${run.opsMessages.accepted} messages, and the robot refused ${run.opsMessages.rejected}.`,
    '',
    table(
      ['probe alerts', 'count', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
      [
        latencyRow('evaluation timestamp (activeAt) → robot accepted', sendMs),
        latencyRow(
          'the same, less group_wait',
          sendMs.map((v) => v - PROBE_GROUP_WAIT_MS),
        ),
        latencyRow(
          "end of the group's evaluation → robot accepted, less group_wait",
          run.probes.afterEvaluationMs,
        ),
      ],
    ),
  ].join('\n');
}

/** Count, p50, p90, p99 and max of milliseconds. */
export function latencyRow(label: string, values: number[]): (string | number)[] {
  return [
    label,
    values.length.toLocaleString('en-US'),
    median(values),
    percentile(values, 90),
    percentile(values, 99),
    Math.max(...values),
  ];
}

const wholeMs = (v: number) => Math.round(v).toLocaleString('en-US');

/** Shares of a core are small: three decimals tell the sides apart. */
const coreShare = (v: string | number) => (typeof v === 'number' ? v.toFixed(3) : v);

function log(message: string): void {
  console.log(`[bench alert-rules] ${message}`);
}
