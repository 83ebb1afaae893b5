import { board, labelVariable, quantile, rate, timeseries } from './panels.ts';
import { robotSection } from './robots.ts';

const RULES = 'job=~"$job", instance=~"$instance"';
const GROUPS = `${RULES}, rule_group=~"$rule_group"`;

export const alerts = board({
  uid: 'lookout-alerts',
  title: 'Lookout / Alerts',
  description:
    'Rule evaluation in alert-rules, the alerts it holds, the notifications it sends, and silences.',
  variables: [
    labelVariable('job', 'Job', 'label_values(lookout_alert_rules_rule_evaluations_total, job)'),
    labelVariable(
      'instance',
      'Instance',
      'label_values(lookout_alert_rules_rule_evaluations_total{job=~"$job"}, instance)',
    ),
    labelVariable(
      'rule_group',
      'Rule group',
      'label_values(lookout_alert_rules_rule_evaluations_total{job=~"$job", instance=~"$instance"}, rule_group)',
    ),
    labelVariable('robot', 'Robot', 'label_values(lookout_notify_outbox_depth{job=~"$job"}, robot)'),
  ],
  sections: [
    {
      title: 'Rule evaluation',
      panels: [
        timeseries({
          title: 'Rule evaluations',
          description: 'Rule evaluations per group.',
          unit: 'cps',
          queries: [
            {
              expr: rate(`lookout_alert_rules_rule_evaluations_total{${GROUPS}}`, ['rule_group']),
              legend: '{{rule_group}}',
            },
          ],
        }),
        timeseries({
          title: 'Rule evaluation failures',
          description:
            'Evaluations that failed per group: query errors, duplicate label sets, limits exceeded, remote write refused.',
          unit: 'cps',
          queries: [
            {
              expr: rate(`lookout_alert_rules_rule_evaluation_failures_total{${GROUPS}}`, ['rule_group']),
              legend: '{{rule_group}}',
            },
          ],
        }),
        timeseries({
          title: 'Rule evaluation time',
          description: 'Time one rule took to evaluate, its remote write included.',
          unit: 's',
          queries: [
            {
              expr: quantile(0.5, 'lookout_alert_rules_rule_evaluation_duration_seconds', RULES),
              legend: 'median',
            },
            {
              expr: quantile(0.99, 'lookout_alert_rules_rule_evaluation_duration_seconds', RULES),
              legend: '99th percentile',
            },
          ],
        }),
        timeseries({
          title: 'Group evaluation time against interval',
          description:
            'Time the last evaluation of each group took, and its interval: a group that takes longer misses evaluations.',
          unit: 's',
          queries: [
            {
              expr: `max by (rule_group) (lookout_alert_rules_group_last_duration_seconds{${GROUPS}})`,
              legend: '{{rule_group}} took',
            },
            {
              expr: `max by (rule_group) (lookout_alert_rules_group_interval_seconds{${GROUPS}})`,
              legend: '{{rule_group}} interval',
            },
          ],
        }),
        timeseries({
          title: 'Missed group evaluations',
          description: 'Group evaluations skipped because the one before was still running.',
          unit: 'cps',
          queries: [
            {
              expr: rate(`lookout_alert_rules_group_iterations_missed_total{${GROUPS}}`, ['rule_group']),
              legend: '{{rule_group}}',
            },
          ],
        }),
      ],
    },
    {
      title: 'Alerts and notifications',
      panels: [
        timeseries({
          title: 'Alerts by state',
          description:
            "Pending and firing alerts. These series carry each alert's own labels, so they are not narrowed by the job and instance above (with honor_labels, job and instance may be the alert's).",
          unit: 'short',
          queries: [{ expr: 'count by (alertstate) (lookout_alert_rules_alerts)', legend: '{{alertstate}}' }],
        }),
        timeseries({
          title: 'Alerts by name',
          description: 'Pending and firing alerts per alert name.',
          unit: 'short',
          queries: [
            {
              expr: 'count by (alertname, alertstate) (lookout_alert_rules_alerts)',
              legend: '{{alertname}} {{alertstate}}',
            },
          ],
        }),
        timeseries({
          title: 'Notifications per receiver',
          description: 'Notifications of alert groups handed to the chat robots of each receiver.',
          unit: 'cps',
          queries: [
            {
              expr: rate(`lookout_alert_rules_notifications_total{${RULES}}`, ['receiver']),
              legend: '{{receiver}}',
            },
          ],
        }),
        timeseries({
          title: 'Silences',
          description: 'Silences kept, by state: active, pending (starting later) and expired.',
          unit: 'short',
          queries: [{ expr: `max by (state) (lookout_alert_rules_silences{${RULES}})`, legend: '{{state}}' }],
        }),
        timeseries({
          title: 'Alerts muted',
          description: 'Alerts left out of notifications, by reason: silence, inhibition or time interval.',
          unit: 'cps',
          queries: [
            {
              expr: rate(`lookout_alert_rules_dispatch_muted_total{${RULES}}`, ['reason']),
              legend: '{{reason}}',
            },
          ],
        }),
      ],
    },
    robotSection(RULES),
  ],
});
