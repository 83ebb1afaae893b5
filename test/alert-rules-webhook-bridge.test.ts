import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ALERT_MESSAGES } from '../alert-rules/dispatch/messages/config.ts';
import { TEMPLATE_FIXTURES } from '../alert-rules/dispatch/messages/fixtures/templates.ts';
import {
  compileMessageTemplates,
  loadTemplateFiles,
} from '../alert-rules/dispatch/messages/message-template.ts';
import { registerWebhookBridge } from '../alert-rules/dispatch/webhook-bridge.ts';
import { DEFAULT_TEMPLATE_SETTINGS } from '../alert-rules/rules/template/expand.ts';
import { createHttpApp, type HttpApp } from '../core/http.ts';
import { httpSchema } from '../core/http-config.ts';
import { type HttpServer, startAlertmanager } from './infra/prometheus.ts';
import { captureLog, startChatRobots } from './robots/harness.ts';
import { type RobotServer, startRobotServer } from './robots/robot-server.ts';
import { eventually } from './support/lookout-process.ts';

/**
 * A real Alertmanager whose webhook receivers point at the bridge: alerts
 * posted to Alertmanager arrive at the DingTalk and WeCom robot doubles as
 * the default alert messages, firing and then resolved, or as a robot's own
 * prometheus-webhook-dingtalk style template writes them.
 */

const TOKEN = 'bridge-token-for-alertmanager-0123';

let dir: string;
let robots: RobotServer;
let chat: Awaited<ReturnType<typeof startChatRobots>>;
let http: HttpApp;
let alertmanager: HttpServer;

function receiver(name: string, bridge: string, robot: string) {
  return `  - name: ${name}
    webhook_configs:
      - url: ${bridge}/api/alertmanager/webhook/${robot}
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: ${TOKEN}
`;
}

beforeAll(async () => {
  const { log } = captureLog();
  dir = await mkdtemp(join(tmpdir(), 'lookout-webhook-bridge-'));
  robots = await startRobotServer();
  chat = await startChatRobots(
    {
      'ops-dingtalk': robots.dingtalk({ name: 'ops-dingtalk', secret: 'SEC-bridge-secret' }),
      'ops-wecom': robots.wecom({ name: 'ops-wecom' }),
      'pay-dingtalk': robots.dingtalk({ name: 'pay-dingtalk' }),
    },
    dir,
  );
  const templates = compileMessageTemplates(
    await loadTemplateFiles(['dingtalk.tmpl'], { baseDir: TEMPLATE_FIXTURES }),
    {
      'pay-dingtalk': {
        message: {
          title: '{{ template "ding.link.title" . }}',
          text: '{{ template "ding.link.content" . }}',
        },
      },
    },
    'alertRules.webhookBridge.robots',
    { settings: DEFAULT_TEMPLATE_SETTINGS },
  );
  http = createHttpApp({
    log,
    metrics: chat.metrics,
    config: httpSchema.parse({
      listen: '127.0.0.1:0',
      auth: { tokens: [{ name: 'alertmanager', token: TOKEN, role: 'editor' }] },
    }),
  });
  registerWebhookBridge(http.app, {
    chat: chat.chat,
    messages: () => ({ ...DEFAULT_ALERT_MESSAGES, timeZone: 'Asia/Shanghai' }),
    template: (robot) => templates.get(robot),
    maxBodyBytes: 1024 * 1024,
    log,
  });
  const bridge = await http.listen();
  const config = join(dir, 'alertmanager.yml');
  await writeFile(
    config,
    `route:
  receiver: dingtalk
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['team="db"']
      receiver: wecom
    - matchers: ['team="pay"']
      receiver: pay
receivers:
${receiver('dingtalk', bridge, 'ops-dingtalk')}${receiver('wecom', bridge, 'ops-wecom')}${receiver('pay', bridge, 'pay-dingtalk')}`,
  );
  alertmanager = await startAlertmanager({ configFile: config });
}, 120_000);

afterAll(async () => {
  await alertmanager?.close();
  await http?.close();
  await chat?.chat.stop(AbortSignal.timeout(1_000));
  await robots?.close();
  await rm(dir, { recursive: true, force: true });
});

async function postAlerts(alerts: object[]): Promise<void> {
  const response = await fetch(`${alertmanager.url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(alerts),
  });
  expect(response.status).toBe(200);
}

const texts = (robot: string) => robots.accepted(robot).map((m) => m.text);

describe("Alertmanager's webhook to the chat robots", () => {
  it('tells firing and resolved groups to DingTalk and WeCom, routed by Alertmanager', async () => {
    const startsAt = new Date(Date.now() - 60_000).toISOString();
    const api = {
      labels: { alertname: 'ApiErrors', severity: 'critical', namespace: 'shop', pod: 'api-1' },
      annotations: { summary: 'API error rate above 5%', value: '0.07' },
      startsAt,
      generatorURL: 'http://prometheus:9090/graph?g0.expr=errors',
    };
    const db = {
      labels: { alertname: 'ReplicationLag', severity: 'warning', team: 'db', instance: 'db-2' },
      annotations: { summary: 'Replica 40 s behind', description: 'db-2 lags its primary' },
      startsAt,
    };
    await postAlerts([api, db]);

    const [dingtalk] = await eventually(
      async () => robots.accepted('ops-dingtalk'),
      (accepted) => accepted.length >= 1,
      'the firing message at the DingTalk robot',
    );
    const markdown = dingtalk!.body.markdown as { title: string; text: string };
    expect(markdown.title).toBe('[FIRING:1] ApiErrors');
    expect(markdown.text).toContain('API error rate above 5%');
    expect(markdown.text).toContain('- Value: 0.07');
    expect(markdown.text).toContain('[Prometheus](http://prometheus:9090/graph?g0.expr=errors)');
    expect(markdown.text).toContain('GMT+8');

    const [wecom] = await eventually(
      async () => texts('ops-wecom'),
      (accepted) => accepted.length >= 1,
      'the firing message at the WeCom robot',
    );
    expect(wecom).toContain('<font color="warning">🟠 [FIRING:1] ReplicationLag</font>');
    expect(wecom).toContain('db-2 lags its primary');

    await postAlerts([{ ...api, endsAt: new Date().toISOString() }]);
    await eventually(
      async () => texts('ops-dingtalk'),
      (accepted) => accepted.some((text) => text.includes('[RESOLVED] ApiErrors')),
      'the resolved message at the DingTalk robot',
    );
    expect(texts('ops-wecom')).toHaveLength(1);
  }, 90_000);

  it("writes the group with the robot's own prometheus-webhook-dingtalk style template", async () => {
    const startsAt = '2026-03-01T08:00:00.25Z';
    await postAlerts([
      {
        labels: { alertname: 'PaymentsSlow', severity: 'warning', team: 'pay', instance: 'pay-1' },
        annotations: { summary: 'p99 above 2 s', description: 'pay-1 answers slowly' },
        startsAt,
      },
    ]);
    const [message] = await eventually(
      async () => robots.accepted('pay-dingtalk'),
      (accepted) => accepted.length >= 1,
      'the templated message at the DingTalk robot',
    );
    const { title, text } = message!.body.markdown as { title: string; text: string };
    expect(title).toBe('[FIRING:1] PaymentsSlow');
    // Alertmanager's external URL names this host, whatever it is called.
    expect(text.replace(/\]\(http:\/\/[^/]+/, '](http://alertmanager')).toBe(
      `#### [FIRING:1] [PaymentsSlow](http://alertmanager/#/alerts?receiver=pay)
### Firing

**p99 above 2 s** (WARNING)

pay-1 answers slowly

> - instance: pay-1
> - team: pay
Started: 2026-03-01 08:00:00

`,
    );
  }, 90_000);
});
