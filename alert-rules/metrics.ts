import type { MetricCatalogue } from '../core/metrics.ts';

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120] as const;

/** Every metric the rule evaluator exports; names follow Prometheus's `prometheus_rule_*` where one exists. */
export const ALERT_RULES_METRICS = {
  ruleEvaluations: {
    type: 'counter',
    name: 'alert_rules_rule_evaluations_total',
    help: 'Rule evaluations, per group',
    labels: ['rule_group'],
  },
  ruleEvaluationFailures: {
    type: 'counter',
    name: 'alert_rules_rule_evaluation_failures_total',
    help: 'Rule evaluations that failed (query error, duplicate label sets, limit exceeded, remote write refused), per group',
    labels: ['rule_group'],
  },
  ruleEvaluationDuration: {
    type: 'histogram',
    name: 'alert_rules_rule_evaluation_duration_seconds',
    help: 'Time one rule took to evaluate, its remote write included',
    buckets: DURATION_BUCKETS,
  },
  groupDuration: {
    type: 'histogram',
    name: 'alert_rules_group_duration_seconds',
    help: 'Time a group evaluation took',
    buckets: DURATION_BUCKETS,
  },
  groupIterations: {
    type: 'counter',
    name: 'alert_rules_group_iterations_total',
    help: 'Scheduled group evaluations, run or missed',
    labels: ['rule_group'],
  },
  groupIterationsMissed: {
    type: 'counter',
    name: 'alert_rules_group_iterations_missed_total',
    help: 'Group evaluations skipped because the one before was still running',
    labels: ['rule_group'],
  },
  groupLastDuration: {
    type: 'gauge',
    name: 'alert_rules_group_last_duration_seconds',
    help: 'Time the last evaluation of the group took',
    labels: ['rule_group'],
  },
  groupLastEvaluation: {
    type: 'gauge',
    name: 'alert_rules_group_last_evaluation_timestamp_seconds',
    help: 'When the last evaluation of the group started (Unix time)',
    labels: ['rule_group'],
  },
  groupInterval: {
    type: 'gauge',
    name: 'alert_rules_group_interval_seconds',
    help: 'Evaluation interval of the group',
    labels: ['rule_group'],
  },
  groupRules: {
    type: 'gauge',
    name: 'alert_rules_group_rules',
    help: 'Rules in the group',
    labels: ['rule_group'],
  },
  groupSamples: {
    type: 'gauge',
    name: 'alert_rules_group_samples',
    help: 'Samples the last evaluation of the group wrote (recording rules, ALERTS and ALERTS_FOR_STATE)',
    labels: ['rule_group'],
  },
  remoteWriteDropped: {
    type: 'counter',
    name: 'alert_rules_remote_write_dropped_samples_total',
    help: 'Samples of recording rules and alert series the remote-write receiver refused (4xx) or kept failing to take after retries',
  },
  alertsSent: {
    type: 'counter',
    name: 'alert_rules_alerts_sent_total',
    help: 'Alerts handed to the notifier (firing, resent or resolved)',
  },
  stateSaveFailures: {
    type: 'counter',
    name: 'alert_rules_state_save_failures_total',
    help: 'Alert state saves that failed: write (retried after the next evaluation) or too_large (over alertRules.maxStateBytes)',
    labels: ['reason'],
  },
  stateRestoreFailures: {
    type: 'counter',
    name: 'alert_rules_state_restore_failures_total',
    help: 'Saved alert state files that could not be read or understood at start (evaluation started without them)',
  },
  stateBytes: {
    type: 'gauge',
    name: 'alert_rules_state_bytes',
    help: 'Size of the last saved alert state file',
  },
  alerts: {
    type: 'gauge',
    name: 'alert_rules_alerts',
    help: "Prometheus's ALERTS series: 1 for each pending or firing alert, with the alert's labels",
    labels: ['alertname', 'alertstate'],
  },
  alertsForState: {
    type: 'gauge',
    name: 'alert_rules_alerts_for_state',
    help: "Prometheus's ALERTS_FOR_STATE series: when each pending or firing alert became active (Unix time), with its labels",
    labels: ['alertname'],
  },
} as const satisfies MetricCatalogue;
