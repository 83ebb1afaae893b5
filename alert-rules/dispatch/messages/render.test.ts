import { describe, expect, it } from 'vitest';
import { Composer } from '../../../notify/compose.ts';
import type { RobotConfig } from '../../../notify/config.ts';
import { DingtalkApi } from '../../../notify/dingtalk.ts';
import type { Notification } from '../../../notify/message.ts';
import { WecomApi } from '../../../notify/wecom.ts';
import { robotsConfig } from '../../../test/robots/harness.ts';
import { DEFAULT_ALERT_MESSAGES } from './config.ts';
import { type AlertData, alertGroupData, ZERO_TIME } from './group-data.ts';
import { alertNotification, templatedNotification } from './notification.ts';

const config = {
  ...DEFAULT_ALERT_MESSAGES,
  timeZone: 'Asia/Shanghai',
  logSearchUrl: 'https://lookout.example/',
};

function alert(pod: string, overrides: Partial<AlertData> = {}): AlertData {
  return {
    status: 'firing',
    labels: {
      alertname: 'HighErrorRate',
      severity: 'critical',
      namespace: 'shop',
      pod,
      mentions: '13800000000',
    },
    annotations: {
      summary: 'Error rate above 5%',
      description: `${pod} answers 500 to 9% of requests`,
      value: '0.09',
    },
    startsAt: '2026-03-01T08:00:00Z',
    endsAt: ZERO_TIME,
    generatorURL: 'http://prometheus:9090/graph?g0.expr=rate%28errors%5B5m%5D%29',
    fingerprint: pod,
    ...overrides,
  };
}

function group(alerts: AlertData[]) {
  return alertGroupData(
    {
      receiver: 'team',
      groupKey: '{}:{alertname="HighErrorRate"}',
      groupLabels: { alertname: 'HighErrorRate' },
      externalURL: 'http://lookout.example',
    },
    alerts,
  );
}

/** What one robot would post for the notification. */
function posted(robot: Record<string, unknown>, n: Notification) {
  const { r } = robotsConfig({ r: robot }) as { r: RobotConfig };
  const api = r.type === 'dingtalk' ? new DingtalkApi(r) : new WecomApi(r);
  const { entries } = new Composer(r, api).compose(n, 0);
  return entries.map((e) => api.payload(e.outgoing) as Record<string, Record<string, unknown>>);
}

const dingtalk = { type: 'dingtalk', accessToken: 't' };
const wecom = { type: 'wecom', key: 'k' };

describe('alert messages', () => {
  it('writes a DingTalk markdown message with severity, annotations, links and the mentioned mobile', () => {
    const n = alertNotification(group([alert('order-1'), alert('order-2')]), { config });
    const [payload] = posted(dingtalk, n);
    expect(payload!.markdown!.title).toBe('[FIRING:2] HighErrorRate');
    const text = payload!.markdown!.text as string;
    expect(text).toMatch(/^### 🔴 \[FIRING:2\] HighErrorRate\n- Severity: critical/);
    expect(text).toContain(
      '**1. Error rate above 5%**\n\norder-1 answers 500 to 9% of requests\n\n- Value: 0.09',
    );
    expect(text).toContain('- Labels: pod=order-1');
    expect(text).toContain('- Started: 2026-03-01 16:00:00 GMT+8');
    expect(text).toContain('[Prometheus](http://prometheus:9090/graph?g0.expr=rate%28errors%5B5m%5D%29)');
    expect(text).toContain(
      '[Logs](https://lookout.example/logs?namespace=shop&pod=order-1&from=2026-03-01T07%3A45%3A00.000Z&to=now)',
    );
    // DingTalk highlights a mention only when the text also says "@mobile".
    expect(payload!.at).toEqual({ atMobiles: ['13800000000'], atUserIds: [], isAtAll: false });
    expect(text).toMatch(/@13800000000$/);
  });

  it('writes WeCom markdown with coloured status and <@userid> mentions, within 4,096 bytes', () => {
    const many = Array.from({ length: 40 }, (_, i) =>
      alert(`订单-${i}`, { annotations: { summary: '错误率过高', description: '超时'.repeat(300) } }),
    );
    const n = alertNotification(group(many), { config, mentions: { userIds: ['zhangsan'] } });
    const [payload] = posted(wecom, n);
    const content = payload!.markdown!.content as string;
    expect(content.startsWith('**<font color="warning">🔴 [FIRING:40] HighErrorRate</font>**')).toBe(true);
    expect(content).toContain('> Severity: <font color="comment">critical</font>');
    expect(Buffer.byteLength(content)).toBeLessThanOrEqual(4096);
    // Cut on a character boundary, never inside one.
    expect(content).not.toContain('\uFFFD');
    expect(content).toMatch(/<@zhangsan>$/);
  });

  it("quotes a log rule's lines and links to its own search instead of Prometheus", () => {
    const search = 'https://lookout.example/logs?q=OutOfMemoryError&namespace=shop&from=a&to=b';
    const logAlert = alert('order-1', {
      annotations: { summary: 'OutOfMemoryError', log_lines: 'heap space\nmetaspace', logs_url: search },
      generatorURL: search,
    });
    const text = posted(dingtalk, alertNotification(group([logAlert]), { config }))[0]!.markdown!
      .text as string;
    expect(text).toContain('**1. OutOfMemoryError**\n\n> heap space\n> metaspace');
    expect(text).toContain(`[Logs](${search})`);
    expect(text).not.toContain('[Prometheus]');
  });

  it('lists at most maxAlerts alerts and counts the rest', () => {
    const alerts = Array.from({ length: 4 }, (_, i) => alert(`p${i}`));
    const n = alertNotification(group(alerts), { config: { ...config, maxAlerts: 2 } });
    expect(n.text).toContain('2. Error rate above 5%');
    expect(n.text).not.toContain('3. Error rate');
    expect(n.text).toMatch(/… and 2 more$/);
  });

  it('writes resolved groups with their end time and mentions nobody', () => {
    const resolved = alert('order-1', { status: 'resolved', endsAt: '2026-03-01T08:30:00Z' });
    const n = alertNotification(group([resolved]), { config, mentions: { userIds: ['zhangsan'] } });
    const [payload] = posted(wecom, n);
    const content = payload!.markdown!.content as string;
    expect(content.startsWith('**<font color="info">✅ [RESOLVED] HighErrorRate</font>**')).toBe(true);
    expect(content).toContain('> Resolved: <font color="comment">2026-03-01 16:30:00 GMT+8</font>');
    expect(content).toContain('to=2026-03-01T08%3A35%3A00.000Z');
    expect(content).not.toContain('<@zhangsan>');
    expect(n.status).toBe('resolved');
  });

  it("lists a mixed group's firing alerts before its resolved ones", () => {
    const n = alertNotification(
      group([alert('a', { status: 'resolved', endsAt: '2026-03-01T08:10:00Z' }), alert('b')]),
      { config },
    );
    expect(n.title).toBe('[FIRING:1] HighErrorRate');
    expect(n.text).toMatch(
      /1\. Error rate above 5%\nb answers[\s\S]*✅ Resolved[\s\S]*2\. Error rate above 5%\na answers/,
    );
  });

  it("uses a receiver's template for every format, and the default message when it fails", async () => {
    const data = group([alert('a')]);
    const never = () => expect.unreachable();
    const own = await templatedNotification(
      data,
      { config },
      async (d) => ({ title: d.status, text: 'own' }),
      never,
    );
    expect(own.formatted?.['wecom-markdown']).toEqual({ title: 'firing', text: 'own' });
    expect(own.formatted?.markdown).toEqual({ title: 'firing', text: 'own' });
    const errors: string[] = [];
    const fallback = await templatedNotification(
      data,
      { config },
      async () => {
        throw new Error(
          'template: :1:3: executing "" at <.Nope>: can\'t evaluate field Nope in type template.Data',
        );
      },
      (err) => errors.push(err.message),
    );
    expect(fallback.formatted?.markdown?.title).toBe('[FIRING:1] HighErrorRate');
    expect(errors).toEqual([
      'template: :1:3: executing "" at <.Nope>: can\'t evaluate field Nope in type template.Data',
    ]);
  });

  it('links no logs without a namespace and a pod or container', () => {
    const n = alertNotification(group([alert('a', { labels: { alertname: 'NodeDown', node: 'n1' } })]), {
      config,
    });
    expect(n.text).not.toContain('Logs');
  });
});
