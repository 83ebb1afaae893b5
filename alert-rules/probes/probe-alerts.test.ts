import { describe, expect, it } from 'vitest';
import { parseAlertmanagerConfig } from '../dispatch/alertmanager-config.ts';
import { RouteTree } from '../dispatch/route-tree.ts';
import { testTarget } from './fixtures/fakes.ts';
import { wantedAlerts } from './probe-alerts.ts';
import { initialState, type TargetState } from './target-state.ts';

const T0 = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;

const downState = (): TargetState => ({
  ...initialState(),
  health: 'down',
  healthSinceMs: T0,
  consecutiveFailures: 2,
  lastFailure: 'connect: connection refused',
});

describe('wantedAlerts', () => {
  it('labels a down target with its labels, the alert name, instance and probe id', () => {
    const target = testTarget('shop', { labels: { team: 'web', severity: 'critical' } });
    expect(wantedAlerts(target, downState(), T0)).toEqual([
      {
        labels: {
          alertname: 'ProbeDown',
          instance: 'https://shop.example/',
          probe: 'shop',
          severity: 'critical',
          team: 'web',
        },
        annotations: {
          summary: 'https://shop.example/ is down: connect: connection refused',
          description:
            'The http_2xx probe of https://shop.example/ has failed since 2026-01-01T00:00:00.000Z (2 failed probes in a row). Last failure: connect: connection refused.',
        },
        activeAtMs: T0,
      },
    ]);
  });

  it('says "1 failed probe" and "once" rather than "1 failed probes" and "1 times"', () => {
    const target = testTarget('shop', { failuresBeforeDown: 1 });
    const [down] = wantedAlerts(target, { ...downState(), consecutiveFailures: 1 }, T0);
    expect(down?.annotations.description).toContain('since 2026-01-01T00:00:00.000Z (1 failed probe). Last');
    const [flapping] = wantedAlerts(target, { ...downState(), flappingSinceMs: T0, changes: [9] }, T0);
    expect(flapping?.annotations.description).toContain(
      'went down or came back up once in its last 20 probes',
    );
  });

  it('wants nothing for a pending target, and the flapping alert alone for a flapping one', () => {
    const target = testTarget('shop');
    expect(wantedAlerts(target, { ...downState(), health: 'pending' }, T0)).toEqual([]);
    const flapping = wantedAlerts(target, { ...downState(), flappingSinceMs: T0, changes: [3, 5, 7, 9] }, T0);
    expect(flapping.map((a) => a.labels.alertname)).toEqual(['ProbeFlapping']);
    expect(flapping[0]?.annotations.description).toBe(
      'https://shop.example/ went down or came back up 4 times in its last 20 probes (flapping since 2026-01-01T00:00:00.000Z); ups and downs are not told one by one until 20 probes in a row show none. It is down now. Last failure: connect: connection refused.',
    );
  });

  it('says how many days a certificate has left, and when it has expired', () => {
    const target = testTarget('shop');
    const state = { ...initialState(), health: 'up' as const, certificateExpiresAtMs: T0 + 10 * DAY };
    const soon = wantedAlerts(target, state, T0);
    expect(soon.map((a) => [a.labels.days, a.annotations.summary])).toEqual([
      ['21', 'The certificate of https://shop.example/ expires in 10 days'],
      ['14', 'The certificate of https://shop.example/ expires in 10 days'],
    ]);
    expect(wantedAlerts(target, state, T0 + 11 * DAY)[0]?.annotations.summary).toBe(
      'The certificate of https://shop.example/ has expired',
    );
  });

  it('names each receiver in its own alert, which a route per receiver sends there', () => {
    const target = testTarget('shop', { receivers: ['shop-robot', 'ops-robot'] });
    const alerts = wantedAlerts(target, downState(), T0);
    // The routing file of docs/probes.md: one route per receiver a target may name, first in the tree.
    const routes = new RouteTree(
      parseAlertmanagerConfig(
        `
route:
  receiver: default
  group_by: [alertname, instance]
  routes:
    - matchers: ['receiver="shop-robot"']
      receiver: shop-robot
    - matchers: ['receiver="ops-robot"']
      receiver: ops-robot
    - matchers: ['team="web"']
      receiver: web
`,
        'routing.yml',
      ).route,
    );
    expect(alerts.map((alert) => routes.match(alert.labels).map((route) => route.receiver))).toEqual([
      ['shop-robot'],
      ['ops-robot'],
    ]);
  });
});
