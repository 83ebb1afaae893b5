import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/fixtures/manual-clock.ts';
import type { Notification } from '../../notify/message.ts';
import { DocumentFile } from '../../notify/outbox/document.ts';
import { captureLog } from '../../test/robots/harness.ts';
import type { Labels, PostableAlert } from '../types.ts';
import { type AlertmanagerConfig, parseAlertmanagerConfig } from './alertmanager-config.ts';
import { AlertDispatcher, type AlertMutes, type ReceiverTarget } from './dispatcher.ts';
import { Inhibitor } from './inhibit.ts';
import { DEFAULT_ALERT_MESSAGES } from './messages/config.ts';
import { NotificationLog } from './notification-log.ts';
import { RouteTree } from './route-tree.ts';
import { FileSilenceStore } from './silence-store.ts';
import { Silences, silencesSchema } from './silences.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const T0 = Date.parse('2026-03-01T08:00:00Z');

/** An Alertmanager configuration: its route tree, inhibit rules and time intervals are the real ones. */
function alertmanager(extra = '', routes = ''): AlertmanagerConfig {
  return parseAlertmanagerConfig(
    `route:
  receiver: team
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 1h
${routes}
${extra}`,
    'alertmanager.yml',
  );
}

/** A configuration whose one child route mutes or activates by one interval of every day, in UTC. */
function withInterval(setting: 'mute_time_intervals' | 'active_time_intervals', start: string, end: string) {
  return alertmanager(
    `time_intervals:
  - name: window
    time_intervals:
      - times: [{ start_time: '${start}', end_time: '${end}' }]`,
    `  routes:
    - ${setting}: [window]`,
  );
}

interface Sent {
  at: number;
  robots: readonly string[];
  n: Notification;
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lookout-dispatch-'));
  dirs.push(dir);
  return dir;
}

function setup(
  options: {
    config?: AlertmanagerConfig;
    receivers?: Record<string, ReceiverTarget>;
    silences?: AlertMutes['silences'];
    dataDir?: string;
    clock?: ManualClock;
    maxAlerts?: number;
  } = {},
) {
  const clock = options.clock ?? new ManualClock(T0);
  const { log } = captureLog();
  const sent: Sent[] = [];
  const receivers = options.receivers ?? { team: { robots: ['ops'], sendResolved: true } };
  const document = options.dataDir
    ? new DocumentFile(join(options.dataDir, 'notifications.json'), 'notification log', log)
    : undefined;
  const notificationLog = new NotificationLog({ document, retentionMs: 120 * HOUR, maxEntries: 1000, log });
  const config = options.config ?? alertmanager();
  const tree = new RouteTree(config.route);
  const dispatcher = new AlertDispatcher({
    routing: tree,
    receiver: (name) => receivers[name],
    chat: {
      send: (robots, n) => {
        sent.push({ at: clock.now() - T0, robots, n });
        return { queued: [...robots], dropped: [] };
      },
    },
    notificationLog,
    messages: DEFAULT_ALERT_MESSAGES,
    externalURL: 'http://lookout.example',
    mutes: {
      silences: options.silences,
      inhibitor: new Inhibitor(config.inhibitRules),
      timeIntervals: () => config.timeIntervals,
    },
    settings: { maxAlerts: options.maxAlerts ?? 100 },
    clock,
    log,
  });
  /** Alerts as a Prometheus evaluating every minute has them: each is posted again at every evaluation. */
  const active = new Map<string, PostableAlert>();
  const fire = (labels: Labels, annotations: Labels = {}) => {
    const key = JSON.stringify(labels);
    const startsAt = active.get(key)?.startsAt ?? new Date(clock.now()).toISOString();
    active.set(key, {
      labels,
      annotations,
      startsAt,
      endsAt: '',
      generatorURL: 'http://prometheus:9090/graph',
    });
  };
  const resolve = (labels: Labels) => {
    const alert = active.get(JSON.stringify(labels));
    if (alert) alert.endsAt = new Date(clock.now()).toISOString();
  };
  const evaluate = () => {
    const now = clock.now();
    dispatcher.send(
      [...active.values()].map((a) => ({
        ...a,
        // Prometheus's ValidUntil: four evaluation intervals ahead while firing.
        endsAt: a.endsAt === '' ? new Date(now + 4 * MINUTE).toISOString() : a.endsAt,
      })),
    );
  };
  /** Evaluates every minute (first at once) for `ms`. */
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += MINUTE) {
      evaluate();
      await clock.advance(Math.min(MINUTE, ms - t));
    }
  };
  const stop = () => active.clear();
  const titles = () => sent.map((s) => [s.at / SECOND, s.n.title]);
  return { clock, sent, titles, dispatcher, notificationLog, fire, resolve, run, stop, active };
}

/** Down on pods a and b from 0s; a resolves at 1m, b at 6m; then evaluations go on for `after`. */
async function resolveOneByOne(bed: ReturnType<typeof setup>, after: number): Promise<void> {
  bed.fire({ alertname: 'Down', pod: 'a' });
  bed.fire({ alertname: 'Down', pod: 'b' });
  await bed.run(MINUTE);
  bed.resolve({ alertname: 'Down', pod: 'a' });
  await bed.run(5 * MINUTE);
  bed.resolve({ alertname: 'Down', pod: 'b' });
  await bed.run(after);
}

describe('AlertDispatcher', () => {
  it('tells a group after group_wait, new alerts at the next group interval, and repeats after repeat_interval', async () => {
    const { fire, run, titles } = setup();
    fire({ alertname: 'HighLatency', pod: 'a' });
    await run(MINUTE);
    fire({ alertname: 'HighLatency', pod: 'b' });
    await run(70 * MINUTE);
    expect(titles()).toEqual([
      [30, '[FIRING:1] HighLatency'],
      // pod b joined at 1m: told at the next tick (5m30s), not at once and not after a new group_wait.
      [330, '[FIRING:2] HighLatency'],
      // Nothing new: told again once repeat_interval (1h) has passed, at a group interval tick.
      [330 + 3600, '[FIRING:2] HighLatency'],
    ]);
  });

  it('on a reload regroups: nothing told again, nothing read as resolved, a moved alert told to its new receiver', async () => {
    const { fire, run, sent, dispatcher } = setup({
      receivers: {
        team: { robots: ['ops'], sendResolved: true },
        dba: { robots: ['dba'], sendResolved: true },
      },
    });
    fire({ alertname: 'Down', pod: 'a' });
    fire({ alertname: 'Lag', cluster: 'db-1' });
    await run(MINUTE);
    const dba = alertmanager('', `  routes:\n    - matchers: ['cluster=~"db-.*"']\n      receiver: dba`);
    dispatcher.reload(new RouteTree(dba.route));
    await run(20 * MINUTE);
    expect(sent.map((s) => [s.at / SECOND, s.robots[0], s.n.title]).sort()).toEqual([
      [30, 'ops', '[FIRING:1] Down'],
      [30, 'ops', '[FIRING:1] Lag'],
      // Older than group_wait: its new group is told at once.
      [60, 'dba', '[FIRING:1] Lag'],
    ]);
  });

  it('tells an alert older than group_wait at once, as after a restart of the evaluator', async () => {
    const { dispatcher, titles, clock } = setup();
    const startsAt = new Date(T0 - 10 * MINUTE).toISOString();
    const endsAt = new Date(T0 + 4 * MINUTE).toISOString();
    dispatcher.send([{ labels: { alertname: 'Old' }, annotations: {}, startsAt, endsAt, generatorURL: '' }]);
    await clock.advance(0);
    expect(titles()).toEqual([[0, '[FIRING:1] Old']]);
  });

  it('sends to every route an alert matches with continue, each with its own receiver and timing', async () => {
    const { fire, run, sent } = setup({
      config: alertmanager(
        '',
        `  routes:
    - matchers: ['cluster=~"db-.*"']
      receiver: dba
      group_wait: 10s
      continue: true
    - receiver: team`,
      ),
      receivers: {
        team: { robots: ['ops'], sendResolved: true },
        dba: { robots: ['dba-wecom', 'dba-dingtalk'], sendResolved: true },
      },
    });
    fire({ alertname: 'ReplicationLag', cluster: 'db-1' });
    await run(MINUTE);
    expect(sent.map((s) => [s.at / SECOND, s.robots])).toEqual([
      [10, ['dba-wecom', 'dba-dingtalk']],
      [30, ['ops']],
    ]);
  });

  it('groups by all labels with group_by "..."', async () => {
    const { fire, run, titles } = setup({
      config: alertmanager('', "  routes:\n    - group_by: ['...']"),
    });
    fire({ alertname: 'DiskFull', node: 'n1' });
    fire({ alertname: 'DiskFull', node: 'n2' });
    await run(MINUTE);
    expect(titles()).toEqual([
      [30, '[FIRING:1] DiskFull'],
      [30, '[FIRING:1] DiskFull'],
    ]);
  });

  it('tells when alerts resolve, and forgets the group', async () => {
    const bed = setup();
    await resolveOneByOne(bed, 10 * MINUTE);
    const { titles, sent, dispatcher } = bed;
    expect(titles()).toEqual([
      [30, '[FIRING:2] Down'],
      [330, '[FIRING:1] Down'],
      [630, '[RESOLVED] Down'],
    ]);
    expect(sent[1]!.n.text).toContain('Resolved');
    expect(sent[2]!.n.status).toBe('resolved');
    // Prometheus still posts the resolved alerts for a while: they are told no more.
    expect(dispatcher.size).toBe(0);
  });

  it('without send_resolved tells only firing changes, and never an all-resolved group', async () => {
    const bed = setup({ receivers: { team: { robots: ['ops'], sendResolved: false } } });
    await resolveOneByOne(bed, 70 * MINUTE);
    expect(bed.titles()).toEqual([[30, '[FIRING:2] Down']]);
  });

  it('resolves an alert whose end passes without news, as when its rule is removed', async () => {
    const { fire, run, stop, titles, clock } = setup();
    fire({ alertname: 'Gone' });
    await run(MINUTE);
    stop();
    await clock.advance(20 * MINUTE);
    expect(titles()).toEqual([
      [30, '[FIRING:1] Gone'],
      // Last posted at 0s with an end 4 minutes ahead: resolved at the first tick after (5m30s).
      [330, '[RESOLVED] Gone'],
    ]);
  });

  it('leaves silenced alerts out and tells them at the next group interval once the silence ends', async () => {
    const clock = new ManualClock(T0);
    const silences = await Silences.open({
      store: new FileSilenceStore(tempDir()),
      settings: silencesSchema.parse({}),
      log: captureLog().log,
      clock,
    });
    await silences.set({
      matchers: [{ name: 'pod', value: 'b', isRegex: false, isEqual: true }],
      startsAt: T0,
      endsAt: T0 + 2 * MINUTE,
      createdBy: 'on-call',
      comment: 'b is being replaced',
    });
    const { fire, run, titles } = setup({ clock, silences });
    fire({ alertname: 'Down', pod: 'a' });
    fire({ alertname: 'Down', pod: 'b' });
    await run(7 * MINUTE);
    expect(titles()).toEqual([
      [30, '[FIRING:1] Down'],
      [330, '[FIRING:2] Down'],
    ]);
    await silences.flush();
  });

  it('leaves out alerts inhibited by a firing alert, and tells them once it resolves', async () => {
    const { fire, resolve, run, titles, sent } = setup({
      config: alertmanager(`inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [cluster]`),
    });
    fire({ alertname: 'ClusterDown', cluster: 'c1', severity: 'critical' });
    fire({ alertname: 'PodSlow', cluster: 'c1', severity: 'warning' });
    await run(MINUTE);
    resolve({ alertname: 'ClusterDown', cluster: 'c1', severity: 'critical' });
    await run(5 * MINUTE);
    expect(titles().sort()).toEqual([
      [30, '[FIRING:1] ClusterDown'],
      [330, '[FIRING:1] PodSlow'],
      [330, '[RESOLVED] ClusterDown'],
    ]);
    expect(sent.map((s) => s.n.title)).not.toContain('[FIRING:2] PodSlow');
  });

  it('tells nothing while a mute time interval is active, then tells at the next group interval', async () => {
    const { fire, run, titles } = setup({ config: withInterval('mute_time_intervals', '08:00', '08:03') });
    fire({ alertname: 'Batch' });
    await run(6 * MINUTE);
    expect(titles()).toEqual([[330, '[FIRING:1] Batch']]);
  });

  it('tells only inside its active time intervals', async () => {
    const { fire, run, titles } = setup({ config: withInterval('active_time_intervals', '08:10', '18:00') });
    fire({ alertname: 'Batch' });
    await run(12 * MINUTE);
    expect(titles()).toEqual([[630, '[FIRING:1] Batch']]);
  });

  // The log is fsynced to disk, which is slow on a busy machine: hence the longer timeout.
  it('after a restart repeats nothing inside repeat_interval and still tells the resolve', async () => {
    const dataDir = tempDir();
    const first = setup({ dataDir });
    first.fire({ alertname: 'Down', pod: 'a' });
    await first.run(2 * MINUTE);
    await first.dispatcher.stop();
    expect(first.titles()).toEqual([[30, '[FIRING:1] Down']]);

    // A new process a minute later; the evaluator, restored too, posts the same alert again.
    const clock = new ManualClock(first.clock.now() + MINUTE);
    const second = setup({ dataDir, clock });
    for (const [key, alert] of first.active) second.active.set(key, alert);
    await second.run(20 * MINUTE);
    expect(second.titles()).toEqual([]);
    second.resolve({ alertname: 'Down', pod: 'a' });
    await second.run(10 * MINUTE);
    expect(second.sent.map((s) => s.n.title)).toEqual(['[RESOLVED] Down']);
    await second.dispatcher.stop();
  }, 20_000);

  it('drops alerts without labels or with an end before the start, and over the cap', async () => {
    const { dispatcher, clock, titles } = setup({ maxAlerts: 2 });
    const at = (ms: number) => new Date(T0 + ms).toISOString();
    const alert = (labels: Labels, startsAt = at(0), endsAt = at(4 * MINUTE)) => ({
      labels,
      annotations: {},
      startsAt,
      endsAt,
      generatorURL: '',
    });
    dispatcher.send([
      alert({}),
      alert({ alertname: 'Bad' }, at(MINUTE), at(0)),
      alert({ alertname: 'One' }),
      alert({ alertname: 'Two' }),
      alert({ alertname: 'Three' }),
    ]);
    await clock.advance(MINUTE);
    expect(titles()).toEqual([
      [30, '[FIRING:1] One'],
      [30, '[FIRING:1] Two'],
    ]);
  });
});
