import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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
  /** More settings of `prometheus:`, in YAML flow style. */
  prometheusExtra?: string;
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
  prometheus: { url: "${options.prometheusUrl ?? SHARED_PROMETHEUS}", queryTimeout: ${options.queryTimeout ?? '1s'}${options.prometheusExtra ? `, ${options.prometheusExtra}` : ''} }
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
  lastEvaluation?: string;
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
    const { api, robot, process } = await startRules({
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
          recursion: '{{ define "loop" }}{{ template "loop" }}{{ end }}{{ template "loop" }}'
          endless: '{{ $all := query "prometheus_http_request_duration_seconds_bucket" }}{{ range $all }}{{ range $all }}{{ range $all }}{{ range $all }}x{{ end }}{{ end }}{{ end }}{{ end }}'
      - alert: Backtracking
        expr: vector(1)
        annotations:
          backtracking: '{{ reReplaceAll "(a+)+$" "" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!" }}'
      - alert: SlowTemplate
        expr: vector(1)
        annotations:
          slow: '{{ range query "up" }}{{ range query "up" }}{{ range query "up" }}{{ range query "up" }}{{ range query "up" }}{{ range query "up" }}{{ range query "up" }}{{ range query "up" }}x{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}'
      - alert: HugeTemplate
        expr: vector(1)
        annotations:
          summary: '{{ printf "%10000000d" 1 }}'
          description: '{{ range $i, $x := query "up" }}{{ printf "%5000000s" "x" }}{{ end }}'
`,
      },
    });
    const output = () => process.output.join('');
    const bad = await ruleWhen(api, 'templates/BadTemplates', firing, 'the alert with bad templates to fire');
    const annotations = bad.alerts![0]!.annotations;
    expect(annotations.summary).toMatch(/^<error expanding template: .*index/);
    expect(annotations.description).toMatch(/^<error expanding template: .*template "nope" not defined/);
    expect(annotations.query).toMatch(/^<error expanding template: .*(parse|unexpected)/);
    expect(annotations.recursion).toMatch(/^<error expanding template: .*(depth|nested|recursion)/i);
    // Go's RE2 answers at once; JavaScript's engine backtracks, and is stopped at templates.regexpTimeoutMs.
    const backtracking = await ruleWhen(
      api,
      'templates/Backtracking',
      firing,
      'the backtracking alert to fire',
    );
    expect(backtracking.alerts![0]!.annotations.backtracking).toMatch(
      /^<error expanding template: .*ran longer than 1000 ms>$/,
    );
    expect(annotations.endless).toMatch(/^<error expanding template: .*exceeds 100000 steps>$/);
    // Queries from a template share the rule's deadline, and the error says so.
    const slow = await ruleWhen(
      api,
      'templates/SlowTemplate',
      firing,
      'the alert with a slow template to fire',
    );
    expect(slow.alerts![0]!.annotations.slow).toMatch(
      /^<error expanding template: .*query timed out after 1000 ms>$/,
    );
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
    expect(await metricSum(api, 'lookout_alert_rules_template_errors_total')).toBeGreaterThanOrEqual(5);
    expect(output()).toMatch(/"template":"__alert_BadTemplates".*"msg":"Expanding alert template failed"/);
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
    if (body.toString().includes('lookout_garbage')) {
      response.writeHead(502, { 'content-type': 'text/html' });
      response.end('<html><body>Bad Gateway</body></html>');
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

  it('times queries out, skips slots without piling up, keeps firing alerts (through a restart too), recovers, and stops at once', async () => {
    const { api, process } = await startRules({
      name: 'outage',
      prometheusUrl: prometheus.url,
      queryTimeout: '500ms',
      prometheusExtra: 'maxResponseBytes: 2KiB',
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
  - name: odd
    interval: 1s
    rules:
      - alert: Garbage
        expr: absent(lookout_garbage)
      - alert: TooLarge
        expr: prometheus_http_request_duration_seconds_bucket > -1
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
    // Answers that are not Prometheus's, or too large, are errors that say so.
    const garbage = await ruleWhen(
      api,
      'odd/Garbage',
      (r) => r.health === 'err',
      'the proxy error page seen',
    );
    expect(garbage.lastError).toMatch(/Prometheus answered HTTP 502/);
    const tooLarge = await ruleWhen(
      api,
      'odd/TooLarge',
      (r) => r.health === 'err',
      'the oversized answer refused',
    );
    expect(tooLarge.lastError).toMatch(/2048/);
    expect(
      await metricSum(api, 'lookout_alert_rules_rule_evaluation_failures_total', 'odd'),
    ).toBeGreaterThanOrEqual(2);
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
    // Killed during an outage and started while it lasts: the firing alert comes back from the saved state.
    await process.kill();
    await prometheus.down();
    const restartedApi = await process.start();
    const restored = await ruleWhen(
      restartedApi,
      'steady/Steady',
      (r) => r.health === 'err',
      'the restarted rule to fail',
    );
    expect(firing(restored)).toBe(true);
    await prometheus.up();
    // Three groups: one waiting query each at most, and one abandoned whose close is on its way.
    expect(prometheus.maxHanging).toBeLessThanOrEqual(4);
    // A stop while queries hang abandons them: the process ends at once, cleanly.
    prometheus.mode = 'hang';
    await eventually(
      async () => prometheus.hanging,
      (n) => n > 0,
      'queries hanging',
      5_000,
      50,
    );
    const stopping = Date.now();
    expect(await process.stop()).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(3_000);
    prometheus.mode = 'pass';
  }, 90_000);
});

const aliasBomb = `a: &a ["x","x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]
groups: []
`;

const goodRules = `groups:
  - name: good
    interval: 1s
    rules:
      - alert: Good
        expr: vector(1)
`;

/** Breaks the rule file, sends SIGHUP, and checks that the rules in force go on being evaluated. */
async function expectReloadRefused(started: Started, failures: number): Promise<void> {
  const { api, process, runDir } = started;
  await ruleWhen(api, 'good/Good', firing, 'the rule to fire');
  await writeFile(
    join(runDir, 'good.rules.yaml'),
    `${goodRules}      - alert: Broken\n        expr: 'sum(('\n`,
  );
  process.hangup();
  await eventually(
    () => metricSum(api, 'lookout_alert_rules_reload_failures_total'),
    (n) => n === failures,
    'the reload refused and counted',
    10_000,
  );
  expect(process.output.join('')).toMatch(/good\.rules\.yaml.*Broken/);
  const before = (await rules(api)).get('good/Good')!;
  await new Promise((r) => setTimeout(r, 1_500));
  const listed = await rules(api);
  expect([...listed.keys()]).toEqual(['good/Good']);
  expect(listed.get('good/Good')!.lastEvaluation).not.toBe(before.lastEvaluation);
  expect(firing(listed.get('good/Good')!)).toBe(true);
  await writeFile(join(runDir, 'good.rules.yaml'), goodRules);
}

describe('rule files that are huge, oversized, hostile or broken', () => {
  it('loads and evaluates 10,000 rules', async () => {
    const many = Array.from(
      { length: 10_000 },
      (_, i) => `      - alert: Many${i}\n        expr: vector(${i}) > 9990\n`,
    );
    const started = Date.now();
    const { api, process } = await startRules({
      name: 'many',
      files: { 'many.rules.yaml': `groups:\n  - name: many\n    interval: 1s\n    rules:\n${many.join('')}` },
    });
    const loadMs = Date.now() - started;
    // The JSON log reaches stdout on its own schedule, possibly after the API's address is printed.
    await eventually(
      async () => process.output.join(''),
      (output) => /"rules":10000.*alert rules started/.test(output),
      'the log of 10,000 rules started',
      10_000,
    );
    expect(loadMs).toBeLessThan(15_000);
    const all = await ruleWhen(api, 'many/Many9999', firing, 'the last of 10,000 rules to fire');
    expect(all.health).toBe('ok');
    const listed = await rules(api);
    expect(listed.size).toBe(10_000);
    expect([...listed.values()].filter(firing).length).toBe(9);
    console.info(
      `10,000 rules: process up in ${loadMs} ms, all evaluated once in ${Date.now() - started - loadMs} ms`,
    );
  }, 60_000);

  it('refuses to start with every problem of every file listed', async () => {
    const { process } = await writeRulesSetup({
      name: 'broken',
      extra: '  maxRuleFileBytes: 2KiB',
      files: {
        'good.rules.yaml': goodRules,
        'large.rules.yaml': `${goodRules}${'#'.repeat(4096)}\n`,
        'bomb.rules.yaml': aliasBomb,
        'broken.rules.yaml': goodRules.replace('vector(1)', 'rate(up[5m]').replace('Good', 'Broken'),
      },
    });
    await expect(process.start()).rejects.toThrow(/exit 1/);
    const output = process.output.join('');
    expect(output).toMatch(/large\.rules\.yaml.*more than the limit of 2048/);
    expect(output).toMatch(/bomb\.rules\.yaml.*alias/i);
    expect(output).toMatch(/broken\.rules\.yaml.*(unclosed|parse|expected)/i);
    expect(output).not.toMatch(/good\.rules\.yaml/);
  }, 30_000);

  it('keeps the rules in force when a SIGHUP finds a broken file, with or without other changes', async () => {
    const started = await startRules({ name: 'reload', files: { 'good.rules.yaml': goodRules } });
    await expectReloadRefused(started, 1);
    expect(started.process.output.join('')).toContain('rule files or routing not reloaded');
    // A change beyond the rule files restarts the rules: a broken file must not stop the ones in force.
    const config = await readFile(started.configFile, 'utf8');
    await writeFile(started.configFile, config.replace('resendDelay: 1s', 'resendDelay: 2s'));
    await expectReloadRefused(started, 2);
  }, 30_000);
});

async function send(
  api: string,
  method: string,
  path: string,
  body?: string | Uint8Array,
  type = 'application/json',
) {
  const response = await fetch(`${api}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': type },
    body,
  });
  const raw = await response.text();
  // Errors come as {"error": "..."} (Lookout) or as a JSON string (Alertmanager's paths).
  let text = raw;
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (typeof parsed === 'string') text = parsed;
    else if (parsed && typeof parsed === 'object' && 'error' in parsed) text = String(parsed.error);
  } catch {}
  return { status: response.status, text, raw };
}

/**
 * Posts `bytes` of spaces, with or without a Content-Length, until the server
 * answers. Resolves to the status, or to "closed" when the server closed the
 * connection first: having answered 413 it stops reading, and the client's
 * next write may break before it reads the answer.
 */
function postHuge(url: string, bytes: number, announced: boolean): Promise<number | 'closed'> {
  return new Promise((resolve) => {
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    const req = httpRequest(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(announced && { 'content-length': bytes }) },
    });
    let answered = false;
    req.on('response', (response) => {
      answered = true;
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    req.on('error', () => {
      if (!answered) resolve('closed');
    });
    let sent = 0;
    const write = () => {
      while (!answered && sent < bytes) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}

describe('bad requests to the silences API and the webhook bridge', () => {
  let api: string;
  let robot: string;
  let shared: LookoutProcess;
  beforeAll(async () => {
    // One process for the tests of this block: not in `processes`, which each test's end kills.
    const started = await writeRulesSetup({
      name: 'requests',
      routing: true,
      files: { 'good.rules.yaml': goodRules },
      extra: '  silences: { maxSilences: 3, maxSilenceBytes: 4KiB }\n  webhookBridge: { maxBodyBytes: 1MiB }',
    });
    shared = started.process;
    robot = started.robot;
    api = await shared.start();
  });
  afterAll(async () => {
    await shared?.kill();
  });

  const silence = (fields: Record<string, unknown> = {}) =>
    JSON.stringify({
      matchers: [{ name: 'alertname', value: 'Good', isRegex: false, isEqual: true }],
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      createdBy: 'test',
      comment: 'maintenance',
      ...fields,
    });

  it('answers a clear 4xx to every broken silence, and keeps working', async () => {
    const post = (body: string, type?: string) => send(api, 'POST', '/api/v2/silences', body, type);
    const broken = await post(
      silence({ matchers: [{ name: 'job', value: '(unclosed', isRegex: true, isEqual: true }] }),
    );
    expect(broken.status).toBe(400);
    expect(broken.text).toMatch(/job.*\(unclosed|\(unclosed.*job/);
    const everything = await post(
      silence({ matchers: [{ name: 'job', value: '', isRegex: false, isEqual: true }] }),
    );
    expect(everything.status).toBe(400);
    expect(everything.text).toMatch(/match.*(every|all|empty)/i);
    const everythingRegex = await post(
      silence({ matchers: [{ name: 'job', value: '.*', isRegex: true, isEqual: true }] }),
    );
    expect(everythingRegex.status).toBe(400);
    const backwards = await post(
      silence({ endsAt: new Date(Date.now() - 60_000).toISOString(), startsAt: new Date().toISOString() }),
    );
    expect(backwards.status).toBe(400);
    expect(backwards.text).toMatch(/start time must be before end time/);
    const huge = await post(silence({ comment: 'x'.repeat(10_000) }));
    expect([400, 413]).toContain(huge.status);
    expect(huge.text).toMatch(/4096 bytes/);
    const notJson = await post('matchers=all', 'application/x-www-form-urlencoded');
    expect(notJson.status).toBeGreaterThanOrEqual(400);
    expect(notJson.status).toBeLessThan(500);
    const badJson = await post('{"matchers": [');
    expect(badJson.status).toBe(400);
    const badFilter = await send(
      api,
      'GET',
      `/api/v2/silences?filter=${encodeURIComponent('job=~"(unclosed"')}`,
    );
    expect(badFilter.status).toBe(400);
    expect(badFilter.text).toMatch(/\(unclosed/);
    const deep = await post(`{"matchers":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    expect(deep.status).toBe(400);
    const manyMatchers = Array.from({ length: 10_000 }, (_, i) => ({
      name: `l${i}`,
      value: 'v',
      isRegex: false,
      isEqual: true,
    }));
    const many = await post(silence({ matchers: manyMatchers }));
    expect(many.status).toBe(400);
    expect(many.text).toMatch(/more than the maximum of 4096 bytes/);
    const unknown = await send(api, 'DELETE', '/api/v2/silence/00000000-0000-0000-0000-000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.text).toMatch(/not found/);

    for (let i = 0; i < 3; i++) expect((await post(silence({ comment: `window ${i}` }))).status).toBe(200);
    const tooMany = await post(silence({ comment: 'one more' }));
    expect(tooMany.status).toBeGreaterThanOrEqual(400);
    expect(tooMany.status).toBeLessThan(500);
    expect(tooMany.text).toMatch(/maximum number of .*silences \(3\)/);
    const listed = JSON.parse((await send(api, 'GET', '/api/v2/silences')).raw) as unknown[];
    expect(listed).toHaveLength(3);
    await ruleWhen(api, 'good/Good', (r) => r.health === 'ok', 'the rules to go on');
  }, 30_000);

  it('answers a clear 4xx to every broken webhook payload, quickly, without crashing', async () => {
    const hook = (body: string | Uint8Array, target = robot) =>
      send(api, 'POST', `/api/alertmanager/webhook/${target}`, body);
    const payload = {
      version: '4',
      groupKey: '{}:{alertname="X"}',
      status: 'firing',
      receiver: 'x',
      groupLabels: {},
      commonLabels: {},
      commonAnnotations: {},
      externalURL: 'http://am',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'X' },
          annotations: {},
          startsAt: new Date().toISOString(),
          endsAt: '0001-01-01T00:00:00Z',
        },
      ],
    };
    expect((await hook('not json')).status).toBe(400);
    const wrongVersion = await hook(JSON.stringify({ ...payload, version: '3' }));
    expect(wrongVersion.status).toBe(400);
    expect(wrongVersion.text).toMatch(/version "4"/);
    const unknown = await hook(JSON.stringify(payload), 'nobody');
    expect(unknown.status).toBe(404);
    expect(unknown.text).toMatch(/no robot named "nobody"/);

    for (const announced of [true, false]) {
      const started = Date.now();
      const answer = await postHuge(`${api}/api/alertmanager/webhook/${robot}`, 100 * 1024 * 1024, announced);
      expect([413, 'closed']).toContain(answer);
      expect(Date.now() - started).toBeLessThan(5_000);
    }

    for (const deep of [
      `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
      `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`,
      `{"__proto__":{},"version":"4","commonLabels":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`,
    ]) {
      const answer = await hook(deep);
      expect(answer.status).toBe(400);
    }
    expect((await hook(JSON.stringify(payload))).status).toBe(200);
    await eventually(
      async () => robots.accepted(robot),
      (a) => a.some((m) => m.text.includes('X')),
      'the good payload told',
      10_000,
    );
    expect(await metricSum(api, 'lookout_alert_rules_webhook_notifications_total', robot)).toBe(1);
  }, 60_000);
});

/** A port nothing listens on: connections to it are refused. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('a remote-write receiver that is down', () => {
  it('counts the dropped samples, shows the error on the rule, and keeps evaluating and firing', async () => {
    const { api, process } = await startRules({
      name: 'remotewrite',
      extra: `  remoteWrite: { url: "http://127.0.0.1:${await deadPort()}", timeout: 500ms, retry: { maxAttempts: 2, initialBackoff: 100ms, maxBackoff: 200ms } }`,
      files: {
        'recording.rules.yaml': `groups:
  - name: recording
    interval: 1s
    rules:
      - record: lookout_faults:one
        expr: vector(1)
      - alert: AlsoWritten
        expr: vector(1)
  - name: plain
    interval: 1s
    rules:
      - alert: Plain
        expr: vector(1)
`,
      },
    });
    const recording = await ruleWhen(
      api,
      'recording/lookout_faults:one',
      (r) => r.health === 'err',
      'the write to fail',
    );
    expect(recording.lastError).toMatch(/remote write failed: .*(ECONNREFUSED|connect).*after 2 attempts/);
    await ruleWhen(api, 'recording/AlsoWritten', firing, 'the alert beside it to fire');
    await ruleWhen(api, 'plain/Plain', firing, 'the other group to fire');
    const dropped = await eventually(
      () => metricSum(api, 'lookout_alert_rules_remote_write_dropped_samples_total'),
      (n) => n >= 3,
      'dropped samples counted',
      10_000,
    );
    // Evaluation goes on: more evaluations, more drops.
    await eventually(
      () => metricSum(api, 'lookout_alert_rules_remote_write_dropped_samples_total'),
      (n) => n > dropped,
      'evaluation to go on',
      10_000,
    );
    expect(process.output.join('')).toContain('remote write dropped samples');
  }, 30_000);

  it('never holds up evaluation while the receiver hangs: alerts stay firing, not told resolved', async () => {
    const hanging = createServer(() => {});
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    try {
      const { api, robot } = await startRules({
        name: 'remotewritehang',
        routing: true,
        extra: `  remoteWrite: { url: "http://127.0.0.1:${(hanging.address() as AddressInfo).port}", timeout: 3s, retry: { maxAttempts: 2, initialBackoff: 100ms, maxBackoff: 200ms } }`,
        files: { 'good.rules.yaml': goodRules },
      });
      await ruleWhen(api, 'good/Good', firing, 'the rule to fire');
      // Longer than the alert's validity (4 intervals): a stalled evaluation would let it lapse and be told resolved.
      await new Promise((r) => setTimeout(r, 8_000));
      expect(robots.accepted(robot).map((m) => m.text.split('\n')[0])).toEqual(['[FIRING:1] Good']);
      expect(await metricSum(api, 'lookout_alert_rules_group_iterations_missed_total')).toBe(0);
      expect(await metricSum(api, 'lookout_alert_rules_remote_write_dropped_samples_total')).toBeGreaterThan(
        0,
      );
    } finally {
      hanging.closeAllConnections();
      hanging.close();
    }
  }, 30_000);
});
