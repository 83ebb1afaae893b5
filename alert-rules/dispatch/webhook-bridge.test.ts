import { afterEach, describe, expect, it } from 'vitest';
import { createHttpApp, type HttpApp, httpSchema } from '../../core/http.ts';
import { Metrics } from '../../core/metrics.ts';
import type { Notification } from '../../notify/message.ts';
import { captureLog } from '../../test/robots/harness.ts';
import { DEFAULT_ALERT_MESSAGES } from './messages/config.ts';
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

function bridge(options: { sending?: boolean } = {}) {
  const sent: { robots: readonly string[]; n: Notification }[] = [];
  const { log } = captureLog();
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
  return { sent, post };
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
});
