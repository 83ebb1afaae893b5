import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type HttpServer, startPrometheus } from './infra/prometheus.ts';
import { type RobotServer, startRobotServer } from './robots/robot-server.ts';
import { eventually, LookoutProcess } from './support/lookout-process.ts';

/**
 * `lookout alert-rules` as a hostile or unlucky user meets it: queries that
 * fail, a Prometheus that hangs or is gone, templates that fail or explode,
 * huge and broken rule files, bad silences and webhook payloads, a dead
 * remote-write receiver. Each answer is a clear error or a counted drop, and
 * the rest keeps working.
 */

const SHARED_PROMETHEUS = process.env.LOOKOUT_TEST_PROMETHEUS_URL!;

let dir: string;
let robots: RobotServer;
const processes: LookoutProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lookout-alert-rules-faults-'));
  robots = await startRobotServer();
});
afterEach(async () => {
  for (const p of processes.splice(0)) await p.kill();
});
afterAll(async () => {
  await robots?.close();
  await rm(dir, { recursive: true, force: true });
});

interface RulesOptions {
  name: string;
  /** Rule files by name, written beside the configuration. */
  files: Record<string, string>;
  prometheusUrl?: string;
  /** Lines added under `alertRules:` (two spaces indented). */
  extra?: string;
  /** With routing to one DingTalk robot, whose name is returned. */
  routing?: boolean;
}

interface Started {
  process: LookoutProcess;
  api: string;
  robot: string;
  configFile: string;
  runDir: string;
}

async function writeRulesSetup(options: RulesOptions): Promise<Omit<Started, 'api'>> {
  const runDir = join(dir, options.name);
  await rm(runDir, { recursive: true, force: true });
  const { mkdir } = await import('node:fs/promises');
  await mkdir(runDir, { recursive: true });
  for (const [file, text] of Object.entries(options.files)) await writeFile(join(runDir, file), text);
  const robot = `ops-${options.name}`;
  const ding = robots.dingtalk({ name: robot });
  let routing = '';
  if (options.routing) {
    const amFile = join(runDir, 'alertmanager.yml');
    await writeFile(
      amFile,
      `route: { receiver: ${robot}, group_by: ['...'], group_wait: 0s, group_interval: 1s, repeat_interval: 1h }
receivers: [{ name: ${robot} }]
`,
    );
    routing = `  routing: { alertmanagerConfigFile: "${amFile}" }`;
  }
  const configFile = join(runDir, 'lookout.yaml');
  await writeFile(
    configFile,
    `http: { listen: "127.0.0.1:0", auth: { enabled: false } }
dataDir: ${join(runDir, 'data')}
robots:
  ${robot}: { type: dingtalk, baseUrl: "${ding.baseUrl}", accessToken: "${ding.accessToken}", retry: { minDelay: 200ms, maxDelay: 1s, pause: 1s, maxPause: 2s } }
alertRules:
  ruleFiles: [${Object.keys(options.files)
    .filter((f) => f.endsWith('.rules.yaml'))
    .map((f) => `"${f}"`)
    .join(', ')}]
  ruleFilesDir: "${runDir}"
  evaluationInterval: 1s
  resendDelay: 1s
  prometheus: { url: "${options.prometheusUrl ?? SHARED_PROMETHEUS}", queryTimeout: 1s }
${routing}
${options.extra ?? ''}
`,
  );
  return { process: new LookoutProcess('alert-rules', configFile), robot, configFile, runDir };
}

async function startRules(options: RulesOptions): Promise<Started> {
  const setup = await writeRulesSetup(options);
  processes.push(setup.process);
  const api = await setup.process.start();
  return { ...setup, api };
}

interface ApiRule {
  name: string;
  type: string;
  health: string;
  lastError?: string;
  state?: string;
  alerts?: { state: string; labels: Record<string, string>; annotations: Record<string, string> }[];
}

async function rules(api: string): Promise<Map<string, ApiRule>> {
  const body = (await (await fetch(`${api}/api/rules`)).json()) as {
    data: { groups: { name: string; rules: ApiRule[] }[] };
  };
  return new Map(body.data.groups.flatMap((g) => g.rules.map((r) => [`${g.name}/${r.name}`, r] as const)));
}

async function ruleWhen(api: string, key: string, check: (rule: ApiRule) => boolean, what: string) {
  const all = await eventually(
    () => rules(api),
    (r) => r.get(key) !== undefined && check(r.get(key)!),
    what,
    20_000,
  );
  return all.get(key)!;
}

/** The sum of a metric's series whose labels contain `labelText` (all of them when omitted). */
async function metricSum(api: string, metric: string, labelText = ''): Promise<number> {
  const name = `lookout_${metric}`;
  const text = await (await fetch(`${api}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => (l.startsWith(`${name} `) || l.startsWith(`${name}{`)) && l.includes(labelText))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

const firing = (rule: ApiRule) => rule.alerts?.some((a) => a.state === 'firing') ?? false;

describe('rules whose evaluation fails', () => {
  it('shows the query error on the rule, counts it, and keeps the other rules and groups firing', async () => {
    const { api, process } = await startRules({
      name: 'queryerror',
      files: {
        'bad.rules.yaml': `groups:
  - name: mixed
    interval: 1s
    rules:
      - alert: ManyToMany
        expr: 'up + on() group_left() up'
      - alert: StillFine
        expr: vector(1)
  - name: other
    interval: 1s
    rules:
      - alert: OtherFine
        expr: vector(2) > 1
`,
      },
    });
    const broken = await ruleWhen(api, 'mixed/ManyToMany', (r) => r.health === 'err', 'the error');
    expect(broken.lastError).toMatch(/many-to-many matching not allowed|found duplicate series/);
    await ruleWhen(api, 'mixed/StillFine', firing, 'the next rule in the group to fire');
    await ruleWhen(api, 'other/OtherFine', firing, 'the other group to fire');
    expect(await metricSum(api, 'alert_rules_rule_evaluation_failures_total', 'mixed')).toBeGreaterThan(0);
    expect(await metricSum(api, 'alert_rules_rule_evaluation_failures_total', 'other')).toBe(0);
    expect(process.output.join('')).toMatch(/Evaluating rule failed.*ManyToMany|ManyToMany.*Evaluating rule failed/);
  }, 60_000);
});
