import type { Metrics } from '../../core/metrics.ts';
import { ALERT_RULES_METRICS as M } from '../metrics.ts';

/** The per-group metrics of rule evaluation, created once per process from the catalogue. */
export function createGroupMetrics(metrics: Metrics) {
  return {
    ruleEvaluations: metrics.counter(M.ruleEvaluations),
    ruleEvaluationFailures: metrics.counter(M.ruleEvaluationFailures),
    ruleEvaluationDuration: metrics.histogram(M.ruleEvaluationDuration),
    groupDuration: metrics.histogram(M.groupDuration),
    groupIterations: metrics.counter(M.groupIterations),
    groupIterationsMissed: metrics.counter(M.groupIterationsMissed),
    groupLastDuration: metrics.gauge(M.groupLastDuration),
    groupLastEvaluation: metrics.gauge(M.groupLastEvaluation),
    groupInterval: metrics.gauge(M.groupInterval),
    groupRules: metrics.gauge(M.groupRules),
    groupSamples: metrics.gauge(M.groupSamples),
    alertsSent: metrics.counter(M.alertsSent),
    remoteWriteDropped: metrics.counter(M.remoteWriteDropped),
  };
}

export type GroupMetrics = ReturnType<typeof createGroupMetrics>;

/** The series each group has under its `rule_group` label. */
function perGroup(m: GroupMetrics) {
  const counters = [m.ruleEvaluations, m.ruleEvaluationFailures, m.groupIterations, m.groupIterationsMissed];
  const gauges = [m.groupLastDuration, m.groupLastEvaluation, m.groupInterval, m.groupRules, m.groupSamples];
  return { counters, gauges };
}

/** Shows a group's series from its creation on, at zero, as Prometheus does. */
export function initGroupSeries(m: GroupMetrics, group: string, intervalMs: number, rules: number): void {
  const labels = { rule_group: group };
  for (const counter of perGroup(m).counters) counter.inc(labels, 0);
  m.groupInterval.set(labels, intervalMs / 1000);
  m.groupRules.set(labels, rules);
}

/** Forgets a removed group's series. */
export function removeGroupSeries(m: GroupMetrics, group: string): void {
  const { counters, gauges } = perGroup(m);
  for (const metric of [...counters, ...gauges]) metric.remove({ rule_group: group });
}
