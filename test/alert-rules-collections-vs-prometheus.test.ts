import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import type { ApiRuleGroup } from '../alert-rules/rules/api-shapes.ts';
import { freePort } from './infra/ports.ts';
import { untilQueried } from './support/prometheus-api.ts';
import { type ComparableAlert, SideBySide } from './support/rules-side-by-side.ts';
import { ScriptedExporter } from './support/scripted-exporter.ts';

// Rule files written the way the public collections write them load unchanged into Prometheus and
// Lookout, and the alerts they raise carry the same labels and rendered annotations in both. The
// PrometheusRule resource is given to Prometheus as its spec (a plain rule file), as prometheus-operator does.

/**
 * More in the style of awesome-prometheus-alerts (quoted one-line expressions, `for: 0m`, VALUE and
 * LABELS dumps), besides the unit tests' fixture of that style, which is loaded as it is.
 */
const NODE_RULES = String.raw`
groups:

- name: NodeExporter

  rules:

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
        description: |
          A Prometheus target has disappeared. An exporter might be crashed.
            VALUE = {{ $value }}
            LABELS = {{ $labels }}
          Targets up by job: {{ range query "sort(count by (job) (up == 1))" }}{{ .Labels.job }}={{ .Value }} {{ end }}
          Cluster {{ $externalLabels.cluster }}, see {{ $externalURL }}/alerts.
`;

/** In the style of kube-prometheus: a PrometheusRule resource, `expr: |` blocks, runbook links. */
const KUBE_RULES = `
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

/**
 * What Prometheus is given for a file Lookout reads as it is: one rule file with the groups of all its
 * documents, a PrometheusRule's spec among them (as prometheus-operator gives it).
 */
function forPrometheus(text: string): string {
  const groups = parseAllDocuments(text).flatMap((doc) => {
    const value = doc.toJS() as { groups?: unknown[]; spec?: { groups: unknown[] } };
    return value.groups ?? value.spec?.groups ?? [];
  });
  return stringify({ groups });
}

const KSM = { namespace: 'shop' };
const FIXTURES = path.join(import.meta.dirname, '..', 'alert-rules', 'rules', 'fixtures');
const EXPECTED_ALERTS = [
  'HighErrorRate:firing',
  'HostOutOfDiskSpace:firing',
  'HostOutOfMemory:pending',
  'KubeDeploymentReplicasMismatch:firing',
  'KubePodCrashLooping:pending',
  'KubePodCrashLooping:pending',
  'KubeQuotaAlmostFull:firing',
  'PrometheusTargetMissing:firing',
  'Target:firing',
  'Watchdog:firing',
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
  await writeFile(nodeRules, NODE_RULES);
  await writeFile(kubeRules, KUBE_RULES);
  // Read by Lookout as they are; Prometheus reads a file's first document only, and no resources.
  const collectionStyle = path.join(FIXTURES, 'valid-collection-style.yaml');
  const multiDocument = path.join(FIXTURES, 'valid-prometheus-rule.yaml');
  const forPrometheusToo = async (file: string, text: string) => {
    const converted = path.join(dir, `${path.basename(file)}.prometheus.yml`);
    await writeFile(converted, forPrometheus(text));
    return converted;
  };

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
    prometheusRuleFiles: [
      collectionStyle,
      nodeRules,
      await forPrometheusToo(kubeRules, KUBE_RULES),
      await forPrometheusToo(multiDocument, await readFile(multiDocument, 'utf8')),
    ],
    lookoutRuleFiles: [collectionStyle, nodeRules, kubeRules, multiDocument],
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
    // The file differs for the PrometheusRule and the multi-document file (Prometheus reads them converted).
    const definition = (groups: ApiRuleGroup[]) =>
      groups
        .map((g) => ({
          name: g.name,
          interval: g.interval,
          limit: g.limit,
          rules: g.rules.map((rule) => ({
            name: rule.name,
            query: rule.query,
            type: rule.type,
            labels: rule.labels,
            ...(rule.type === 'alerting' && {
              duration: rule.duration,
              keepFiringFor: rule.keepFiringFor,
              annotations: rule.annotations,
            }),
          })),
        }))
        // Prometheus orders groups by file path, and the two read their files from different folders.
        .map((g) => ({ key: `${g.name}\n${JSON.stringify(g.rules)}`, g }))
        .sort((a, b) => (a.key < b.key ? -1 : 1))
        .map(({ g }) => g);
    expect(definition(lookout)).toEqual(definition(prometheus));
    expect(lookout.map((g) => g.name).sort()).toEqual([
      'EmbeddedExporter',
      'NodeExporter',
      'first',
      'general.rules',
      'kubernetes-apps',
      'kubernetes-apps',
      'kubernetes-resources',
      'node-exporter',
      'recording',
    ]);
  });

  it('raise the same alerts with the same rendered annotations', async () => {
    // Jobs in the order of their series in Prometheus's index, the same for both. Each target's first
    // scrape comes at its own time, so the lists are complete a few evaluations after the first alerts.
    const upByJob = /(?:^|: )(?:(?:kube-state-metrics|node|prometheus)=1 ){3}\n/;
    const description = (alerts: ComparableAlert[], name: string) =>
      alerts.find((a) => a.labels.alertname === name && a.annotations.description)?.annotations.description;
    const alerts = await both.untilAlertsAgree(
      (alerts) =>
        JSON.stringify(summary(alerts)) === JSON.stringify(EXPECTED_ALERTS) &&
        upByJob.test(description(alerts, 'HighErrorRate') ?? '') &&
        upByJob.test(description(alerts, 'PrometheusTargetMissing') ?? ''),
      'every rule with data alerting, every target scraped',
      15_000,
    );
    expect(description(alerts, 'KubeQuotaAlmostFull')).toBe('Namespace shop is using 95% of its cpu quota.');
    expect(description(alerts, 'HostOutOfMemory')).toMatch(
      /^VALUE = 6\.25\n {2}LABELS = map\[instance:127\.0\.0\.1:\d+ job:node nodename:worker-1\]$/,
    );
    expect(description(alerts, 'PrometheusTargetMissing')).toMatch(
      /^A Prometheus target has disappeared\. An exporter might be crashed\.\n {2}VALUE = 0\n {2}LABELS = map\[__name__:up instance:127\.0\.0\.1:\d+ job:node\]\nTargets up by job: [^\n]*\nCluster eu-1, see http:\/\/prometheus\.example:9090\/alerts\.\n$/,
    );
    // The recording group's interval is 30s, and each side picks its own offset within it: one may have
    // evaluated it while the other has not yet, so they are sure to agree only after one whole interval.
    await both.untilRulesAgree(
      (rules) => rules.every((r) => r.health === 'ok' || (r.group === 'recording' && r.health === 'unknown')),
      'every rule healthy',
      40_000,
    );
  });
});
