import { describe, expect, it } from 'vitest';
import { formatRuleFileProblem, parseRuleFile, type RuleFileOptions } from './rule-file.ts';

const options: RuleFileOptions = { remoteWrite: true };

function problems(text: string, extra: Partial<RuleFileOptions> = {}): string[] {
  return parseRuleFile('rules/app.yaml', text, { ...options, ...extra }).problems.map(formatRuleFileProblem);
}

function groups(text: string) {
  const parsed = parseRuleFile('rules/app.yaml', text, options);
  expect(parsed.problems.map(formatRuleFileProblem)).toEqual([]);
  return parsed.groups;
}

// The styles of the public rule collections: quoted one-liners, `expr: |` blocks,
// `for: 0m`, whole-label dumps in annotations, upper-case keywords.
const COLLECTION_STYLE = `
groups:
- name: node-exporter
  rules:
    - alert: HostOutOfMemory
      expr: '(node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes * 100 < 10) * on(instance) group_left (nodename) node_uname_info{nodename=~".+"}'
      for: 2m
      labels:
        severity: warning
      annotations:
        summary: Host out of memory (instance {{ $labels.instance }})
        description: "Node memory is filling up (< 10% left)\\n  VALUE = {{ $value }}\\n  LABELS = {{ $labels }}"
    - alert: PrometheusTargetMissing
      expr: up == 0
      for: 0m
      labels:
        severity: critical
    - alert: HighErrorRate
      expr: |
        sum(rate(http_requests_total{code=~"5.."}[5m])) BY (job)
          /
        sum(rate(http_requests_total[5m])) BY (job)
          > 0.05
        OR
        absent(up{job="api"}) AND ON() vector(1)
      for: 10m
      keep_firing_for: 15m
      labels:
        severity: page
        team: "{{ $labels.job }}"
      annotations:
        runbook_url: https://runbooks.example.com/high-error-rate
        description: |
          {{ range query "sum by (job) (up)" }}{{ .Labels.job }}={{ .Value }} {{ end }}
- name: recording
  interval: 30s
  query_offset: 1m
  limit: 100
  labels:
    source: rules
  rules:
  - record: job:http_requests:rate5m
    expr: sum by (job) (rate(http_requests_total[5m]))
    labels:
      aggregated: "true"
`;

describe('parseRuleFile', () => {
  it('reads the styles of public rule collections', () => {
    const [node, recording] = groups(COLLECTION_STYLE);
    expect(node).toMatchObject({
      file: 'rules/app.yaml',
      name: 'node-exporter',
      intervalMs: undefined,
      limit: 0,
      queryOffsetMs: undefined,
      labels: {},
    });
    expect(node!.rules).toHaveLength(3);
    expect(node!.rules[0]).toEqual({
      kind: 'alerting',
      alert: 'HostOutOfMemory',
      expr: '(node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes * 100 < 10) * on(instance) group_left (nodename) node_uname_info{nodename=~".+"}',
      forMs: 120_000,
      keepFiringForMs: 0,
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Host out of memory (instance {{ $labels.instance }})',
        description:
          'Node memory is filling up (< 10% left)\n  VALUE = {{ $value }}\n  LABELS = {{ $labels }}',
      },
    });
    expect(node!.rules[1]).toMatchObject({ forMs: 0, annotations: {} });
    expect(node!.rules[2]).toMatchObject({
      forMs: 600_000,
      keepFiringForMs: 900_000,
      labels: { team: '{{ $labels.job }}' },
    });
    expect((node!.rules[2] as { expr: string }).expr).toMatch(/^sum\(rate.*\n.*\n.*\n.*> 0.05\nOR\n/);
    expect(recording).toEqual({
      file: 'rules/app.yaml',
      name: 'recording',
      intervalMs: 30_000,
      limit: 100,
      queryOffsetMs: 60_000,
      labels: { source: 'rules' },
      rules: [
        {
          kind: 'recording',
          record: 'job:http_requests:rate5m',
          expr: 'sum by (job) (rate(http_requests_total[5m]))',
          labels: { aggregated: 'true' },
        },
      ],
    });
  });

  it('reads PrometheusRule resources, several to a file, and plain rule files beside them', () => {
    const text = `
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: kube-prometheus-rules
  namespace: monitoring
  labels: {prometheus: k8s, role: alert-rules}
spec:
  groups:
  - name: kubernetes-apps
    partial_response_strategy: warn
    rules:
    - alert: KubePodCrashLooping
      annotations:
        description: 'Pod {{ $labels.namespace }}/{{ $labels.pod }} is in waiting state (reason: "CrashLoopBackOff").'
      expr: max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", job="kube-state-metrics"}[5m]) >= 1
      for: 15m
      labels: {severity: warning}
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: other}
spec:
  groups:
  - name: other
    rules: []
---
groups:
- name: plain
  rules:
  - alert: Always
    expr: vector(1)
`;
    expect(groups(text).map((g) => [g.name, g.rules.length])).toEqual([
      ['kubernetes-apps', 1],
      ['other', 0],
      ['plain', 1],
    ]);
  });

  it('takes plain numbers as text, as Prometheus does, and empty files as no groups', () => {
    const [group] = groups(`
groups:
- name: 2024
  rules:
  - alert: 42
    expr: 1.50
    for: 0
    labels: {priority: 1, page: true, empty: }
`);
    expect(group!.name).toBe('2024');
    expect(group!.rules[0]).toMatchObject({
      alert: '42',
      expr: '1.50',
      forMs: 0,
      labels: { priority: '1', page: 'true', empty: '' },
    });
    expect(groups('')).toEqual([]);
    expect(groups('# only a comment\n')).toEqual([]);
    expect(groups('groups:\n')).toEqual([]);
  });

  it('reports every problem of a file, each with its place', () => {
    const text = `
groups:
- name: api
  interval: 1m30
  rules:
  - alert: HighErrors
    expr: sum(rate(errors_total[5m]) by (job)
    for: 5 minutes
    severity: page
  - record: job:errors:rate5m{job="api"}
    expr: sum(rate(errors_total[5m]))
    for: 5m
    annotations: {summary: x}
  - alert: Both
    record: both
    expr: up
  - expr: up
  - alert: NoExpr
    labels:
      __name__: x
      bad-name: y
    annotations:
      "1st": z
- name: api
  rules: []
- name: ""
  rules: {}
- interval: 1x
`;
    expect(problems(text)).toEqual([
      'rules/app.yaml:4: group "api": interval: not a valid duration string: "1m30"',
      'rules/app.yaml:9: group "api", rule 1 ("HighErrors"): unknown field "severity"',
      'rules/app.yaml:7: group "api", rule 1 ("HighErrors"): expr: syntax error at 1:28: unexpected "by (job)"',
      'rules/app.yaml:8: group "api", rule 1 ("HighErrors"): for: unknown unit " minutes" in duration "5 minutes"',
      `rules/app.yaml:10: group "api", rule 2 ("job:errors:rate5m{job=\\"api\\"}"): invalid field 'annotations' in recording rule`,
      `rules/app.yaml:10: group "api", rule 2 ("job:errors:rate5m{job=\\"api\\"}"): invalid field 'for' in recording rule`,
      'rules/app.yaml:10: group "api", rule 2 ("job:errors:rate5m{job=\\"api\\"}"): invalid recording rule name: "job:errors:rate5m{job=\\"api\\"}" (braces belong in expr)',
      `rules/app.yaml:14: group "api", rule 3 ("Both"): only one of 'record' and 'alert' may be set`,
      `rules/app.yaml:17: group "api", rule 4: one of 'record' or 'alert' must be set`,
      `rules/app.yaml:18: group "api", rule 5 ("NoExpr"): field 'expr' must be set in rule`,
      'rules/app.yaml:20: group "api", rule 5 ("NoExpr"): invalid label name: "__name__"',
      'rules/app.yaml:21: group "api", rule 5 ("NoExpr"): invalid label name: "bad-name"',
      'rules/app.yaml:23: group "api", rule 5 ("NoExpr"): invalid annotation name: "1st"',
      'rules/app.yaml:24: group "api": group name is repeated in the same file',
      'rules/app.yaml:26: group "": group name must not be empty',
      'rules/app.yaml:27: group "": rules: expected a list, got a map',
      'rules/app.yaml:28: group "": group name must not be empty',
      'rules/app.yaml:28: group "": interval: unknown unit "x" in duration "1x"',
    ]);
  });

  it('refuses what is not a rule file', () => {
    expect(problems('- a\n- b\n')).toEqual(['rules/app.yaml:1: expected a map with "groups", got a list']);
    expect(problems('group:\n- name: a\n')).toEqual(['rules/app.yaml:1: unknown field "group"']);
    expect(problems('groups:\n- name: a\n  rules:\n  - alert: [x]\n    expr: up\n')).toEqual([
      'rules/app.yaml:4: group "a", rule 1: alert: expected a string, got a list',
      `rules/app.yaml:4: group "a", rule 1: one of 'record' or 'alert' must be set`,
    ]);
    expect(problems('groups:\n- name: a\n  limit: "5"\n')).toEqual([
      'rules/app.yaml:3: group "a": limit: expected an integer, got "5"',
    ]);
    expect(problems('apiVersion: v1\nkind: ConfigMap\ndata: {}\n')).toEqual([
      'rules/app.yaml:1: a Kubernetes resource here must be apiVersion monitoring.coreos.com/v1, kind PrometheusRule; got v1, ConfigMap',
    ]);
    expect(
      problems(
        'apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec:\n  groups:\n  - name: a\n    rulez: []\n',
      ),
    ).toEqual(['rules/app.yaml:6: group "a": unknown field "rulez"']);
    expect(problems('groups:\n- name: a\n  name: b\n')).toEqual([
      expect.stringMatching(/^rules\/app\.yaml: line 3: Map keys must be unique/),
    ]);
  });

  it('refuses a YAML alias bomb without expanding it', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x","x"]',
      ...Array.from({ length: 8 }, (_, i) => {
        const prev = String.fromCharCode(97 + i);
        const next = String.fromCharCode(98 + i);
        return `${next}: &${next} [*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev}]`;
      }),
      'groups: []',
    ].join('\n');
    expect(problems(bomb)).toEqual([
      expect.stringMatching(/^rules\/app\.yaml: \(yaml\): Excessive alias count/),
    ]);
  });

  it('refuses recording rules without a remote-write target, naming the setting', () => {
    const text = `
groups:
- name: g
  rules:
  - alert: A
    expr: up == 0
  - record: a:up
    expr: sum(up)
  - record: b:up
    expr: count(up)
`;
    expect(problems(text, { remoteWrite: false })).toEqual([
      'rules/app.yaml:7: group "g", rule 2 ("a:up"): 2 recording rules (this is the first) need a remote-write target to store results in, and none is configured: configure remote write for alert-rules (alertRules.remoteWrite) or remove the recording rules',
    ]);
    expect(problems(text, { remoteWrite: true })).toEqual([]);
    expect(
      problems('groups:\n- name: g\n  rules:\n  - record: a:up\n    expr: sum(up)\n', { remoteWrite: false }),
    ).toEqual([
      expect.stringMatching(
        /^rules\/app\.yaml:4: group "g", rule 1 \("a:up"\): this recording rule needs a remote-write target/,
      ),
    ]);
  });

  it('checks the templates of alerting rules with the checker it is given', () => {
    const seen: [string, string][] = [];
    const checkTemplate = (name: string, text: string) => {
      seen.push([name, text]);
      return text.includes('{{ .Broken') ? 'unclosed action' : undefined;
    };
    const text = `
groups:
- name: g
  rules:
  - alert: Down
    expr: up == 0
    labels: {team: "{{ .Broken"}
    annotations: {summary: "{{ $labels.instance }} is down", description: "{{ .Broken }"}
  - record: r
    expr: up
    labels: {x: "{{ .Broken"}
`;
    expect(problems(text, { checkTemplate })).toEqual([
      'rules/app.yaml:7: group "g", rule 1 ("Down"): label "team": unclosed action',
      'rules/app.yaml:8: group "g", rule 1 ("Down"): annotation "description": unclosed action',
    ]);
    expect(seen).toEqual([
      ['__alert_Down', '{{ .Broken'],
      ['__alert_Down', '{{ $labels.instance }} is down'],
      ['__alert_Down', '{{ .Broken }'],
    ]);
  });

  it('loads 10,000 rules in time linear in their number', () => {
    const file = (count: number) => {
      const rules = Array.from(
        { length: count },
        (_, i) => `  - alert: HighErrorRate${i}
    expr: sum by (job) (rate(http_requests_total{code=~"5..",job="api-${i}"}[5m])) / sum by (job) (rate(http_requests_total[5m])) > 0.05
    for: 10m
    labels: {severity: warning}
    annotations:
      summary: 'High error rate on {{ $labels.job }}: {{ $value | humanizePercentage }}'
`,
      );
      return `groups:\n- name: many\n  rules:\n${rules.join('')}`;
    };
    const timed = (text: string) => {
      const started = performance.now();
      const [group] = groups(text);
      return { rules: group!.rules.length, ms: performance.now() - started };
    };
    timed(file(1_000)); // warm-up
    const small = timed(file(1_000));
    const large = timed(file(10_000));
    expect(large.rules).toBe(10_000);
    // About 1 s for the 3 MB file on an idle machine, most of it in the YAML parser. The machine
    // is shared, so the check is on growth (a quadratic slip), not on wall time.
    expect(large.ms).toBeLessThan(small.ms * 20);
  });
});
