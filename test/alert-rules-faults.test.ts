import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  /** 1s unless given. */
  queryTimeout?: string;
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
  prometheus: { url: "${options.prometheusUrl ?? SHARED_PROMETHEUS}", queryTimeout: ${options.queryTimeout ?? '1s'} }
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
async function metricSum(api: string, name: string, labelText = ''): Promise<number> {
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
    expect(
      await metricSum(api, 'lookout_alert_rules_rule_evaluation_failures_total', 'mixed'),
    ).toBeGreaterThan(0);
    expect(await metricSum(api, 'lookout_alert_rules_rule_evaluation_failures_total', 'other')).toBe(0);
    expect(process.output.join('')).toMatch(
      /Evaluating rule failed.*ManyToMany|ManyToMany.*Evaluating rule failed/,
    );
  }, 60_000);
});

describe('templates that fail or explode', () => {
  it("renders the template's error in the annotation, fires and sends the alert, and bounds huge output", async () => {
    const { api, robot } = await startRules({
      name: 'templates',
      routing: true,
      extra: '  templates: { maxOutputBytes: 64KiB }',
      files: {
        'templates.rules.yaml': `groups:
  - name: templates
    interval: 1s
    rules:
      - alert: BadTemplates
        expr: vector(1)
        labels: { severity: critical }
        annotations:
          summary: 'index {{ index $labels 5 }}'
          description: 'undefined {{ template "nope" }}'
          query: '{{ range query "bad(" }}{{ . }}{{ end }}'
      - alert: HugeTemplate
        expr: vector(1)
        annotations:
          summary: '{{ printf "%10000000d" 1 }}'
          description: '{{ range $i, $x := query "up" }}{{ printf "%5000000s" "x" }}{{ end }}'
`,
      },
    });
    const bad = await ruleWhen(api, 'templates/BadTemplates', firing, 'the alert with bad templates to fire');
    const annotations = bad.alerts![0]!.annotations;
    expect(annotations.summary).toMatch(/^<error expanding template: .*index/);
    expect(annotations.description).toMatch(/^<error expanding template: .*template "nope" not defined/);
    expect(annotations.query).toMatch(/^<error expanding template: .*(parse|unexpected)/);
    const huge = await ruleWhen(
      api,
      'templates/HugeTemplate',
      firing,
      'the alert with a huge template to fire',
    );
    for (const text of Object.values(huge.alerts![0]!.annotations)) {
      expect(text.length).toBeLessThan(64 * 1024);
      expect(text).toMatch(/^<error expanding template: .*(bytes|output)/);
    }
    const messages = await eventually(
      async () => robots.accepted(robot),
      (accepted) =>
        accepted.some((m) => m.text.includes('HugeTemplate')) &&
        accepted.some((m) => m.text.includes('BadTemplates')),
      'both alerts told to the robot',
      20_000,
    );
    for (const message of messages)
      expect(Buffer.byteLength(JSON.stringify(message.body))).toBeLessThanOrEqual(20_000);
    expect(messages.find((m) => m.text.includes('BadTemplates'))!.text).toContain('error expanding template');
    const memory = await metricSum(api, 'process_resident_memory_bytes');
    expect(memory).toBeGreaterThan(0);
    expect(memory).toBeLessThan(500 * 1024 * 1024);
  }, 60_000);
});

/**
 * In front of the shared Prometheus (which is never stopped): answers as it
 * does, except that queries naming `lookout_hang` are accepted and never
 * answered; it can also hang every query, or be down (connection refused).
 */
class FaultyPrometheus {
  mode: 'pass' | 'hang' = 'pass';
  hanging = 0;
  maxHanging = 0;
  private server: Server;
  private port = 0;

  constructor() {
    this.server = this.newServer();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    this.server = this.newServer();
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Refuses connections until up() again, on the same port. */
  async down(): Promise<void> {
    const closed = new Promise((resolve) => this.server.close(resolve));
    this.server.closeAllConnections();
    await closed;
  }

  private newServer(): Server {
    return createServer((request, response) => void this.answer(request, response));
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (this.mode === 'hang' || body.toString().includes('lookout_hang')) {
      this.hanging++;
      this.maxHanging = Math.max(this.maxHanging, this.hanging);
      response.on('close', () => this.hanging--);
      return;
    }
    const upstream = await fetch(`${SHARED_PROMETHEUS}${request.url}`, {
      method: request.method,
      headers: { 'content-type': String(request.headers['content-type'] ?? '') },
      body: request.method === 'POST' ? body : undefined,
    });
    response.writeHead(upstream.status, { 'content-type': 'application/json' });
    response.end(Buffer.from(await upstream.arrayBuffer()));
  }
}

describe('a Prometheus that hangs or is down', () => {
  let prometheus: FaultyPrometheus;
  beforeAll(async () => {
    prometheus = new FaultyPrometheus();
    await prometheus.up();
  });
  afterAll(async () => {
    await prometheus?.down();
  });

  it('times queries out, skips slots without piling up, keeps firing alerts, and recovers without a restart', async () => {
    const { api, process } = await startRules({
      name: 'outage',
      prometheusUrl: prometheus.url,
      queryTimeout: '500ms',
      files: {
        'outage.rules.yaml': `groups:
  - name: steady
    interval: 1s
    rules:
      - alert: Steady
        expr: vector(1)
  - name: stuck
    interval: 1s
    rules:
      - alert: Stuck1
        expr: absent(lookout_hang_1)
      - alert: Stuck2
        expr: absent(lookout_hang_2)
      - alert: Stuck3
        expr: absent(lookout_hang_3)
`,
      },
    });
    // One group's queries hang: they time out, the group skips slots, the other group is not held up.
    const stuck = await ruleWhen(
      api,
      'stuck/Stuck3',
      (r) => r.health === 'err',
      'the hanging query to time out',
    );
    expect(stuck.lastError).toMatch(/timed out after 500 ms|took longer than 500 ms/);
    await ruleWhen(api, 'steady/Steady', firing, 'the other group to fire');
    await eventually(
      () => metricSum(api, 'lookout_alert_rules_group_iterations_missed_total', 'stuck'),
      (missed) => missed >= 2,
      'skipped slots of the stuck group',
      20_000,
    );
    expect(await metricSum(api, 'lookout_alert_rules_group_iterations_missed_total', 'steady')).toBe(0);
    expect(await metricSum(api, 'lookout_alert_rules_rule_evaluation_failures_total', 'steady')).toBe(0);
    expect(
      await metricSum(api, 'lookout_alert_rules_rule_evaluation_failures_total', 'stuck'),
    ).toBeGreaterThanOrEqual(3);
    // Evaluations of a group never overlap: one query waits at a time (two while an abandoned one's close is on its way).
    expect(prometheus.maxHanging).toBeLessThanOrEqual(2);
    expect(process.output.join('')).toContain('slots skipped');

    for (const outage of ['hang', 'down'] as const) {
      const failuresBefore = await metricSum(
        api,
        'lookout_alert_rules_rule_evaluation_failures_total',
        'steady',
      );
      if (outage === 'hang') prometheus.mode = 'hang';
      else await prometheus.down();
      const during = await ruleWhen(
        api,
        'steady/Steady',
        (r) => r.health === 'err',
        `the ${outage} outage seen`,
      );
      expect(during.lastError).toMatch(outage === 'hang' ? /500 ms/ : /ECONNREFUSED|connect/);
      await new Promise((r) => setTimeout(r, 2_500));
      // The outage resolves nothing: the alert is still firing, in the rules and in the alerts API.
      const kept = (await rules(api)).get('steady/Steady')!;
      expect(kept.health).toBe('err');
      expect(firing(kept)).toBe(true);
      const alerts = (await (await fetch(`${api}/api/alerts`)).json()) as {
        data: { alerts: { labels: Record<string, string>; state: string }[] };
      };
      expect(alerts.data.alerts).toContainEqual(
        expect.objectContaining({ labels: { alertname: 'Steady' }, state: 'firing' }),
      );
      expect(
        await metricSum(api, 'lookout_alert_rules_rule_evaluation_failures_total', 'steady'),
      ).toBeGreaterThan(failuresBefore + 1);
      if (outage === 'hang') prometheus.mode = 'pass';
      else await prometheus.up();
      const back = await ruleWhen(
        api,
        'steady/Steady',
        (r) => r.health === 'ok',
        `recovery after the ${outage} outage`,
      );
      expect(firing(back)).toBe(true);
    }
    expect(prometheus.maxHanging).toBeLessThanOrEqual(2);
  }, 90_000);
});
