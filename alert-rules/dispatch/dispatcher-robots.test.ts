import { describe, expect, it } from 'vitest';
import { captureLog, useRobotBed } from '../../test/robots/harness.ts';
import { eventually } from '../../test/support/lookout-process.ts';
import { parseAlertmanagerConfig } from './alertmanager-config.ts';
import { AlertDispatcher, robotReceiver } from './dispatcher.ts';
import { DEFAULT_ALERT_MESSAGES } from './messages/config.ts';
import { NotificationLog } from './notification-log.ts';
import { RouteTree } from './route-tree.ts';

const bed = useRobotBed();

describe('AlertDispatcher through the chat robots', () => {
  it('tells a firing and then a resolved group to DingTalk and WeCom, mentioning on the firing one', async () => {
    const { log } = captureLog();
    const robots = await bed.chat({
      ding: bed.server.dingtalk({ name: 'ding', secret: 'SEC-dispatch-test' }),
      wc: bed.server.wecom({ name: 'wc' }),
    });
    // Each receiver is the robot of its name; the alert goes to both with continue.
    const config = `route:
  receiver: ding
  group_by: [alertname]
  routes:
    - receiver: wc
      continue: true
    - receiver: ding`;
    const tree = new RouteTree(parseAlertmanagerConfig(config, 'alertmanager.yml').route);
    const dispatcher = new AlertDispatcher({
      routing: tree,
      receiver: (name) => ({ ...robotReceiver(name), mentions: { userIds: ['zhangsan'] } }),
      chat: robots.chat,
      notificationLog: new NotificationLog({ retentionMs: 3_600_000, maxEntries: 100, log }),
      messages: { ...DEFAULT_ALERT_MESSAGES, logSearchUrl: 'https://lookout.example' },
      externalURL: 'https://lookout.example',
      clock: bed.clock,
      log,
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
    expect(firing!.markdown.text).toContain(
      '[Logs](https://lookout.example/api/logs/search?namespace=shop&pod=api-1',
    );
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
