import { describe, expect, it } from 'vitest';
import { Metrics } from '../../core/metrics.ts';
import { captureLog, useRobotBed } from '../../test/robots/harness.ts';
import { eventually } from '../../test/support/lookout-process.ts';
import { DEFAULT_TEMPLATE_SETTINGS } from '../rules/template/expand.ts';
import { parseAlertmanagerConfig } from './alertmanager-config.ts';
import { AlertDispatcher, type DispatcherOptions, type ReceiverTarget, robotReceiver } from './dispatcher.ts';
import { DEFAULT_ALERT_MESSAGES } from './messages/config.ts';
import { TEMPLATE_FIXTURES } from './messages/fixtures/templates.ts';
import { compileMessageTemplates, loadTemplateFiles } from './messages/message-template.ts';
import { NotificationLog } from './notification-log.ts';
import { RouteTree } from './route-tree.ts';

const bed = useRobotBed();

/** The robots `ding` (DingTalk) and `wc` (WeCom), told by a dispatcher with the routes of an Alertmanager file. */
async function dispatching(
  config: string,
  options: Pick<DispatcherOptions, 'receiver'> & Partial<DispatcherOptions>,
) {
  const { log, records } = captureLog();
  const robots = await bed.chat({
    ding: bed.server.dingtalk({ name: 'ding', secret: 'SEC-dispatch-test' }),
    wc: bed.server.wecom({ name: 'wc' }),
  });
  const dispatcher = new AlertDispatcher({
    routing: new RouteTree(parseAlertmanagerConfig(config, 'alertmanager.yml').route),
    chat: robots.chat,
    notificationLog: new NotificationLog({ retentionMs: 3_600_000, maxEntries: 100, log }),
    messages: DEFAULT_ALERT_MESSAGES,
    externalURL: 'https://lookout.example',
    clock: bed.clock,
    log,
    ...options,
  });
  return { dispatcher, records };
}

describe('AlertDispatcher through the chat robots', () => {
  it('tells a firing and then a resolved group to DingTalk and WeCom, mentioning on the firing one', async () => {
    // Each receiver is the robot of its name; the alert goes to both with continue.
    const config = `route:
  receiver: ding
  group_by: [alertname]
  routes:
    - receiver: wc
      continue: true
    - receiver: ding`;
    const { dispatcher } = await dispatching(config, {
      receiver: (name) => ({ ...robotReceiver(name), mentions: { userIds: ['zhangsan'] } }),
      messages: { ...DEFAULT_ALERT_MESSAGES, logSearchUrl: 'https://lookout.example' },
    });
    const now = bed.clock.now();
    // Posted once: its end, four minutes ahead, passes and it resolves.
    dispatcher.send([
      {
        labels: {
          alertname: 'PodCrashLooping',
          severity: 'critical',
          namespace: 'shop',
          pod: 'api-1',
          mentions: '13800000000',
        },
        annotations: { summary: 'api-1 keeps restarting', description: 'exit code 137 (out of memory)' },
        startsAt: new Date(now).toISOString(),
        endsAt: new Date(now + 4 * 60_000).toISOString(),
        generatorURL: 'http://prometheus:9090/graph',
      },
    ]);
    const ding = await eventually(
      async () => bed.server.accepted('ding'),
      (accepted) => accepted.length === 2,
      'the firing and the resolved message at DingTalk',
    );
    const [firing, resolved] = ding.map((m) => m.body as { markdown: { text: string }; at?: object });
    expect(firing!.markdown.text).toContain('### 🔴 [FIRING:1] PodCrashLooping');
    expect(firing!.markdown.text).toContain('[Logs](https://lookout.example/logs?namespace=shop&pod=api-1');
    expect(firing!.markdown.text).toMatch(/@13800000000 @zhangsan$/);
    expect(firing!.at).toEqual({ atMobiles: ['13800000000'], atUserIds: ['zhangsan'], isAtAll: false });
    expect(resolved!.markdown.text).toContain('✅ [RESOLVED] PodCrashLooping');
    expect(resolved!.at).toBeUndefined();

    const wecom = await eventually(
      async () => bed.server.accepted('wc').map((m) => m.text),
      (texts) => texts.length === 2,
      'the firing and the resolved message at WeCom',
    );
    expect(wecom[0]).toContain('**<font color="warning">🔴 [FIRING:1] PodCrashLooping</font>**');
    expect(wecom[0]).toMatch(/<@zhangsan>$/);
    expect(wecom[0]).not.toContain('13800000000');
    expect(wecom[1]).toContain('✅ [RESOLVED] PodCrashLooping');
    await dispatcher.stop();
  });
});

describe("AlertDispatcher with receivers' own message templates", () => {
  it('sends the template as written to DingTalk and WeCom, and the default message when a template fails', async () => {
    const metrics = new Metrics({ defaults: false });
    const files = await loadTemplateFiles(['dingtalk.tmpl'], { baseDir: TEMPLATE_FIXTURES });
    const templates = compileMessageTemplates(
      files,
      {
        sre: {
          message: {
            title: '{{ template "ding.link.title" . }}',
            text: '{{ template "ding.link.content" . }}',
          },
        },
        // Alertmanager's data has no .Labels: this one fails at every send.
        broken: { message: { text: '{{ .Labels.alertname }}' } },
      },
      'alertRules.routing.receivers',
      { settings: DEFAULT_TEMPLATE_SETTINGS },
    );
    const receivers: Record<string, ReceiverTarget> = {
      sre: { robots: ['ding', 'wc'], sendResolved: true, template: templates.get('sre') },
      broken: { robots: ['ding'], sendResolved: true, template: templates.get('broken') },
    };
    const config = `route:
  receiver: sre
  group_by: [alertname]
  routes:
    - receiver: sre
      continue: true
    - receiver: broken`;
    const { dispatcher, records } = await dispatching(config, {
      receiver: (name) => receivers[name],
      metrics,
    });
    const startsAt = bed.clock.now();
    dispatcher.send([
      {
        labels: { alertname: 'DiskFull', severity: 'critical', instance: 'db-1' },
        annotations: { summary: 'db-1 disk 95% full', description: '5 GiB left on /data' },
        startsAt: new Date(startsAt).toISOString(),
        endsAt: new Date(startsAt + 10 * 60_000).toISOString(),
        generatorURL: '',
      },
    ]);
    const ding = await eventually(
      async () => bed.server.accepted('ding'),
      (accepted) => accepted.length === 4,
      "the receivers' firing and resolved messages at DingTalk",
    );
    const markdowns = ding.map((m) => (m.body as { markdown: { title: string; text: string } }).markdown);
    expect(markdowns.map((m) => m.title)).toContain('[RESOLVED] DiskFull');
    const own = markdowns.find((m) => m.text.startsWith('#### [FIRING:1]'));
    expect(own?.title).toBe('[FIRING:1] DiskFull');
    expect(own?.text).toBe(`#### [FIRING:1] [DiskFull](https://lookout.example/#/alerts?receiver=sre)
### Firing

**db-1 disk 95% full** (CRITICAL)

5 GiB left on /data

> - instance: db-1
Started: ${new Date(startsAt).toISOString().replace('T', ' ').slice(0, 19)}

`);
    const wecom = await eventually(
      async () => bed.server.accepted('wc').map((m) => m.text),
      (texts) => texts.length === 2,
      "the receiver's firing and resolved messages at WeCom",
    );
    expect(wecom[0]).toBe(own?.text);
    // The broken receiver's firing and resolved messages are the default ones, each failure counted and logged.
    expect(markdowns.map((m) => m.text)).toContainEqual(
      expect.stringContaining('### 🔴 [FIRING:1] DiskFull'),
    );
    expect(await metrics.text()).toContain(
      'lookout_alert_rules_message_template_failures_total{source="routing",name="broken"} 2',
    );
    expect(records()).toContainEqual(
      expect.objectContaining({
        receiver: 'broken',
        error:
          'template: :1:10: executing "" at <.Labels.alertname>: can\'t evaluate field Labels in type template.Data',
        msg: "receiver's message template failed; sent the default message",
      }),
    );
    await dispatcher.stop();
  });
});
