import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RobotServer, startRobotServer } from './robots/robot-server.ts';
import { eventually, LookoutProcess, writeConfig } from './support/lookout-process.ts';

/**
 * A log rule and a Prometheus rule of one team, end to end: a collector with
 * lines ingested, `lookout alert-rules` evaluating both kinds (Prometheus the
 * shared one), one Alertmanager route grouping by team, a silence, and the
 * DingTalk and WeCom robot test servers receiving what on-call would read.
 */

const INGEST = 'log-chat-ingest-token-0123';
const RULES = 'log-chat-viewer-token-0123';

const RULE_FILE = `
groups:
  - name: shop
    rules:
      - alert: ShopDown
        expr: vector(1)
        labels: { team: shop }
  - name: shop-logs
    kind: logs
    interval: 1s
    rules:
      - alert: ShopOutOfMemory
        type: count
        query: OutOfMemoryError
        namespaces: [shop]
        window: 5m
        above: 0
        group_by: [pod]
        labels: { team: shop }
        annotations: { summary: '{{ $value }} OutOfMemoryError lines on {{ $labels.pod }}' }
      - alert: ShopTimeouts
        type: count
        query: timeout
        namespaces: [shop]
        window: 5m
        above: 0
        labels: { team: shop }
`;

let robots: RobotServer;
let dir: string;
let collector: LookoutProcess;
let alertRules: LookoutProcess;
let collectorApi: string;
let rulesApi: string;

async function ingest(message: string, pod: string, count: number): Promise<void> {
  const now = Date.now();
  const body = Array.from({ length: count }, (_, i) => {
    const doc = {
      '@timestamp': new Date(now - 5_000 + i).toISOString(),
      message,
      log: { offset: i },
      kubernetes: { namespace: 'shop', pod: { name: pod } },
      event: { id: `${pod}-${now}-${i}` },
    };
    return `${JSON.stringify(doc)}\n`;
  }).join('');
  const response = await fetch(`${collectorApi}/api/ingest`, {
    method: 'POST',
    headers: { authorization: `Bearer ${INGEST}`, 'content-type': 'application/x-ndjson' },
    body,
  });
  expect(response.status).toBe(200);
}

beforeAll(async () => {
  robots = await startRobotServer();
  dir = await mkdtemp(join(tmpdir(), 'lookout-log-rules-chat-'));
  const collectorDir = await mkdtemp(join(dir, 'collector-'));
  collector = new LookoutProcess(
    'collector',
    await writeConfig(
      collectorDir,
      `
http:
  listen: "127.0.0.1:0"
  auth:
    tokens:
      - { name: ingest, token: ${INGEST}, role: editor }
      - { name: log-rules, token: ${RULES}, role: viewer, namespaces: [shop] }
dataDir: ${join(collectorDir, 'data')}
collector: { search: {} }
`,
    ),
  );
  collectorApi = await collector.start(60_000);
  await ingest('OutOfMemoryError: heap space, retry with token=abc123secret', 'shop-0', 2);

  const prometheus = process.env.LOOKOUT_TEST_PROMETHEUS_URL;
  if (!prometheus) throw new Error('LOOKOUT_TEST_PROMETHEUS_URL is not set: load the shared servers first');
  const oncall = robots.dingtalk({ name: 'oncall-log-rules', secret: 'SEClogrules' });
  const shop = robots.wecom({ name: 'shop-log-rules' });
  await writeFile(join(dir, 'rules.yaml'), RULE_FILE);
  await writeFile(
    join(dir, 'am.yml'),
    `
route:
  receiver: oncall
  group_by: [team]
  group_wait: 2s
  group_interval: 2s
  repeat_interval: 1h
`,
  );
  alertRules = new LookoutProcess(
    'alert-rules',
    await writeConfig(
      dir,
      `
http: { listen: "127.0.0.1:0", auth: { enabled: false } }
dataDir: ${join(dir, 'data')}
robots:
  oncall: { type: dingtalk, baseUrl: "${oncall.baseUrl}", accessToken: "${oncall.accessToken}", secret: "${oncall.secret}" }
  shop: { type: wecom, baseUrl: "${shop.baseUrl}", key: "${shop.key}" }
alertRules:
  ruleFiles: [rules.yaml]
  ruleFilesDir: ${dir}
  prometheus: { url: "${prometheus}" }
  evaluationInterval: 1s
  logs:
    url: "${collectorApi}"
    auth: { bearerToken: "${RULES}" }
    consoleUrl: https://lookout.example
  routing:
    alertmanagerConfigFile: ${join(dir, 'am.yml')}
    receivers: { oncall: { robots: [oncall, shop] } }
`,
    ),
  );
  rulesApi = await alertRules.start(60_000);
}, 120_000);

afterAll(async () => {
  await alertRules?.stop();
  await collector?.stop();
  await robots?.close();
  await rm(dir, { recursive: true, force: true });
});

interface ApiAlert {
  labels: Record<string, string>;
  state: string;
  status: { silencedBy: string[] };
}

it('groups a log alert with a Prometheus alert of the same team in one message, and silences a log alert', async () => {
  const silence = await fetch(`${rulesApi}/api/silences`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      matchers: [{ name: 'alertname', value: 'ShopTimeouts', isRegex: false }],
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      createdBy: 'test',
      comment: 'known timeouts',
    }),
  });
  expect(silence.status).toBe(200);
  await ingest('upstream timeout after 30s', 'shop-1', 3);

  const texts = await eventually(
    async () => robots.accepted('oncall-log-rules').map((a) => a.text),
    (all) => all.some((text) => text.includes('ShopDown') && text.includes('OutOfMemoryError lines')),
    'one message with the Prometheus alert and the log alert',
    30_000,
  );
  const grouped = texts.find((text) => text.includes('ShopDown') && text.includes('OutOfMemoryError lines'))!;
  expect(grouped).toContain('[FIRING:2]');
  expect(grouped).toContain('2 OutOfMemoryError lines on shop-0');
  expect(grouped).toContain('> OutOfMemoryError: heap space, retry with token=[redacted]');
  expect(grouped).not.toContain('abc123secret');
  expect(grouped).toMatch(
    /\[Logs\]\(https:\/\/lookout\.example\/logs\?from=[^&]+&to=[^&]+&q=OutOfMemoryError&namespace=shop&pod=shop-0\)/,
  );

  const wecom = await eventually(
    async () => robots.accepted('shop-log-rules').map((a) => a.text),
    (all) => all.some((text) => text.includes('ShopDown') && text.includes('OutOfMemoryError lines')),
    'the same group told to the WeCom robot',
    10_000,
  );
  expect(wecom.join('\n')).toContain('> OutOfMemoryError: heap space, retry with token=[redacted]');

  const alerts = await eventually(
    async () =>
      ((await (await fetch(`${rulesApi}/api/alerts`)).json()) as { data: { alerts: ApiAlert[] } }).data
        .alerts,
    (list) => list.some((a) => a.labels.alertname === 'ShopTimeouts' && a.state === 'firing'),
    'the silenced log alert firing',
    15_000,
  );
  const timeouts = alerts.find((a) => a.labels.alertname === 'ShopTimeouts')!;
  expect(timeouts.status.silencedBy).toHaveLength(1);
  // Two group intervals after it fired: it is in the group, and still told to nobody.
  await new Promise((resolve) => setTimeout(resolve, 4_500));
  for (const robot of ['oncall-log-rules', 'shop-log-rules'])
    expect(robots.accepted(robot).some((a) => a.text.includes('ShopTimeouts'))).toBe(false);
}, 90_000);

/** Rewrites the rule file, sends SIGHUP and returns the error of the reload it refused. */
async function refusedReload(rules: string): Promise<string> {
  const notReloaded = 'rule files or routing not reloaded';
  const before = alertRules.output.join('').split(notReloaded).length;
  await writeFile(join(dir, 'rules.yaml'), rules);
  alertRules.hangup();
  const out = await eventually(
    async () => alertRules.output.join(''),
    (text) => text.split(notReloaded).length > before,
    'the refused reload to be reported',
    15_000,
  );
  return JSON.parse(out.split('\n').findLast((line) => line.includes(notReloaded))!).err;
}

const lineOf = (text: string) => RULE_FILE.split('\n').findIndex((line) => line.includes(text)) + 1;

it('refuses on reload a broken log query and a namespace the token may not read, each with its place, and keeps the rules in force', async () => {
  expect(
    await refusedReload(RULE_FILE.replace('query: OutOfMemoryError', 'query: (OutOfMemoryError')),
  ).toContain(
    `rules.yaml:${lineOf('query: OutOfMemoryError')}: group "shop-logs", rule 1 ("ShopOutOfMemory"): query: `,
  );
  expect(
    await refusedReload(
      RULE_FILE.replace(
        'query: timeout\n        namespaces: [shop]',
        'query: timeout\n        namespaces: [billing]',
      ),
    ),
  ).toContain(
    `rules.yaml:${lineOf('query: timeout') + 1}: group "shop-logs", rule 2 ("ShopTimeouts"): the log search's token may not read namespace(s): billing`,
  );
  const rules = (await (await fetch(`${rulesApi}/api/rules`)).json()) as {
    data: { groups: { name: string; rules: { name: string; query: string; health: string }[] }[] };
  };
  const logGroup = rules.data.groups.find((group) => group.name === 'shop-logs')!;
  expect(logGroup.rules[0]).toMatchObject({
    name: 'ShopOutOfMemory',
    query: 'OutOfMemoryError',
    health: 'ok',
  });
}, 30_000);
