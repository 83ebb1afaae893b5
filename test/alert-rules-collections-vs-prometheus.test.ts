import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { ApiRuleGroup } from '../alert-rules/rules/api-shapes.ts';
import { freePort } from './infra/ports.ts';
import { untilQueried } from './support/prometheus-api.ts';
import { type ComparableAlert, SideBySide } from './support/rules-side-by-side.ts';
import { ScriptedExporter } from './support/scripted-exporter.ts';

// Rule files written the way the public collections write them load unchanged into Prometheus and
// Lookout, and the alerts they raise carry the same labels and rendered annotations in both. The
// PrometheusRule resource is given to Prometheus as its spec (a plain rule file), as prometheus-operator does.

/** In the style of awesome-prometheus-alerts: quoted one-line expressions, `for: 0m`, VALUE and LABELS. */
const NODE_RULES = String.raw`
groups:

- name: NodeExporter

  rules:

    - alert: HostOutOfMemory
      expr: '(node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes * 100 < 10) * on(instance) group_left (nodename) node_uname_info{nodename=~".+"}'
      for: 2m
      labels:
        severity: warning
      annotations:
        summary: Host out of memory (instance {{ $labels.instance }})
        description: "Node memory is filling up (< 10% left)\n  VALUE = {{ $value }}\n  LABELS = {{ $labels }}"

    - alert: HostOutOfDiskSpace
      expr: '((node_filesystem_avail_bytes * 100) / node_filesystem_size_bytes < 10 and ON (instance, device, mountpoint) node_filesystem_readonly == 0) * on(instance) group_left (nodename) node_uname_info{nodename=~".+"}'
      for: 0m
      labels:
        severity: warning
      annotations:
        summary: Host out of disk space (instance {{ $labels.instance }})
        description: "Disk is almost full (< 10% left)\n  VALUE = {{ $value }}\n  LABELS = {{ $labels }}"

- name: EmbeddedExporter

  rules:

    - alert: PrometheusTargetMissing
      expr: up == 0
      for: 0m
      labels:
        severity: critical
      annotations:
        summary: Prometheus target missing (instance {{ $labels.instance }})
        description: "A Prometheus target has disappeared. An exporter might be crashed.\n  VALUE = {{ $value }}\n  LABELS = {{ $labels }}"

    - alert: HighErrorRate
      expr: |
        sum(rate(http_requests_total{code=~"5.."}[5m])) BY (job)
          > 0.05
        OR
        absent(up{job="api"}) AND ON() vector(1)
      keep_firing_for: 15m
      labels:
        severity: critical
      annotations:
        summary: 'Errors or no data for {{ $labels.job }}'
        description: |
          Targets up by job: {{ range query "sort(count by (job) (up == 1))" }}{{ .Labels.job }}={{ .Value }} {{ end }}
          Cluster {{ $externalLabels.cluster }}, see {{ $externalURL }}/alerts.
`;

/** In the style of kube-prometheus: a PrometheusRule resource, `expr: |` blocks, runbook links. */
const KUBE_RULES = String.raw`
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  labels:
    app.kubernetes.io/component: exporter
    app.kubernetes.io/name: kube-prometheus
    prometheus: k8s
    role: alert-rules
  name: kubernetes-monitoring-rules
  namespace: monitoring
spec:
  groups:
  - name: kubernetes-apps
    rules:
    - alert: KubePodCrashLooping
      annotations:
        description: 'Pod {{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) is in waiting state (reason: "CrashLoopBackOff").'
        runbook_url: https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping
        summary: Pod is crash looping.
      expr: |
        max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", job="kube-state-metrics"}[5m]) >= 1
      for: 15m
      labels:
        severity: warning
    - alert: KubeDeploymentReplicasMismatch
      annotations:
        description: Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has not matched the expected number of replicas for longer than 15 minutes.
        runbook_url: https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubedeploymentreplicasmismatch
        summary: Deployment has not matched the expected number of replicas.
      expr: |
        (
          kube_deployment_spec_replicas{job="kube-state-metrics"}
            >
          kube_deployment_status_replicas_available{job="kube-state-metrics"}
        ) and (
          changes(kube_deployment_status_replicas_updated{job="kube-state-metrics"}[10m])
            ==
          0
        )
      for: 0m
      labels:
        severity: warning
  - name: kubernetes-resources
    rules:
    - alert: KubeQuotaAlmostFull
      annotations:
        description: Namespace {{ $labels.namespace }} is using {{ $value | humanizePercentage }} of its {{ $labels.resource }} quota.
        runbook_url: https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubequotaalmostfull
        summary: Namespace quota is going to be full.
      expr: |
        kube_resourcequota{job="kube-state-metrics", type="used"}
          / ignoring(instance, job, type)
        (kube_resourcequota{job="kube-state-metrics", type="hard"} > 0)
          > 0.9 < 1
      for: 0m
      labels:
        severity: info
    - record: namespace_cpu:kube_resourcequota:ratio
      expr: |
        sum by (namespace) (kube_resourcequota{job="kube-state-metrics", type="used", resource="cpu"})
        /
        sum by (namespace) (kube_resourcequota{job="kube-state-metrics", type="hard", resource="cpu"})
  - name: general.rules
    rules:
    - alert: Watchdog
      annotations:
        description: |
          This is an alert meant to ensure that the entire alerting pipeline is functional.
          This alert is always firing, therefore it should always be firing in Alertmanager
          and always fire against a receiver.
        runbook_url: https://runbooks.prometheus-operator.dev/runbooks/general/watchdog
        summary: An alert that should always be firing to certify that Alertmanager is working properly.
      expr: vector(1)
      labels:
        severity: none
`;

/** What prometheus-operator gives Prometheus for a PrometheusRule: its spec as a rule file. */
function prometheusRuleSpec(resource: string): string {
  return stringify((parse(resource) as { spec: unknown }).spec);
}

const KSM = { namespace: 'shop' };
const EXPECTED_ALERTS = [
  'HighErrorRate:firing',
  'HostOutOfDiskSpace:firing',
  'HostOutOfMemory:pending',
  'KubeDeploymentReplicasMismatch:firing',
  'KubePodCrashLooping:pending',
  'KubeQuotaAlmostFull:firing',
  'PrometheusTargetMissing:firing',
  'Watchdog:firing',
];

let dir: string;
let node: ScriptedExporter;
let kubeStateMetrics: ScriptedExporter;
let both: SideBySide;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'lookout-collections-'));
  const nodeRules = path.join(dir, 'node-exporter.rules.yml');
  const kubeRules = path.join(dir, 'kubernetes-monitoring-rules.yaml');
  const kubeSpec = path.join(dir, 'kubernetes-monitoring-rules.spec.yml');
  await writeFile(nodeRules, NODE_RULES);
  await writeFile(kubeRules, KUBE_RULES);
  await writeFile(kubeSpec, prometheusRuleSpec(KUBE_RULES));

  node = await ScriptedExporter.start();
  const nodeName = { nodename: 'worker-1' };
  node.set('node_uname_info', nodeName, 1);
  node.set('node_memory_MemAvailable_bytes', {}, 0.5e9);
  node.set('node_memory_MemTotal_bytes', {}, 8e9);
  const disk = { device: '/dev/sda1', mountpoint: '/', fstype: 'ext4' };
  node.set('node_filesystem_avail_bytes', disk, 1.2e9);
  node.set('node_filesystem_size_bytes', disk, 20e9);
  node.set('node_filesystem_readonly', disk, 0);

  kubeStateMetrics = await ScriptedExporter.start();
  const pod = { ...KSM, pod: 'cart-7d9f8b-x2x4z', container: 'cart', reason: 'CrashLoopBackOff' };
  kubeStateMetrics.set('kube_pod_container_status_waiting_reason', pod, 1);
  const deployment = { ...KSM, deployment: 'cart' };
  kubeStateMetrics.set('kube_deployment_spec_replicas', deployment, 3);
  kubeStateMetrics.set('kube_deployment_status_replicas_available', deployment, 1);
  kubeStateMetrics.set('kube_deployment_status_replicas_updated', deployment, 3);
  const quota = { ...KSM, resource: 'cpu', resourcequota: 'shop-quota' };
  kubeStateMetrics.set('kube_resourcequota', { ...quota, type: 'used' }, 9.5);
  kubeStateMetrics.set('kube_resourcequota', { ...quota, type: 'hard' }, 10);

  const nobody = `http://127.0.0.1:${await freePort()}`;
  both = await SideBySide.start({
    prometheusRuleFiles: [nodeRules, kubeSpec],
    lookoutRuleFiles: [nodeRules, kubeRules],
    scrapeTargets: [
      { job: 'node', urls: [node.url, nobody] },
      { job: 'kube-state-metrics', urls: [kubeStateMetrics.url] },
    ],
  });
  await untilQueried(both.prometheus.url, 'kube_resourcequota{type="hard"}', 10);
});

afterAll(async () => {
  await both?.close();
  await node?.close();
  await kubeStateMetrics?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const summary = (alerts: ComparableAlert[]) => alerts.map((a) => `${a.labels.alertname}:${a.state}`).sort();

describe('rule files in the styles of public collections, in Prometheus and in Lookout', () => {
  it('load into both as the same groups and rules', async () => {
    const { prometheus, lookout } = await both.rules();
    // The file differs for the PrometheusRule (Prometheus reads its converted spec); and Prometheus shows
    // each query as its parser prints it, not as written.
    const definition = (groups: ApiRuleGroup[]) =>
      groups
        .map((g) => ({
          name: g.name,
          interval: g.interval,
          limit: g.limit,
          rules: g.rules.map((rule) => ({
            name: rule.name,
            type: rule.type,
            labels: rule.labels,
            ...(rule.type === 'alerting' && {
              duration: rule.duration,
              keepFiringFor: rule.keepFiringFor,
              annotations: rule.annotations,
            }),
          })),
        }))
        .sort((a, b) => (a.name < b.name ? -1 : 1));
    expect(definition(lookout)).toEqual(definition(prometheus));
    expect(lookout.map((g) => g.name).sort()).toEqual([
      'EmbeddedExporter',
      'NodeExporter',
      'general.rules',
      'kubernetes-apps',
      'kubernetes-resources',
    ]);
  });

  it('raise the same alerts with the same rendered annotations', async () => {
    const alerts = await both.untilAlertsAgree(
      (alerts) => JSON.stringify(summary(alerts)) === JSON.stringify(EXPECTED_ALERTS),
      'every rule with data alerting',
      15_000,
    );
    const annotations = (name: string) => alerts.find((a) => a.labels.alertname === name)?.annotations;
    expect(annotations('KubeQuotaAlmostFull')?.description).toBe(
      'Namespace shop is using 95% of its cpu quota.',
    );
    expect(annotations('HostOutOfMemory')?.description).toMatch(
      /^Node memory is filling up \(< 10% left\)\n {2}VALUE = 6\.25\n {2}LABELS = map\[instance:127\.0\.0\.1:\d+ job:node nodename:worker-1\]$/,
    );
    expect(annotations('HighErrorRate')).toEqual({
      summary: 'Errors or no data for api',
      description:
        'Targets up by job: kube-state-metrics=1 node=1 prometheus=1 \nCluster eu-1, see http://prometheus.example:9090/alerts.\n',
    });
    await both.untilRulesAgree((rules) => rules.every((r) => r.health === 'ok'), 'every rule healthy');
  });
});
