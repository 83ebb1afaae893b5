import { describe, expect, it } from 'vitest';
import { parseAlertmanagerConfig } from './alertmanager-config.ts';
import { Inhibitor } from './inhibit.ts';

function inhibitor(rules: string): Inhibitor {
  return new Inhibitor(
    parseAlertmanagerConfig(`route: {receiver: a}\ninhibit_rules:\n${rules}`, 'x').inhibitRules,
  );
}

const CRITICAL_MUTES_WARNING = `
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [alertname, cluster]
`;

describe('Inhibitor', () => {
  it('mutes targets while a source with the same equal labels fires', () => {
    const inhibit = inhibitor(CRITICAL_MUTES_WARNING);
    inhibit.setAlerts([
      { labels: { alertname: 'Latency', cluster: 'a', severity: 'critical' }, fingerprint: 'fp1' },
    ]);
    expect(inhibit.inhibitedBy({ alertname: 'Latency', cluster: 'a', severity: 'warning' })).toEqual(['fp1']);
    expect(inhibit.inhibitedBy({ alertname: 'Latency', cluster: 'b', severity: 'warning' })).toEqual([]);
    expect(inhibit.inhibitedBy({ alertname: 'Other', cluster: 'a', severity: 'warning' })).toEqual([]);
    expect(inhibit.inhibitedBy({ alertname: 'Latency', cluster: 'a', severity: 'info' })).toEqual([]);
    inhibit.setAlerts([]);
    expect(inhibit.inhibitedBy({ alertname: 'Latency', cluster: 'a', severity: 'warning' })).toEqual([]);
  });

  it('counts a label missing on both sides as equal', () => {
    const inhibit = inhibitor(CRITICAL_MUTES_WARNING);
    inhibit.setAlerts([{ labels: { alertname: 'Latency', severity: 'critical' } }]);
    expect(inhibit.inhibitedBy({ alertname: 'Latency', severity: 'warning' })).toEqual([
      '{alertname="Latency", severity="critical"}',
    ]);
    expect(inhibit.inhibitedBy({ alertname: 'Latency', cluster: 'a', severity: 'warning' })).toEqual([]);
    expect(inhibit.inhibitedBy({ alertname: 'Latency', cluster: '', severity: 'warning' })).toHaveLength(1);
  });

  it('reports every inhibiting alert, from every rule', () => {
    const inhibit = inhibitor(`${CRITICAL_MUTES_WARNING}
  - source_match: {alertname: ClusterDown}
    target_match_re: {alertname: ".+"}
    equal: [cluster]
`);
    inhibit.setAlerts([
      {
        labels: { alertname: 'Latency', cluster: 'a', severity: 'critical', instance: '1' },
        fingerprint: 'fp1',
      },
      {
        labels: { alertname: 'Latency', cluster: 'a', severity: 'critical', instance: '2' },
        fingerprint: 'fp2',
      },
      { labels: { alertname: 'ClusterDown', cluster: 'a' }, fingerprint: 'down' },
    ]);
    expect(inhibit.inhibitedBy({ alertname: 'Latency', cluster: 'a', severity: 'warning' })).toEqual([
      'fp1',
      'fp2',
      'down',
    ]);
  });

  it('does not let alerts matching both sides inhibit each other or themselves', () => {
    const inhibit = inhibitor(`
  - source_matchers: [severity=~"critical|major"]
    target_matchers: [severity=~"major|minor"]
    equal: [service]
`);
    const major = { service: 'api', severity: 'major' };
    inhibit.setAlerts([{ labels: major, fingerprint: 'major' }]);
    expect(inhibit.inhibitedBy(major)).toEqual([]);
    // A major alert matches both sides, so it still mutes a minor one.
    expect(inhibit.inhibitedBy({ service: 'api', severity: 'minor' })).toEqual(['major']);
    // A critical alert is only a source: it mutes the major one.
    inhibit.setAlerts([
      { labels: major, fingerprint: 'major' },
      { labels: { service: 'api', severity: 'critical' }, fingerprint: 'critical' },
    ]);
    expect(inhibit.inhibitedBy(major)).toEqual(['critical']);
  });

  it('inhibits nothing without rules', () => {
    const inhibit = new Inhibitor([]);
    inhibit.setAlerts([{ labels: { severity: 'critical' } }]);
    expect(inhibit.inhibitedBy({ severity: 'warning' })).toEqual([]);
  });
});
