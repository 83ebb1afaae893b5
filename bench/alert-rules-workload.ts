import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ScriptedExporter } from '../test/support/scripted-exporter.ts';

// What the rules watch: the series of 20 services as a typical HTTP service exposes them, driven by
// the benchmark so that a few services misbehave in ways some rules catch and most do not.

export const SERVICES = 20;
const CODES = ['200', '404', '500', '503'] as const;
const QUEUES = ['ingest', 'delivery'] as const;

interface ServiceProfile {
  requestsPerSecond: number;
  /** Shares of the requests answered with each code other than 200. */
  share: Record<Exclude<(typeof CODES)[number], '200'>, number>;
  latencySeconds: number;
  queueDepth: Record<(typeof QUEUES)[number], number>;
  memoryBytes: number;
  cpuCores: number;
}

export const serviceName = (i: number) => `svc-${String(i).padStart(2, '0')}`;

/** Healthy but for five services, each with its own trouble. */
function profile(i: number): ServiceProfile {
  const healthy: ServiceProfile = {
    requestsPerSecond: 50 + i * 10,
    share: { '404': 0.05, '500': 0.003, '503': 0.001 },
    latencySeconds: 0.08 + i * 0.005,
    queueDepth: { ingest: 100 + i * 5, delivery: 20 + i },
    memoryBytes: 1e9 + i * 5e7,
    cpuCores: 0.3 + i * 0.01,
  };
  const trouble: Record<number, Partial<ServiceProfile>> = {
    3: { share: { '404': 0.05, '500': 0.055, '503': 0.025 } },
    5: { latencySeconds: 0.8 },
    9: { queueDepth: { ingest: 1500, delivery: 40 } },
    11: { memoryBytes: 3.5e9 },
    12: { share: { '404': 0.35, '500': 0.005, '503': 0.001 } },
  };
  return { ...healthy, ...trouble[i] };
}

/** Serves the services' series through the exporter and advances their counters every second. */
export class ServiceFleet {
  private readonly exporter: ScriptedExporter;
  private readonly started = Date.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(exporter: ScriptedExporter) {
    this.exporter = exporter;
  }

  start(): void {
    this.update();
    this.timer = setInterval(() => this.update(), 1000);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** How many series the exporter serves for the fleet. */
  static get seriesCount(): number {
    return SERVICES * (CODES.length + 2 + QUEUES.length + 3);
  }

  private update(): void {
    const seconds = (Date.now() - this.started) / 1000;
    for (let i = 0; i < SERVICES; i++) {
      const service = serviceName(i);
      const p = profile(i);
      const requests = p.requestsPerSecond * seconds;
      const errorShare = p.share['404'] + p.share['500'] + p.share['503'];
      for (const code of CODES) {
        const share = code === '200' ? 1 - errorShare : p.share[code];
        this.exporter.set('bench_requests_total', { service, code }, Math.floor(requests * share));
      }
      this.exporter.set('bench_request_duration_seconds_sum', { service }, requests * p.latencySeconds);
      this.exporter.set('bench_request_duration_seconds_count', { service }, Math.floor(requests));
      for (const queue of QUEUES)
        this.exporter.set('bench_queue_depth', { service, queue }, p.queueDepth[queue]);
      this.exporter.set('bench_memory_bytes', { service }, p.memoryBytes);
      this.exporter.set('bench_cpu_seconds_total', { service }, p.cpuCores * seconds);
      this.exporter.set('bench_up', { service }, 1);
    }
  }
}

interface RuleYaml {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

const RULES_PER_GROUP = 20;

/**
 * The 20 rules of one team's group about one service. Five teams watch each service with thresholds of
 * their own (tier 0 strictest), so no two rules are the same query and a few of them fire.
 */
function groupRules(service: string, team: string, tier: number): RuleYaml[] {
  const t = (base: number, step: number) => Number((base * (1 + tier * step)).toPrecision(4));
  const sel = `service="${service}"`;
  const ratio = (codes: string, window: string) =>
    `sum by (service) (rate(bench_requests_total{${sel},code=~"${codes}"}[${window}])) / sum by (service) (rate(bench_requests_total{${sel}}[${window}]))`;
  const latency = `sum by (service) (rate(bench_request_duration_seconds_sum{${sel}}[1m])) / sum by (service) (rate(bench_request_duration_seconds_count{${sel}}[1m]))`;
  const rule = (
    alert: string,
    expr: string,
    forDuration: string | undefined,
    severity: string,
    summary: string,
  ): RuleYaml => ({
    alert,
    expr,
    ...(forDuration && { for: forDuration }),
    labels: { severity, team, tier: String(tier) },
    annotations: {
      summary,
      description: `{{ $labels.service }} of ${team}: {{ printf "%.3g" $value }} (rule ${alert}, tier ${tier}).`,
      runbook_url: `https://runbooks.example/${team}/${alert}?service={{ $labels.service }}`,
    },
  });
  return [
    rule(
      'HighErrorRate',
      `${ratio('5..', '1m')} > ${t(0.05, 0.25)}`,
      '1m',
      'warning',
      '{{ $labels.service }} answers {{ humanizePercentage $value }} of requests with 5xx',
    ),
    rule(
      'VeryHighErrorRate',
      `${ratio('5..', '1m')} > ${t(0.2, 0.25)}`,
      '30s',
      'critical',
      '{{ $labels.service }} answers {{ humanizePercentage $value }} of requests with 5xx',
    ),
    rule(
      'ErrorBudgetBurnFast',
      `${ratio('5..', '5m')} > ${t(14.4 * 0.001, 0.5)}`,
      '2m',
      'critical',
      '{{ $labels.service }} burns its error budget {{ humanize $value }} times too fast',
    ),
    rule(
      'ErrorBudgetBurnSlow',
      `${ratio('5..', '5m')} > ${t(6 * 0.001, 0.5)}`,
      '5m',
      'warning',
      '{{ $labels.service }} burns its error budget',
    ),
    rule(
      'ServiceUnavailable',
      `${ratio('503', '1m')} > ${t(0.02, 0.5)}`,
      '1m',
      'warning',
      '{{ $labels.service }} answers {{ humanizePercentage $value }} of requests with 503',
    ),
    rule(
      'HighClientErrorRate',
      `${ratio('4..', '1m')} > ${t(0.3, 0.1)}`,
      '2m',
      'info',
      '{{ $labels.service }} refuses {{ humanizePercentage $value }} of requests with 4xx',
    ),
    rule(
      'HighLatency',
      `${latency} > ${t(0.5, 0.2)}`,
      '1m',
      'warning',
      '{{ $labels.service }} takes {{ humanizeDuration $value }} a request on average',
    ),
    rule(
      'VeryHighLatency',
      `${latency} > ${t(2, 0.2)}`,
      '30s',
      'critical',
      '{{ $labels.service }} takes {{ humanizeDuration $value }} a request on average',
    ),
    rule(
      'LowTraffic',
      `sum by (service) (rate(bench_requests_total{${sel}}[5m])) < ${t(1, 1)}`,
      '5m',
      'warning',
      '{{ $labels.service }} gets {{ humanize $value }} requests a second',
    ),
    rule(
      'TrafficDrop',
      `sum by (service) (rate(bench_requests_total{${sel}}[1m])) < ${t(0.5, 0.1)} * sum by (service) (rate(bench_requests_total{${sel}}[5m] offset 1h))`,
      '10m',
      'warning',
      '{{ $labels.service }} traffic fell to {{ humanize $value }} requests a second',
    ),
    rule(
      'IngestBacklog',
      `bench_queue_depth{${sel},queue="ingest"} > ${t(1000, 0.1)}`,
      '1m',
      'warning',
      '{{ $labels.service }} has {{ $value }} items waiting in {{ $labels.queue }}',
    ),
    rule(
      'DeliveryBacklog',
      `bench_queue_depth{${sel},queue="delivery"} > ${t(500, 0.1)}`,
      '1m',
      'warning',
      '{{ $labels.service }} has {{ $value }} items waiting in {{ $labels.queue }}',
    ),
    rule(
      'QueueGrowing',
      `deriv(bench_queue_depth{${sel}}[5m]) > ${t(10, 0.5)}`,
      '5m',
      'info',
      '{{ $labels.queue }} of {{ $labels.service }} grows by {{ humanize $value }} a second',
    ),
    rule(
      'HighMemory',
      `bench_memory_bytes{${sel}} > ${t(3e9, 0.1)}`,
      '1m',
      'warning',
      '{{ $labels.service }} uses {{ humanize1024 $value }}B of memory',
    ),
    rule(
      'MemoryExhaustionSoon',
      `predict_linear(bench_memory_bytes{${sel}}[5m], 3600) > ${t(8e9, 0.1)}`,
      '10m',
      'warning',
      '{{ $labels.service }} will use {{ humanize1024 $value }}B within the hour',
    ),
    rule(
      'HighCPU',
      `rate(bench_cpu_seconds_total{${sel}}[1m]) > ${t(0.9, 0.05)}`,
      '2m',
      'warning',
      '{{ $labels.service }} uses {{ humanizePercentage $value }} of a core',
    ),
    rule('ServiceDown', `bench_up{${sel}} == 0`, '1m', 'critical', '{{ $labels.service }} is down'),
    rule('ServiceAbsent', `absent(bench_up{${sel}})`, '5m', 'critical', `${service} is not scraped`),
    rule(
      'FleetErrors',
      `sum(rate(bench_requests_total{code=~"5.."}[1m])) > ${t(200, 0.5)}`,
      '5m',
      'warning',
      'the fleet answers {{ humanize $value }} 5xx a second',
    ),
    rule(
      'BenchProbe',
      `bench_probe{team="${team}"} > 0`,
      undefined,
      'page',
      'probe {{ $labels.probe }} of {{ $labels.team }} fired at {{ $value }}',
    ),
  ];
}

export interface RuleFiles {
  paths: string[];
  /** The team label of each group's rules, which the BenchProbe rule selects on. */
  teams: string[];
  groups: number;
  rules: number;
}

/** 100 groups of 20 rules in 10 files; group g belongs to team g and watches service g mod 20. */
export async function writeRuleFiles(dir: string, groups: number, files: number): Promise<RuleFiles> {
  const perFile = Math.ceil(groups / files);
  const paths: string[] = [];
  const teams: string[] = [];
  for (let f = 0; f * perFile < groups; f++) {
    const fileGroups = [];
    for (let g = f * perFile; g < Math.min(groups, (f + 1) * perFile); g++) {
      const team = `team-${String(g).padStart(3, '0')}`;
      teams.push(team);
      fileGroups.push({
        name: `${team}-${serviceName(g % SERVICES)}`,
        rules: groupRules(serviceName(g % SERVICES), team, Math.floor(g / SERVICES) % 5),
      });
    }
    const path = join(dir, `rules-${String(f).padStart(2, '0')}.yaml`);
    await writeFile(path, stringify({ groups: fileGroups }, { lineWidth: 0 }));
    paths.push(path);
  }
  return { paths, teams, groups, rules: groups * RULES_PER_GROUP };
}
