import { describe, expect, it } from 'vitest';
import { ConfigInvalidError } from '../../core/config.ts';
import { parseAlertmanagerConfig } from './alertmanager-config.ts';

function errorsOf(text: string): string[] {
  try {
    parseAlertmanagerConfig(text, 'alertmanager.yml');
  } catch (err) {
    if (err instanceof ConfigInvalidError) return err.errors.map((e) => `${e.path}: ${e.message}`);
    throw err;
  }
  return [];
}

describe('parseAlertmanagerConfig', () => {
  it('reads a typical file with Alertmanager defaults on the root', () => {
    const config = parseAlertmanagerConfig(
      `
global:
  resolve_timeout: 5m
templates: ['/etc/alertmanager/*.tmpl']
route:
  receiver: ops
  group_by: [alertname, cluster]
  routes:
    - matchers: ['severity="critical"', 'team=~"db|storage"']
      receiver: dba
      group_by: ['...']
      group_wait: 10s
      continue: true
      mute_time_intervals: [nights]
    - match: {team: web}
      match_re: {service: "front.*"}
      receiver: web
      active_time_intervals: [office]
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [alertname, cluster]
  - source_match: {alertname: NodeDown}
    target_match_re: {alertname: ".+"}
receivers:
  - name: ops
  - name: dba
    email_configs: [{to: dba@example.com}]
  - name: web
time_intervals:
  - name: office
    time_intervals:
      - weekdays: ['monday:friday']
        times: [{start_time: '09:00', end_time: '18:00'}]
        location: Asia/Shanghai
mute_time_intervals:
  - name: nights
    time_intervals:
      - times: [{start_time: '00:00', end_time: '07:00'}]
`,
      'alertmanager.yml',
    );
    expect(config.route).toMatchObject({
      receiver: 'ops',
      groupBy: ['alertname', 'cluster'],
      groupWaitMs: 30_000,
      groupIntervalMs: 300_000,
      repeatIntervalMs: 14_400_000,
      matchers: [],
    });
    const [dba, web] = config.route.routes;
    expect(dba).toMatchObject({
      receiver: 'dba',
      groupBy: 'all',
      groupWaitMs: 10_000,
      groupIntervalMs: undefined,
      continue: true,
      muteTimeIntervals: ['nights'],
    });
    expect(dba!.matchers.map((m) => `${m.name}${m.type}${m.value}`)).toEqual([
      'severity=critical',
      'team=~db|storage',
    ]);
    expect(web!.matchers.map((m) => `${m.name}${m.type}${m.value}`)).toEqual([
      'team=web',
      'service=~front.*',
    ]);
    expect(web!.activeTimeIntervals).toEqual(['office']);
    expect(config.inhibitRules).toHaveLength(2);
    expect(config.inhibitRules[0]!.equal).toEqual(['alertname', 'cluster']);
    expect(config.inhibitRules[1]!.targetMatchers[0]).toMatchObject({
      name: 'alertname',
      type: '=~',
      value: '.+',
    });
    expect(config.receivers).toEqual(['ops', 'dba', 'web']);
    expect([...config.timeIntervals.keys()]).toEqual(['office', 'nights']);
    expect(config.warnings).toEqual([
      'receivers[1] (dba): email_configs ignored; the receiver name picks a chat robot',
    ]);
  });

  it('takes any receiver name when there is no receivers section', () => {
    const config = parseAlertmanagerConfig('route:\n  receiver: team-robot\n', 'x');
    expect(config.receivers).toBeUndefined();
    expect(config.inhibitRules).toEqual([]);
  });

  it('refuses what Alertmanager refuses, with paths', () => {
    expect(
      errorsOf(`
route:
  matchers: ['a="b"']
  mute_time_intervals: [nights]
  routes:
    - receiver: missing
      group_by: [a, a]
      group_interval: 0s
    - group_by: ['...', b]
      matchers: ['x=~"(y"']
      repeat_interval: soon
      active_time_intervals: [nowhere]
receivers: [{name: ops}, {name: ops}]
time_intervals: [{name: nights, time_intervals: []}]
mute_time_intervals: [{name: nights, time_intervals: []}]
`),
    ).toEqual([
      'route.receiver: root route must specify a default receiver',
      'route: root route must not have any matchers',
      'route.mute_time_intervals: root route must not have any mute time intervals',
      'route.routes[0].group_by[1]: duplicated label "a" in group_by',
      'route.routes[0].group_interval: cannot be zero',
      "route.routes[1].group_by: cannot have wildcard group_by ('...') and other labels at the same time",
      'route.routes[1].matchers[0]: invalid matchers "x=~\\"(y\\"": matcher x=~"(y": invalid regular expression "(y": missing closing )',
      'route.routes[1].repeat_interval: not a valid duration string: "soon"; expected a duration like "30s" or "1h30m"',
      'mute_time_intervals[0].name: time interval "nights" is not unique',
      'receivers[1].name: receiver "ops" is not unique',
      'route.routes[0].receiver: undefined receiver "missing" used in route',
      'route.routes[1].active_time_intervals[0]: undefined time interval "nowhere" used in route',
    ]);
  });

  it('is strict about unknown keys in the sections it implements', () => {
    expect(
      errorsOf('route:\n  receiver: a\n  group_wiat: 1m\ninhibit_rules: [{equals: [a]}]\nunknown: 1\n'),
    ).toEqual([
      'route.group_wiat: unknown key',
      'inhibit_rules[0].equals: unknown key',
      'unknown: unknown key',
    ]);
  });

  it('reports YAML errors and a missing route', () => {
    expect(errorsOf('route: [')[0]).toMatch(/^line 1: /);
    expect(errorsOf('inhibit_rules: []\n')).toContain('route: no routes provided');
  });

  it('warns when repeat_interval is below group_interval', () => {
    const config = parseAlertmanagerConfig(
      'route:\n  receiver: a\n  group_interval: 10m\n  repeat_interval: 5m\n',
      'x',
    );
    expect(config.warnings).toEqual([
      'route: repeat_interval is less than group_interval; notifications will not repeat until the next group_interval',
    ]);
  });
});
