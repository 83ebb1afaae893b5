import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CapacityRecommender, type RecommendationView } from '../alert-rules/capacity/capacity.ts';
import { capacitySchema } from '../alert-rules/capacity/config.ts';
import { MemoryRemoteWriter, RecordingNotifier } from '../alert-rules/rules/fixtures/fakes.ts';
import { RuleManager } from '../alert-rules/rules/rule-manager.ts';
import { expandTemplate } from '../alert-rules/rules/template/expand.ts';
import { systemClock } from '../core/clock.ts';
import { createLogger } from '../core/log.ts';
import { Metrics } from '../core/metrics.ts';
import { infraAddress } from './infra/control.ts';
import { eventually } from './support/lookout-process.ts';
import { prometheusQueries } from './support/prometheus-api.ts';

// prometheus_build_info is 1 for the one Prometheus, so scaling it gives exact demand for the workload
// job="prometheus"; label_replace(vector(n), ...) gives made-up workloads and replica counts.
const workload = (job: string, value: string) => `label_replace(${value}, "job", "${job}", "", "")`;
const DEMAND = [
  'sum by (job) (prometheus_build_info) * 520',
  workload('cart', 'vector(130)'),
  workload('broken', 'vector(0) / 0'),
].join(' or ');
const REPLICAS = [workload('prometheus', 'vector(10)'), workload('cart', 'vector(1)')].join(' or ');

const silent = createLogger({ level: 'silent' });
let recommender: CapacityRecommender | undefined;
let rules: { manager: RuleManager; dataDir: string } | undefined;
afterEach(async () => {
  await Promise.all([recommender?.stop(), rules?.manager.stop()]);
  if (rules) await rm(rules.dataDir, { recursive: true, force: true });
  recommender = undefined;
  rules = undefined;
});

function start(recommendations: unknown[]) {
  const metrics = new Metrics({ defaults: false });
  recommender = new CapacityRecommender({
    config: capacitySchema.parse(recommendations),
    query: prometheusQueries(infraAddress('prometheus')),
    metrics,
    log: silent,
  });
  recommender.start();
  return { metrics, recommender };
}

/** The recommendations' alert rules on a rule manager that reads Prometheus through the recommender. */
async function startRules(capacity: CapacityRecommender) {
  const notifier = new RecordingNotifier();
  const dataDir = await mkdtemp(join(tmpdir(), 'capacity-rules-'));
  const manager = new RuleManager({
    queryApi: capacity.queryApi(prometheusQueries(infraAddress('prometheus'))),
    remoteWriter: new MemoryRemoteWriter(),
    notifier,
    render: expandTemplate,
    clock: systemClock,
    log: silent,
    metrics: new Metrics({ defaults: false }),
    dataDir,
  });
  rules = { manager, dataDir };
  await manager.start(capacity.ruleGroups());
  return { manager, notifier };
}

const byJob = (views: RecommendationView[]) => Object.fromEntries(views.map((v) => [v.labels.job, v]));

describe('capacity recommendations against Prometheus', () => {
  it('recommends from real query answers, skips NaN demand and exports the gauge', async () => {
    const { metrics, recommender } = start([
      { name: 'rps', expr: DEMAND, replicasExpr: REPLICAS, perReplica: 50, min: 2, max: 40, interval: '1s' },
    ]);
    const views = await eventually(
      async () => byJob(recommender.list()),
      (v) => v.prometheus !== undefined,
      'a first recommendation',
      15_000,
    );
    expect(views).toEqual({
      prometheus: expect.objectContaining({ total: 520, running: 10, recommended: 10 }),
      cart: expect.objectContaining({ total: 130, running: 1, recommended: 3 }),
    });
    const text = await metrics.text();
    expect(text).toContain('lookout_recommended_replicas{job="prometheus",recommendation="rps"} 10');
    expect(text).toContain('lookout_recommended_replicas{job="cart",recommendation="rps"} 3');
    expect(text).toContain(
      'lookout_capacity_skipped_values_total{recommendation="rps",reason="demand_invalid"}',
    );
  });

  it('counts a query Prometheus refuses and recommends nothing from it', async () => {
    const { metrics, recommender } = start([
      { name: 'broken', expr: 'sum(', perReplica: 1, max: 3, interval: '1s' },
    ]);
    await eventually(
      () => metrics.text(),
      (text) =>
        text.includes('lookout_capacity_query_failures_total{recommendation="broken",query="demand"}'),
      'a counted query failure',
      15_000,
    );
    expect(recommender.list()).toEqual([]);
  });

  it('fires the off-recommendation alert for a workload running too few replicas', async () => {
    const { recommender } = start([
      {
        name: 'rps',
        expr: DEMAND,
        replicasExpr: REPLICAS,
        perReplica: 50,
        max: 40,
        interval: '1s',
        alert: { for: '2s', labels: { severity: 'warning' } },
      },
    ]);
    const { notifier, manager } = await startRules(recommender);
    const [alert] = await eventually(
      async () => notifier.batches.flat(),
      (alerts) => alerts.length > 0,
      'an alert sent',
      15_000,
    );
    expect(alert?.labels).toEqual({
      alertname: 'LookoutReplicasOffRecommendation',
      recommendation: 'rps',
      job: 'cart',
      severity: 'warning',
    });
    expect(alert?.annotations).toEqual({
      summary: 'Replicas of job=cart: 1 running, 3 recommended (rps)',
      recommended_replicas: '3',
      running_replicas: '1',
    });
    expect(Date.parse(alert?.endsAt ?? '')).toBeGreaterThan(Date.now());
    expect(manager.rules().groups).toEqual([
      expect.objectContaining({ file: 'lookout:capacity', name: 'rps', interval: 1 }),
    ]);
  });
});
