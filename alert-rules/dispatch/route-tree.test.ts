import { describe, expect, it } from 'vitest';
import { parseAlertmanagerConfig } from './alertmanager-config.ts';
import { groupKey, groupLabels, RouteTree } from './route-tree.ts';

const tree = (yaml: string) => new RouteTree(parseAlertmanagerConfig(yaml, 'test.yml').route);

const NESTED = `
route:
  receiver: default
  group_by: [alertname]
  routes:
    - matchers: ['team="db"']
      receiver: db
      routes:
        - matchers: ['severity="critical"']
          receiver: db-pager
          continue: true
        - matchers: ['severity=~"critical|warning"']
          receiver: db-chat
        - matchers: ['env="dev"']
          receiver: db-dev
    - matchers: ['team="db"', 'severity="critical"']
      receiver: db-audit
    - matchers: ['service=~"api-.*"']
      receiver: api
      continue: true
    - matchers: ['env!="prod"']
      receiver: nonprod
    - matchers: ['team=""']
      receiver: unowned
`;

const labelsOf = (text: string) => Object.fromEntries(text.split(' ').map((pair) => pair.split('=')));

describe('RouteTree.match', () => {
  // The answers of Alertmanager 0.25's `amtool config routes test` for the same file and labels.
  it.each([
    ['team=db severity=critical', 'db-pager,db-chat'],
    ['team=db severity=warning', 'db-chat'],
    ['team=db severity=info env=dev', 'db-dev'],
    ['team=db severity=info env=prod', 'db'],
    ['service=api-x env=prod team=web', 'api'],
    ['service=api-x env=dev team=web', 'api,nonprod'],
    ['env=prod team=web', 'default'],
    ['env=prod', 'unowned'],
    ['service=api-x env=prod', 'api,unowned'],
  ])('%s → %s', (labels, receivers) => {
    const routes = tree(NESTED).match(labelsOf(labels));
    expect(routes.map((r) => r.receiver).join(',')).toBe(receivers);
  });

  it('inherits receiver, grouping and timings, but not time intervals', () => {
    const routes = tree(`
route:
  receiver: root
  group_by: [alertname]
  group_wait: 1m
  repeat_interval: 12h
  routes:
    - matchers: [team=db]
      group_by: ['...']
      group_interval: 10m
      mute_time_intervals: [nights]
      routes:
        - matchers: [severity=critical]
          receiver: pager
        - matchers: [severity=info]
          group_by: [instance]
time_intervals: [{name: nights, time_intervals: [{times: [{start_time: '00:00', end_time: '06:00'}]}]}]
`);
    const [critical] = routes.match({ team: 'db', severity: 'critical' });
    expect(critical).toMatchObject({
      receiver: 'pager',
      groupBy: 'all',
      groupWaitMs: 60_000,
      groupIntervalMs: 600_000,
      repeatIntervalMs: 43_200_000,
      muteTimeIntervals: [],
      activeTimeIntervals: [],
    });
    const [info] = routes.match({ team: 'db', severity: 'info' });
    expect(info).toMatchObject({ receiver: 'root', groupBy: ['instance'] });
    const [db] = routes.match({ team: 'db' });
    expect(db).toMatchObject({ receiver: 'root', groupBy: 'all', muteTimeIntervals: ['nights'] });
    const [root] = routes.match({ team: 'web' });
    expect(root).toMatchObject({ groupBy: ['alertname'], groupIntervalMs: 300_000 });
  });

  it('gives stable ids that change with the route settings', () => {
    const before = tree(NESTED).match(labelsOf('team=db severity=critical'));
    const again = tree(NESTED).match(labelsOf('team=db severity=critical'));
    expect(before.map((r) => r.id)).toEqual(again.map((r) => r.id));
    expect(before[0]!.id).toMatch(/^0\.0\.0-[0-9a-f]{12}$/);
    expect(before[1]!.id).toMatch(/^0\.0\.1-/);
    const changed = tree(NESTED.replace('receiver: db-pager', 'receiver: db-pager-2'));
    const after = changed.match(labelsOf('team=db severity=critical'));
    expect(after[0]!.id).not.toBe(before[0]!.id);
    expect(after[1]!.id).toBe(before[1]!.id);
    // A change above a route changes what it inherits, so its id too.
    const regrouped = tree(NESTED.replace('group_by: [alertname]', 'group_by: [cluster]'));
    expect(regrouped.match(labelsOf('team=db severity=critical'))[1]!.id).not.toBe(before[1]!.id);
  });

  it('lists every route', () => {
    expect(
      tree(NESTED)
        .routes()
        .map((r) => r.id.split('-')[0]),
    ).toEqual(['0', '0.0', '0.0.0', '0.0.1', '0.0.2', '0.1', '0.2', '0.3', '0.4']);
  });
});

describe('groups', () => {
  it('take the grouping labels, or all with ...', () => {
    const labels = { alertname: 'DiskFull', instance: 'db-1', team: 'db', empty: '' };
    expect(groupLabels({ groupBy: ['alertname', 'cluster'] }, labels)).toEqual({ alertname: 'DiskFull' });
    expect(groupLabels({ groupBy: 'all' }, labels)).toEqual({
      alertname: 'DiskFull',
      instance: 'db-1',
      team: 'db',
    });
    expect(groupLabels({ groupBy: [] }, labels)).toEqual({});
  });

  it("have Alertmanager's group keys", () => {
    const routes = tree(NESTED);
    const labels = { team: 'db', severity: 'critical', alertname: 'DiskFull' };
    const [pager] = routes.match(labels);
    expect(pager!.key).toBe('{}/{team="db"}/{severity="critical"}');
    expect(groupKey(pager!, labels)).toBe('{}/{team="db"}/{severity="critical"}:{alertname="DiskFull"}');
    expect(routes.groupKey(pager!, labels)).toBe(groupKey(pager!, labels));
    const [root] = routes.match({ team: 'web', env: 'prod' });
    expect(groupKey(root!, { team: 'web', env: 'prod' })).toBe('{}:{}');
    const all = tree('route:\n  receiver: a\n  group_by: ["..."]\n').match({ b: '2', a: '1"' });
    expect(groupKey(all[0]!, { b: '2', a: '1"' })).toBe('{}:{a="1\\"", b="2"}');
  });

  it('print matchers sorted, as Alertmanager does in route keys', () => {
    const routes = tree(NESTED);
    const [audit] = routes.match({ team: 'db', severity: 'critical', env: 'x' }).slice(-1);
    expect(audit!.receiver).toBe('db-chat');
    const audited = tree(NESTED.replace('receiver: db\n', 'receiver: db\n      continue: true\n'));
    const last = audited.match({ team: 'db', severity: 'critical' }).at(-1)!;
    expect(last.receiver).toBe('db-audit');
    expect(last.key).toBe('{}/{severity="critical",team="db"}');
  });
});
