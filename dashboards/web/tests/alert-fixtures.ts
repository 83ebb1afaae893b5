import type { FixedSample } from './prometheus-fixture.ts';

/**
 * The alerts of the console's tests: rules whose expressions the fixed
 * Prometheus answers, routed by an Alertmanager file that groups the
 * database team's alerts by team and the others by alert name, with a data
 * centre that is down inhibiting warnings from it.
 */

export const RULES = `
groups:
  - name: console
    interval: 1s
    rules:
      - alert: DiskFull
        expr: disk_free_ratio < 0.1
        labels: { severity: warning, team: db }
        annotations:
          summary: "Disk of {{ $labels.instance }} is almost full"
      - alert: HighErrorRate
        expr: http_errors_ratio > 0.05
        labels: { severity: critical, team: shop }
        annotations:
          summary: "{{ $labels.service }} fails {{ $value }} of its requests"
      - alert: QueueBacklog
        expr: queue_depth > 1000
        for: 1h
        labels: { severity: warning, team: shop }
      - alert: DatacenterDown
        expr: dc_up == 0
        labels: { severity: critical }
      - alert: ReplicationLag
        expr: replication_lag_seconds > 30
        labels: { severity: warning }
`;

export const ALERTMANAGER = `
route:
  receiver: oncall
  group_by: [alertname]
  group_wait: 1s
  group_interval: 5s
  repeat_interval: 4h
  routes:
    - matchers: ['team="db"']
      receiver: db-team
      group_by: [team]
inhibit_rules:
  - source_matchers: ['alertname="DatacenterDown"']
    target_matchers: ['severity="warning"']
    equal: [dc]
`;

export const SAMPLES: Record<string, FixedSample[]> = {
  'disk_free_ratio < 0.1': [
    { labels: { instance: 'db-1' }, value: 0.04 },
    { labels: { instance: 'db-2' }, value: 0.07 },
  ],
  'http_errors_ratio > 0.05': [{ labels: { service: 'checkout' }, value: 0.12 }],
  'queue_depth > 1000': [{ labels: { queue: 'orders' }, value: 1500 }],
  'dc_up == 0': [{ labels: { dc: 'east' }, value: 0 }],
  'replication_lag_seconds > 30': [{ labels: { dc: 'east', instance: 'db-replica-1' }, value: 95 }],
};
