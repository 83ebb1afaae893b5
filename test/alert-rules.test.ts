import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { type HttpServer, startPrometheus } from './infra/prometheus.ts';
import { type Accepted, type RobotServer, startRobotServer } from './robots/robot-server.ts';
import { eventually, type LookoutProcess, testProcess } from './support/lookout-process.ts';
import { untilQueried } from './support/prometheus-api.ts';
import { ScriptedExporter } from './support/scripted-exporter.ts';

/**
 * `lookout alert-rules` as an operator runs it: rules evaluated against a real
 * Prometheus, alerts routed by an Alertmanager file to the DingTalk/WeCom robot
 * test double. What reaches the chat groups, when, and what survives restarts
 * and reloads. Alerts that never change are plain expressions on the shared
 * Prometheus; alerts that start and stop are driven by a scripted exporter
 * scraped by a Prometheus of this file's own. Every test has its own robots,
 * directory and process, so they run side by side.
 */

let robots: RobotServer;
let exporter: ScriptedExporter;
let ownPrometheus: HttpServer;
const sharedPrometheus = () => {
  const url = process.env.LOOKOUT_TEST_PROMETHEUS_URL;
  if (!url) throw new Error('LOOKOUT_TEST_PROMETHEUS_URL is not set: load the shared servers first');
  return url;
};

beforeAll(async () => {
  robots = await startRobotServer();
  exporter = await ScriptedExporter.start();
  ownPrometheus = await startPrometheus({
    scrapeTargets: [{ job: 'app', urls: [exporter.url] }],
    scrapeInterval: '1s',
    evaluationInterval: '1s',
  });
});

afterAll(async () => {
  await ownPrometheus?.close();
  await exporter?.close();
  await robots?.close();
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs at most `max` of the works given at once. */
function limiter(max: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    while (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await work();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** Starting Lookout is the heaviest step on a small busy machine: a few at a time, so none misses its deadline. */
const startSlot = limiter(2);
const START_TIMEOUT_MS = 60_000;

/** The default route: one group per alert name, told 1 s after it forms, looked at every 2 s. */
const ROUTE = `
route:
  receiver: oncall
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
`;

interface CaseOptions {
  /** The rule file's text. */
  rules: string;
  /** The Alertmanager file's text; ROUTE unless given. */
  alertmanager?: string;
  /** The shared Prometheus unless given. */
  prometheusUrl?: string;
  /** More of the `routing` section (YAML, indented for it). */
  routing?: string;
  /** More files in the case's directory, by name. */
  files?: Record<string, string>;
}

/** One Lookout with robots `oncall` (DingTalk, signed) and `shop` (WeCom) of its own. */
class RulesCase {
  readonly dir: string;
  readonly process: LookoutProcess;
  readonly robotNames: { oncall: string; shop: string };
  url = '';

  private constructor(dir: string, process: LookoutProcess, robotNames: RulesCase['robotNames']) {
    this.dir = dir;
    this.process = process;
    this.robotNames = robotNames;
  }

  static async start(test: TestContext, options: CaseOptions): Promise<RulesCase> {
    const dir = await mkdtemp(join(tmpdir(), 'lookout-alert-rules-'));
    const id = Math.random().toString(36).slice(2, 8);
    const names = { oncall: `oncall-${id}`, shop: `shop-${id}` };
    const oncall = robots.dingtalk({ name: names.oncall, secret: `SEC${id}signing` });
    const shop = robots.wecom({ name: names.shop });
    await writeFile(join(dir, 'rules.yaml'), options.rules);
    await writeFile(join(dir, 'am.yml'), options.alertmanager ?? ROUTE);
    for (const [name, text] of Object.entries(options.files ?? {})) await writeFile(join(dir, name), text);
    const configFile = join(dir, 'lookout.yaml');
    await writeFile(
      configFile,
      `
http: { listen: "127.0.0.1:0", auth: { enabled: false } }
dataDir: ${join(dir, 'data')}
robots:
  oncall: { type: dingtalk, baseUrl: "${oncall.baseUrl}", accessToken: "${oncall.accessToken}", secret: "${oncall.secret}" }
  shop: { type: wecom, baseUrl: "${shop.baseUrl}", key: "${shop.key}" }
alertRules:
  ruleFiles: [rules.yaml]
  ruleFilesDir: ${dir}
  prometheus: { url: "${options.prometheusUrl ?? sharedPrometheus()}" }
  evaluationInterval: 1s
  routing:
    alertmanagerConfigFile: ${join(dir, 'am.yml')}
    messages: { logSearchUrl: "https://lookout.example", timeZone: Asia/Shanghai }
${options.routing ?? ''}`,
    );
    const running = new RulesCase(dir, testProcess(test, dir, 'alert-rules', configFile), names);
    await running.restart();
    return running;
  }

  /** Starts the process (again), on the same data directory. */
  async restart(): Promise<void> {
    this.url = await startSlot(() => this.process.start(START_TIMEOUT_MS));
  }

  accepted(robot: 'oncall' | 'shop'): Accepted[] {
    return robots.accepted(this.robotNames[robot]);
  }

  texts(robot: 'oncall' | 'shop'): string[] {
    return this.accepted(robot).map((a) => a.text);
  }

  /** Waits until the robot holds `count` messages; returns them. */
  told(robot: 'oncall' | 'shop', count: number, what: string, timeoutMs = 20_000): Promise<string[]> {
    return eventually(
      async () => this.texts(robot),
      (texts) => texts.length >= count,
      `${what} (${count} message(s) to ${robot})`,
      timeoutMs,
    );
  }

  async get<T>(path: string): Promise<T> {
    const response = await fetch(`${this.url}${path}`);
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  async alerts(): Promise<ApiAlert[]> {
    return (await this.get<{ data: { alerts: ApiAlert[] } }>('/api/alerts')).data.alerts;
  }

  /** A metric's value without labels, from /metrics. */
  async metric(name: string): Promise<number> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    if (!line) throw new Error(`no ${name} in /metrics`);
    return Number(line.slice(name.length + 1));
  }

  log(): string {
    return this.process.output.join('');
  }

  untilLogged(text: string, what: string): Promise<string> {
    return eventually(
      async () => this.log(),
      (out) => out.includes(text),
      what,
      15_000,
    );
  }
}

interface ApiAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
  status: { state: string; silencedBy: string[]; inhibitedBy: string[] };
}

/** A rule file of one group `test` with these rules (YAML list items, indented for the group). */
const ruleFile = (rules: string) => `
groups:
  - name: test
    rules:
${rules}
`;

/** An alert rule that fires at once from an expression. */
const alertRule = (name: string, expr: string, labels: Record<string, string>, extra = '') => `
      - alert: ${name}
        expr: '${expr}'
        labels: ${JSON.stringify(labels)}${extra}`;

/** `vector(1)` with extra labels, so one rule can fire several alerts. */
const withLabels = (labels: Record<string, string>) =>
  Object.entries(labels).reduce(
    (expr, [name, value]) => `label_replace(${expr}, "${name}", "${value}", "", "")`,
    'vector(1)',
  );

/** Waits until the exporter's value is what Prometheus answers, so the next evaluation sees it. */
async function setScraped(labels: Record<string, string>, value: number): Promise<void> {
  exporter.set('app_errors', labels, value);
  const selector = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  // The first scrape of the exporter comes about 5 s after Prometheus started.
  await untilQueried(ownPrometheus.url, `app_errors{${selector}}`, value, 20_000);
}

describe.concurrent('alert rules, routed to chat robots', () => {
  it('routes by matchers with continue to two robots, groups two alerts in one message, and writes it for a phone', async (test) => {
    const highErrors = `${withLabels({ instance: 'web-1', pod: 'web-1-7f9c' })} or ${withLabels({ instance: 'web-2' })}`;
    const c = await RulesCase.start(test, {
      rules: ruleFile(
        alertRule(
          'HighErrorRate',
          highErrors,
          { severity: 'critical', team: 'shop', namespace: 'prod', mentions: '13800000000' },
          `
        annotations:
          summary: '{{ $labels.instance }} fails {{ $value }} requests'
          description: 'Checkout is failing on {{ $labels.instance }}.'`,
        ) + alertRule('DiskFull', 'vector(1)', { severity: 'warning', team: 'infra' }),
      ),
      alertmanager: `${ROUTE}  routes:
    - matchers: [team="shop"]
      receiver: shop
      continue: true
    - matchers: [severity="critical"]
      receiver: oncall
`,
    });
    await c.told('oncall', 2, 'HighErrorRate (second route) and DiskFull (default)');
    await c.told('shop', 1, 'HighErrorRate (first route, continue)');
    // Long enough for another group interval: nothing more to tell.
    await pause(3_000);
    expect(c.texts('shop')).toHaveLength(1);
    expect(c.texts('oncall')).toHaveLength(2);
    expect(c.texts('shop').join('\n')).not.toContain('DiskFull');

    const ding = c.accepted('oncall').find((a) => a.text.includes('HighErrorRate'))!;
    const wecom = c.accepted('shop')[0]!;
    for (const message of [ding, wecom]) {
      expect(message.msgtype).toBe('markdown');
      expect(message.text).toContain('[FIRING:2] HighErrorRate');
      expect(message.text).toContain('web-1 fails 1 requests');
      expect(message.text).toContain('web-2 fails 1 requests');
      expect(message.text).toContain('Checkout is failing on web-1.');
      expect(message.text).toContain('https://lookout.example/logs?namespace=prod&pod=web-1-7f9c&from=');
      // Only web-1 has a pod: one log link.
      expect(message.text.match(/lookout\.example\/logs\?/g)).toHaveLength(1);
    }
    expect(ding.body.at).toMatchObject({ atMobiles: ['13800000000'] });
    expect(ding.text).toContain('@13800000000');
    expect(c.texts('oncall').some((text) => text.includes('[FIRING:1] DiskFull'))).toBe(true);
  });

  it("writes a receiver's messages with its template files, and keeps them when SIGHUP brings a broken file", async (test) => {
    const template = (
      title: string,
    ) => `{{ define "ops.title" }}${title} {{ .CommonLabels.alertname }}{{ end }}
{{ define "ops.text" }}#### {{ template "ops.title" . }}
{{ range .Alerts }}- {{ .Labels.instance }} since {{ (.StartsAt | tz "Asia/Shanghai").Format "15:04" }}
{{ end }}{{ end }}`;
    const c = await RulesCase.start(test, {
      rules: ruleFile(alertRule('DiskFull', withLabels({ instance: 'db-1' }), { severity: 'critical' })),
      files: { 'ops.tmpl': template('Disk alarm:') },
      routing: `    templateFiles: ["*.tmpl"]
    receivers:
      oncall:
        robots: [oncall]
        message: { title: '{{ template "ops.title" . }}', text: '{{ template "ops.text" . }}' }`,
    });
    await c.told('oncall', 1, 'the templated message');
    const { title, text } = c.accepted('oncall')[0]!.body.markdown as { title: string; text: string };
    expect(title).toBe('Disk alarm: DiskFull');
    expect(text).toMatch(/^#### Disk alarm: DiskFull\n- db-1 since \d\d:\d\d\n$/);

    await writeFile(join(c.dir, 'ops.tmpl'), '{{ define "ops.text" }}{{ if }}{{ end }}');
    c.process.hangup();
    const notReloaded = 'rule files or routing not reloaded';
    const out = await c.untilLogged(notReloaded, 'the broken template file to be reported');
    const report = JSON.parse(out.split('\n').find((line) => line.includes(notReloaded))!);
    expect(report.err).toContain('ops.tmpl: template: ops.tmpl:1: missing value for if');

    await writeFile(join(c.dir, 'ops.tmpl'), template('Disk alarm again:'));
    c.process.hangup();
    await c.untilLogged('rule files and routing reloaded', 'the fixed template file to load');
  });

  it('tells a firing group again after repeat_interval, not before', async (test) => {
    const c = await RulesCase.start(test, {
      rules: ruleFile(alertRule('StillBroken', 'vector(1)', { severity: 'warning' })),
      alertmanager: `
route:
  receiver: oncall
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 4s
`,
    });
    await c.told('oncall', 2, 'the repeat', 20_000);
    const [first, second] = c.accepted('oncall').map((a) => a.at);
    const gap = second! - first!;
    // Looked at every group_interval (1 s): told at the first look 4 s or more after the last time. One
    // look early would be 3 s; the margin is for delivery, slower for the first message of a new process.
    expect(gap).toBeGreaterThanOrEqual(3_500);
    expect(gap).toBeLessThan(7_000);
    expect(c.texts('oncall')[1]).toContain('[FIRING:1] StillBroken');
  });

  it('inhibits a warning while a critical alert with the same instance fires, and says so in /api/alerts', async (test) => {
    const c = await RulesCase.start(test, {
      rules: ruleFile(
        alertRule('NodeDown', 'vector(1)', { severity: 'critical', instance: 'node-a' }) +
          alertRule(
            'NodeSlow',
            `${withLabels({ instance: 'node-a' })} or ${withLabels({ instance: 'node-b' })}`,
            {
              severity: 'warning',
            },
          ),
      ),
      alertmanager: `
route:
  receiver: oncall
  group_by: [alertname, instance]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [instance]
`,
    });
    await c.told('oncall', 2, 'NodeDown on node-a and NodeSlow on node-b');
    await pause(3_000);
    const texts = c.texts('oncall');
    expect(texts).toHaveLength(2);
    expect(texts.some((t) => t.includes('NodeDown') && t.includes('node-a'))).toBe(true);
    expect(texts.some((t) => t.includes('NodeSlow') && t.includes('node-b'))).toBe(true);
    expect(texts.some((t) => t.includes('NodeSlow') && t.includes('instance=node-a'))).toBe(false);

    const alerts = await c.alerts();
    const slowA = alerts.find((a) => a.labels.alertname === 'NodeSlow' && a.labels.instance === 'node-a');
    const slowB = alerts.find((a) => a.labels.alertname === 'NodeSlow' && a.labels.instance === 'node-b');
    const down = alerts.find((a) => a.labels.alertname === 'NodeDown');
    expect(slowA?.status.state).toBe('suppressed');
    expect(slowA?.status.inhibitedBy).toHaveLength(1);
    expect(slowB?.status).toEqual({ state: 'active', silencedBy: [], inhibitedBy: [] });
    expect(down?.status.state).toBe('active');
  });

  it('keeps silenced alerts from chat, lists them with the silence, keeps silences over a restart, and tells them once expired', async (test) => {
    const c = await RulesCase.start(test, {
      rules: ruleFile(
        alertRule('Loud', 'vector(1)', { severity: 'warning' }) +
          // Pending for a while, so the silence is in place before it fires.
          alertRule('Quiet', 'vector(1)', { severity: 'warning', team: 'batch' }, '\n        for: 3s'),
      ),
    });
    const post = (body: unknown) =>
      fetch(`${c.url}/api/silences`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const silence = (value: string, isRegex: boolean) => ({
      matchers: [{ name: 'team', value, isRegex }],
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      createdBy: 'test',
      comment: 'maintenance of the batch jobs',
    });
    const created = await eventually(
      () => post(silence('batch|etl', true)),
      (response) => response.status === 200,
      'the silence API',
      10_000,
      100,
    );
    const { silenceID } = (await created.json()) as { silenceID: string };

    const broken = await post(silence('batch(', true));
    expect(broken.status).toBe(400);
    expect(await broken.json()).toEqual({
      error:
        'matcher 0: matcher team=~"batch(": invalid regular expression "batch(": missing closing ): `^(?:batch()$`',
    });

    await c.told('oncall', 1, 'Loud');
    const quiet = await eventually(
      async () => (await c.alerts()).find((a) => a.labels.alertname === 'Quiet'),
      (alert) => alert?.state === 'firing',
      'Quiet to fire',
      15_000,
    );
    expect(quiet?.status).toEqual({ state: 'suppressed', silencedBy: [silenceID], inhibitedBy: [] });
    await pause(3_000);
    expect(c.texts('oncall').join('\n')).not.toContain('Quiet');

    await c.process.kill();
    await c.restart();
    const listed = await c.get<{ id: string; status: { state: string } }[]>('/api/silences');
    expect(listed).toEqual([expect.objectContaining({ id: silenceID, status: { state: 'active' } })]);
    // Alertmanager's path, for amtool, answers the same.
    expect(await c.get('/api/v2/silences')).toEqual(listed);
    await pause(3_000);
    expect(c.texts('oncall').join('\n')).not.toContain('Quiet');

    const deleted = await fetch(`${c.url}/api/silences/${silenceID}`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    const expiredAt = Date.now();
    const [, told] = await c.told('oncall', 2, 'Quiet, once the silence expired');
    expect(told).toContain('[FIRING:1] Quiet');
    // At the group's next look (group_interval 2s), not a whole repeat interval later.
    expect(c.accepted('oncall')[1]!.at - expiredAt).toBeLessThan(5_000);
    const [after] = await c.get<{ status: { state: string } }[]>('/api/silences');
    expect(after?.status.state).toBe('expired');
  });

  it('after kill -9 does not tell a firing group again, and tells it resolved when it cleared while down', async (test) => {
    const series = { case: 'restart' };
    await setScraped(series, 5);
    const c = await RulesCase.start(test, {
      prometheusUrl: ownPrometheus.url,
      rules: ruleFile(alertRule('Restarted', 'app_errors{case="restart"} > 3', { severity: 'critical' })),
    });
    await c.told('oncall', 1, 'the firing group');
    // Once told, the notification log and the alert state are on disk.
    await pause(1_500);
    await c.process.kill();
    await c.restart();
    // The restored alert reaches the new dispatcher, which finds the group told in its notification log.
    await eventually(
      () => c.metric('lookout_alert_rules_dispatch_alerts'),
      (n) => n === 1,
      'the alert held again',
      10_000,
    );
    await pause(4_000);
    expect(c.texts('oncall'), 'no repeat inside repeat_interval after the restart').toHaveLength(1);

    await c.process.kill();
    await setScraped(series, 0);
    await c.restart();
    const [, resolved] = await c.told('oncall', 2, 'the resolve after the restart');
    expect(resolved).toContain('[RESOLVED] Restarted');
    await pause(3_000);
    expect(c.texts('oncall')).toHaveLength(2);
  });

  it('tells a group resolved when its condition clears', async (test) => {
    const series = { case: 'resolve' };
    await setScraped(series, 5);
    const c = await RulesCase.start(test, {
      prometheusUrl: ownPrometheus.url,
      rules: ruleFile(
        alertRule(
          'Cleared',
          'app_errors{case="resolve"} > 3',
          { severity: 'warning' },
          `
        annotations:
          summary: 'errors at {{ $value }}'`,
        ),
      ),
    });
    const [firing] = await c.told('oncall', 1, 'the firing group');
    expect(firing).toContain('[FIRING:1] Cleared');
    expect(firing).toContain('errors at 5');
    await setScraped(series, 0);
    const [, resolved] = await c.told('oncall', 2, 'the resolved group');
    expect(resolved).toContain('[RESOLVED] Cleared');
    expect(resolved).toContain('Resolved');
  });

  it('on SIGHUP keeps the old rules when the file is broken, names the problem, and loads a fixed file', async (test) => {
    const rulesFile = (extra = '') =>
      ruleFile(alertRule('Kept', 'vector(1)', { severity: 'warning' }) + extra);
    const c = await RulesCase.start(test, { rules: rulesFile() });
    await c.told('oncall', 1, 'Kept');

    await writeFile(
      join(c.dir, 'rules.yaml'),
      rulesFile(alertRule('Broken', 'sum(rate(x[5m])', { severity: 'warning' })),
    );
    c.process.hangup();
    const notReloaded = 'rule files or routing not reloaded';
    const out = await c.untilLogged(notReloaded, 'the broken file to be reported');
    const report = JSON.parse(out.split('\n').find((line) => line.includes(notReloaded))!);
    expect(report.err).toMatch(/rules\.yaml:\d+: group "test", rule 2 \("Broken"\): expr: .*syntax error/);
    await pause(2_000);
    const alerts = await c.alerts();
    expect(alerts.map((a) => [a.labels.alertname, a.state])).toEqual([['Kept', 'firing']]);

    await writeFile(
      join(c.dir, 'rules.yaml'),
      rulesFile(alertRule('Added', 'vector(1)', { severity: 'info' })),
    );
    c.process.hangup();
    await c.untilLogged('rule files and routing reloaded', 'the fixed file to load');
    await eventually(
      async () => (await c.alerts()).map((a) => a.labels.alertname).sort(),
      (names) => names.join() === 'Added,Kept',
      'the new rule to fire',
      10_000,
    );
    const [, added] = await c.told('oncall', 2, 'Added');
    expect(added).toContain('Added');
    expect(c.texts('oncall').filter((t) => t.includes('Kept'))).toHaveLength(1);
  });
});
