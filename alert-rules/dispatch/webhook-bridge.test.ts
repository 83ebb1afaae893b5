import { afterEach, describe, expect, it } from 'vitest';
import { createHttpApp, type HttpApp } from '../../core/http.ts';
import { httpSchema } from '../../core/http-config.ts';
import { Metrics } from '../../core/metrics.ts';
import type { Notification } from '../../notify/message.ts';
import { captureLog } from '../../test/robots/harness.ts';
import { DEFAULT_TEMPLATE_SETTINGS } from '../rules/template/expand.ts';
import { DEFAULT_ALERT_MESSAGES } from './messages/config.ts';
import { DING_CONTENT, DING_TITLE, GROUP, TEMPLATE_FIXTURES } from './messages/fixtures/templates.ts';
import { compileMessageTemplates, loadTemplateFiles } from './messages/message-template.ts';
import type { AlertTemplate } from './messages/notification.ts';
import { registerWebhookBridge } from './webhook-bridge.ts';

const TOKEN = 'alertmanager-token-0123456789';

function webhookPayload(overrides: Record<string, unknown> = {}) {
  return {
    version: '4',
    groupKey: '{}:{alertname="Down"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'ops',
    groupLabels: { alertname: 'Down' },
    commonLabels: { alertname: 'Down', severity: 'critical' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'Down', severity: 'critical', instance: 'db-1' },
        annotations: { summary: 'db-1 is down' },
        startsAt: '2026-03-01T08:00:00Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus:9090/graph',
        fingerprint: 'c0ffee',
      },
    ],
    ...overrides,
  };
}

let http: HttpApp | undefined;
afterEach(async () => {
  await http?.close();
});

function bridge(options: { sending?: boolean; templates?: ReadonlyMap<string, AlertTemplate> } = {}) {
  const sent: { robots: readonly string[]; n: Notification }[] = [];
  const { log, records } = captureLog();
  const metrics = new Metrics({ defaults: false });
  http = createHttpApp({
    log,
    metrics,
    config: httpSchema.parse({
      listen: '127.0.0.1:0',
      auth: { tokens: [{ name: 'alertmanager', token: TOKEN, role: 'editor' }] },
    }),
  });
  registerWebhookBridge(http.app, {
    chat: {
      names: () => ['ops'],
      send: (robots, n) => {
        sent.push({ robots, n });
        return options.sending === false
          ? { queued: [], dropped: [...robots] }
          : { queued: [...robots], dropped: [] };
      },
    },
    messages: () => DEFAULT_ALERT_MESSAGES,
    template: (robot) => options.templates?.get(robot),
    maxBodyBytes: 64 * 1024,
    log,
    metrics,
  });
  const post = (robot: string, body: unknown, token = TOKEN) =>
    http!.app.inject({
      method: 'POST',
      url: `/api/alertmanager/webhook/${robot}`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });
  return { sent, post, metrics, records };
}

describe('Alertmanager webhook bridge', () => {
  it("tells the group to the named robot in Alertmanager's words", async () => {
    const { sent, post } = bridge();
    const response = await post('ops', webhookPayload());
    expect(response.statusCode).toBe(200);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.robots).toEqual(['ops']);
    expect(sent[0]!.n.title).toBe('[FIRING:1] Down');
    expect(sent[0]!.n.formatted?.markdown?.text).toContain('db-1 is down');
  });

  it('refuses an unknown robot, bad JSON, a wrong payload, an oversize body and a missing token', async () => {
    const { sent, post } = bridge();
    expect((await post('nobody', webhookPayload())).statusCode).toBe(404);
    expect((await post('ops', '{"version": "4",')).statusCode).toBe(400);
    const old = await post('ops', webhookPayload({ version: '3' }));
    expect(old.statusCode).toBe(400);
    expect(old.json().error).toContain('version "4"');
    const noAlerts = await post('ops', webhookPayload({ alerts: [{ status: 'firing' }] }));
    expect(noAlerts.statusCode).toBe(400);
    expect(noAlerts.json().error).toMatch(/^alerts\.0\.labels/);
    const big = webhookPayload({ commonAnnotations: { description: 'x'.repeat(70 * 1024) } });
    expect((await post('ops', big)).statusCode).toBe(413);
    expect((await post('ops', webhookPayload(), 'wrong')).statusCode).toBe(401);
    expect(sent).toEqual([]);
  });

  it('answers 503 when the robot does not send now, so Alertmanager sends again', async () => {
    const { post } = bridge({ sending: false });
    const response = await post('ops', webhookPayload());
    expect(response.statusCode).toBe(503);
    expect(response.json().error).toContain('send again later');
  });

  it("writes a robot's message with its prometheus-webhook-dingtalk style template, else the default one", async () => {
    const files = await loadTemplateFiles(['dingtalk.tmpl'], { baseDir: TEMPLATE_FIXTURES });
    const message = {
      title: '{{ template "ding.link.title" . }}',
      text: '{{ template "ding.link.content" . }}',
    };
    const templates = compileMessageTemplates(
      files,
      { ops: { message } },
      'alertRules.webhookBridge.robots',
      {
        settings: DEFAULT_TEMPLATE_SETTINGS,
      },
    );
    const { sent, post, metrics, records } = bridge({ templates });
    expect((await post('ops', { version: '4', ...GROUP })).statusCode).toBe(200);
    expect(sent[0]!.n.formatted?.markdown).toEqual({ title: DING_TITLE, text: DING_CONTENT });
    expect(sent[0]!.n.formatted?.['wecom-markdown']).toEqual({ title: DING_TITLE, text: DING_CONTENT });

    // A time Go's JSON decoding refuses fails the template: the default message goes, the failure is counted.
    const [first] = GROUP.alerts;
    const odd = { version: '4', ...GROUP, alerts: [{ ...first, startsAt: '2026-03-01 08:00' }] };
    expect((await post('ops', odd)).statusCode).toBe(200);
    expect(sent[1]!.n.formatted?.markdown?.text).toMatch(/^### 🔴 \[FIRING:1\] HighErrorRate/);
    expect(await metrics.text()).toContain(
      'lookout_alert_rules_message_template_failures_total{source="webhook",name="ops"} 1',
    );
    expect(records()).toContainEqual(
      expect.objectContaining({
        robot: 'ops',
        error: 'alert 1: startsAt "2026-03-01 08:00" is not an RFC 3339 time',
      }),
    );
  });
});
