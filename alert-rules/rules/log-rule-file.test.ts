import { describe, expect, it } from 'vitest';
import { formatRuleFileProblem, parseRuleFile, type RuleFileOptions } from './rule-file.ts';

const options: RuleFileOptions = { remoteWrite: false, logs: {} };

function parse(text: string, extra: Partial<RuleFileOptions> = {}) {
  const parsed = parseRuleFile('rules/logs.yaml', text, { ...options, ...extra });
  return { groups: parsed.groups, problems: parsed.problems.map(formatRuleFileProblem) };
}

const LOG_GROUP = `
groups:
  - name: api
    rules:
      - alert: Up
        expr: up == 0
  - name: payment-logs
    kind: logs
    interval: 1m
    labels: { team: pay }
    rules:
      - alert: PaymentErrors
        type: count
        query: 'level:error'
        namespaces: [payment]
        window: 5m
        above: 50
        group_by: [namespace, service.name]
        for: 2m
        labels: { severity: critical }
        annotations: { summary: '{{ $value }} errors in {{ $labels.namespace }}' }
      - alert: ServerErrors
        type: ratio
        query: 'f.http.status:500'
        total: 'kubernetes.container.name:nginx'
        window: 5m
        above: 0.02
      - alert: OrdersSilent
        type: flatline
        namespaces: [order]
        window: 10m
      - alert: LoginSpike
        type: spike
        query: '"login failed"'
        window: 5m
        above: 3
        min_count: 20
      - alert: OutOfMemory
        type: any
        query: OutOfMemoryError
        window: 1m
        max_alerts: 5
`;

describe('log rule groups', () => {
  it('reads a group of kind logs beside Prometheus groups', () => {
    const { groups, problems } = parse(LOG_GROUP);
    expect(problems).toEqual([]);
    expect(groups.map((g) => g.rules.map((r) => r.kind))).toEqual([
      ['alerting'],
      ['log', 'log', 'log', 'log', 'log'],
    ]);
    expect(groups[1]!.rules[0]).toEqual({
      kind: 'log',
      alert: 'PaymentErrors',
      type: 'count',
      query: 'level:error',
      namespaces: ['payment'],
      windowMs: 300_000,
      above: 50,
      minCount: 1,
      groupBy: ['namespace', 'service.name'],
      maxAlerts: 10,
      forMs: 120_000,
      keepFiringForMs: 0,
      labels: { severity: 'critical' },
      annotations: { summary: '{{ $value }} errors in {{ $labels.namespace }}' },
    });
    expect(groups[1]!.rules[1]).toMatchObject({ type: 'ratio', total: 'kubernetes.container.name:nginx' });
    expect(groups[1]!.rules[4]).toMatchObject({ type: 'any', maxAlerts: 5 });
  });

  it('names file, line, group and rule for a broken query, an unknown type or kind, and wrong thresholds', () => {
    const { problems } = parse(`
groups:
  - name: logs
    kind: logs
    rules:
      - alert: Broken
        type: count
        query: 'timeout AND'
        window: 5m
        above: 1
      - alert: Unknown
        type: median
        window: 5m
      - alert: NoThreshold
        type: ratio
        query: a
        window: 5m
      - alert: NoWindow
        type: flatline
        above: 3
  - name: loki
    kind: loki
    rules: []
`);
    expect(problems).toEqual([
      'rules/logs.yaml:8: group "logs", rule 1 ("Broken"): query: AND needs a term on its right',
      'rules/logs.yaml:12: group "logs", rule 2 ("Unknown"): unknown log rule type "median": one of count, ratio, spike, flatline, any',
      `rules/logs.yaml:14: group "logs", rule 3 ("NoThreshold"): a ratio needs 'total', the search it is a ratio of`,
      `rules/logs.yaml:14: group "logs", rule 3 ("NoThreshold"): a ratio rule needs exactly one of 'above' and 'below'`,
      `rules/logs.yaml:18: group "logs", rule 4 ("NoWindow"): field 'window' must be set to a duration above 0`,
      `rules/logs.yaml:20: group "logs", rule 4 ("NoWindow"): a flatline rule has no 'above'`,
      'rules/logs.yaml:22: group "loki": unknown group kind "loki": a group is a Prometheus group (no kind) or "logs"',
    ]);
  });

  it('refuses log groups without a log search, and namespaces its token may not read', () => {
    expect(parse(LOG_GROUP, { logs: undefined }).problems).toEqual([
      'rules/logs.yaml:8: group "payment-logs": log rules need a log search to query, and none is configured: configure it (alertRules.logs) or remove the group',
    ]);
    expect(parse(LOG_GROUP, { logs: { namespaces: ['order'] } }).problems).toEqual([
      `rules/logs.yaml:15: group "payment-logs", rule 1 ("PaymentErrors"): the log search's token may not read namespace(s): payment`,
    ]);
  });
});
