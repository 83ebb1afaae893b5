import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpApp, type HttpApp } from '../../core/http.ts';
import { httpSchema } from '../../core/http-config.ts';
import { createLogger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import type { AlertGroupsAnswer, ApiAlert } from '../api-types.ts';
import { parseAlertmanagerConfig } from '../dispatch/alertmanager-config.ts';
import { labelsFingerprint } from '../dispatch/fingerprint.ts';
import { Inhibitor } from '../dispatch/inhibit.ts';
import { RouteTree } from '../dispatch/route-tree.ts';
import type { Labels } from '../types.ts';
import { registerRulesApi } from './rules-api.ts';

const VIEWER = 'viewer-token-0123456789';
const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

const AM = parseAlertmanagerConfig(
  `
route:
  receiver: oncall
  group_by: [alertname]
  routes:
    - matchers: ['team="db"']
      receiver: db
      group_by: [team]
    - matchers: ['severity="critical"']
      receiver: pager
      continue: true
    - matchers: ['severity=~"critical|warning"']
      receiver: chat
inhibit_rules:
  - source_matchers: ['alertname="DatacenterDown"']
    target_matchers: ['severity="warning"']
    equal: [dc]
`,
  'am.yml',
);

function alert(labels: Labels, state = 'firing', activeAt = '2026-12-03T10:00:00Z'): ApiAlert {
  return { labels, annotations: { summary: `${labels.alertname} summary` }, state, activeAt, value: '1e+00' };
}

const ALERTS = [
  alert({ alertname: 'DiskFull', instance: 'db-2', team: 'db' }, 'firing', '2026-12-03T10:05:00Z'),
  alert({ alertname: 'DiskFull', instance: 'db-1', team: 'db' }),
  alert({ alertname: 'HighErrors', service: 'checkout', severity: 'critical' }),
  alert({ alertname: 'SlowQueries', dc: 'east', severity: 'warning' }, 'pending'),
  alert({ alertname: 'DatacenterDown', dc: 'east', severity: 'page' }),
];
const EXTERNAL = { cluster: 'prod-1' };

let http: HttpApp | undefined;
afterEach(async () => {
  await http?.close();
  http = undefined;
});

/** The API over the alerts above, with silence-1 muting db-2 and the routing's inhibition when `routing`. */
async function start(routing = true): Promise<string> {
  const config = httpSchema.parse({
    listen: '127.0.0.1:0',
    auth: { tokens: [{ name: 'viewer', token: VIEWER, role: 'viewer' }] },
  });
  http = createHttpApp({ config, log: silent, metrics: new Metrics({ defaults: false }) });
  const inhibitor = new Inhibitor(AM.inhibitRules);
  const sentLabels = (labels: Labels) => ({ ...EXTERNAL, ...labels });
  inhibitor.setAlerts(
    ALERTS.map((a) => sentLabels(a.labels)).map((labels) => ({
      labels,
      fingerprint: labelsFingerprint(labels),
    })),
  );
  registerRulesApi(http.app, {
    alerts: () => ({ alerts: ALERTS }),
    rules: () => undefined,
    recommendations: () => [],
    tree: () => (routing ? new RouteTree(AM.route) : undefined),
    sentLabels,
    mutedBy: (labels) => ({
      silencedBy: labels.instance === 'db-2' && labels.cluster === 'prod-1' ? ['silence-1'] : [],
      inhibitedBy: routing ? inhibitor.inhibitedBy(labels) : [],
    }),
  });
  return http.listen();
}

async function groups(base: string, query = ''): Promise<AlertGroupsAnswer> {
  const response = await fetch(`${base}/api/alerts/groups${query}`, {
    headers: { authorization: `Bearer ${VIEWER}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as AlertGroupsAnswer;
}

const summary = (answer: AlertGroupsAnswer) =>
  answer.groups.map((g) => ({
    receiver: g.receiver,
    labels: g.labels,
    alerts: g.alerts.map(
      (a) => `${a.labels.alertname}/${a.labels.instance ?? a.labels.dc ?? a.labels.service}`,
    ),
  }));

describe('GET /api/alerts/groups', () => {
  it('groups alerts as the routes do, an alert in each group its routes give, firing first and oldest first', async () => {
    const answer = await groups(await start());
    expect(answer.routing).toBe(true);
    expect(summary(answer)).toEqual([
      { receiver: 'oncall', labels: { alertname: 'DatacenterDown' }, alerts: ['DatacenterDown/east'] },
      { receiver: 'pager', labels: { alertname: 'HighErrors' }, alerts: ['HighErrors/checkout'] },
      { receiver: 'chat', labels: { alertname: 'HighErrors' }, alerts: ['HighErrors/checkout'] },
      { receiver: 'chat', labels: { alertname: 'SlowQueries' }, alerts: ['SlowQueries/east'] },
      { receiver: 'db', labels: { team: 'db' }, alerts: ['DiskFull/db-1', 'DiskFull/db-2'] },
    ]);
    expect(answer.groups[4]!.route).toBe('{}/{team="db"}');
    expect(answer.groups[4]!.groupBy).toEqual(['team']);
    expect({ total: answer.total, shown: answer.shown }).toEqual({ total: 6, shown: 6 });
  });

  it('shows the labels alerts are sent with, and what silences or inhibits each', async () => {
    const answer = await groups(await start());
    const all = answer.groups.flatMap((g) => g.alerts);
    const db2 = all.find((a) => a.labels.instance === 'db-2')!;
    expect(db2.labels.cluster).toBe('prod-1');
    expect(db2.fingerprint).toBe(labelsFingerprint(db2.labels));
    expect(db2.status).toEqual({ state: 'suppressed', silencedBy: ['silence-1'], inhibitedBy: [] });
    const slow = all.find((a) => a.labels.alertname === 'SlowQueries')!;
    expect(slow.state).toBe('pending');
    expect(slow.status.state).toBe('suppressed');
    expect(slow.inhibitors).toEqual([
      { alertname: 'DatacenterDown', cluster: 'prod-1', dc: 'east', severity: 'page' },
    ]);
    expect(all.find((a) => a.labels.instance === 'db-1')!.status.state).toBe('active');
  });

  it('filters by label matchers, by state, and leaves out silenced or inhibited alerts when asked', async () => {
    const base = await start();
    const byFilter = await groups(base, `?filter=${encodeURIComponent('{team="db",instance=~"db-1|db-3"}')}`);
    expect(summary(byFilter).flatMap((g) => g.alerts)).toEqual(['DiskFull/db-1']);
    const twoFilters = await groups(base, '?filter=alertname%3DDiskFull&filter=instance!%3D"db-1"');
    expect(summary(twoFilters).flatMap((g) => g.alerts)).toEqual(['DiskFull/db-2']);
    const pending = await groups(base, '?state=pending');
    expect(summary(pending).flatMap((g) => g.alerts)).toEqual(['SlowQueries/east']);
    const unmuted = await groups(
      base,
      '?silenced=false&inhibited=false&filter=alertname=~"DiskFull|SlowQueries"',
    );
    expect(summary(unmuted).flatMap((g) => g.alerts)).toEqual(['DiskFull/db-1']);
  });

  it('answers at most `limit` alerts and says how many matched', async () => {
    const answer = await groups(await start(), '?limit=2');
    expect({ total: answer.total, shown: answer.shown }).toEqual({ total: 6, shown: 2 });
    expect(answer.groups.flatMap((g) => g.alerts)).toHaveLength(2);
  });

  it('groups by alert name without built-in routing, and says so', async () => {
    const answer = await groups(await start(false));
    expect(answer.routing).toBe(false);
    expect(answer.groups.map((g) => [g.receiver, g.route, g.labels.alertname, g.alerts.length])).toEqual([
      [null, null, 'DatacenterDown', 1],
      [null, null, 'DiskFull', 2],
      [null, null, 'HighErrors', 1],
      [null, null, 'SlowQueries', 1],
    ]);
  });

  it.each([
    ['?filter=team%3D%22db', /^filter: invalid matchers/],
    ['?state=resolved', /^state is "firing" or "pending", not resolved$/],
    ['?silenced=yes', /^silenced is "true" or "false"$/],
    ['?limit=0', /^limit must be a whole number from 1 to 2000$/],
    ['?limit=2.5', /^limit must be a whole number from 1 to 2000$/],
    ['?limit=1&limit=2', /^limit is given more than once$/],
    ['?receiver=db', /^unknown parameter\(s\): receiver$/],
  ])('refuses %s with a 400 saying why', async (query, message) => {
    const response = await fetch(`${await start()}/api/alerts/groups${query}`, {
      headers: { authorization: `Bearer ${VIEWER}` },
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(message);
  });

  it('needs a token', async () => {
    const response = await fetch(`${await start()}/api/alerts/groups`);
    expect(response.status).toBe(401);
  });
});

describe('GET /api/alerts', () => {
  it('says what mutes an alert by the labels it is sent with', async () => {
    const response = await fetch(`${await start()}/api/alerts`, {
      headers: { authorization: `Bearer ${VIEWER}` },
    });
    const { data } = (await response.json()) as {
      data: { alerts: (ApiAlert & { status: { silencedBy: string[] } })[] };
    };
    const db2 = data.alerts.find((a) => a.labels.instance === 'db-2')!;
    // Prometheus's shape: the alert's own labels, without the external ones.
    expect(db2.labels.cluster).toBeUndefined();
    expect(db2.status.silencedBy).toEqual(['silence-1']);
  });
});
