import type { MetricCatalogue } from '../../core/metrics.ts';

/** Every metric of the built-in Alertmanager-style dispatch and of the forwarding to Alertmanagers. */
export const DISPATCH_METRICS = {
  alerts: {
    type: 'gauge',
    name: 'alert_rules_dispatch_alerts',
    help: 'Alerts held in aggregation groups (an alert on several routes counts once per route)',
  },
  groups: {
    type: 'gauge',
    name: 'alert_rules_dispatch_groups',
    help: 'Aggregation groups (route and group labels) with alerts',
  },
  alertsDropped: {
    type: 'counter',
    name: 'alert_rules_dispatch_alerts_dropped_total',
    help: 'Alerts not taken: invalid (no labels, bad times) or over dispatch.maxAlerts',
    labels: ['reason'],
  },
  muted: {
    type: 'counter',
    name: 'alert_rules_dispatch_muted_total',
    help: 'Alerts left out of a notification: silenced, inhibited, or their route muted by a time interval',
    labels: ['reason'],
  },
  notifications: {
    type: 'counter',
    name: 'alert_rules_notifications_total',
    help: 'Notifications of alert groups handed to chat robots, by receiver',
    labels: ['receiver'],
  },
  webhookNotifications: {
    type: 'counter',
    name: 'alert_rules_webhook_notifications_total',
    help: "Alert groups from Alertmanager's webhook handed to a chat robot, by robot",
    labels: ['robot'],
  },
  messageTemplateFailures: {
    type: 'counter',
    name: 'alert_rules_message_template_failures_total',
    help: "Messages whose own template failed (a receiver's, or a robot's on the webhook bridge); the default message was sent instead",
    labels: ['source', 'name'],
  },
  notificationsFailed: {
    type: 'counter',
    name: 'alert_rules_notifications_failed_total',
    help: 'Notifications no robot took (unknown receiver, robots unknown or stopped); retried at the next group interval',
    labels: ['receiver', 'reason'],
  },
  forwarded: {
    type: 'counter',
    name: 'alert_rules_forwarded_alerts_total',
    help: 'Alerts posted to an Alertmanager, by Alertmanager and outcome (sent, failed)',
    labels: ['alertmanager', 'outcome'],
  },
  forwardDropped: {
    type: 'counter',
    name: 'alert_rules_forward_dropped_total',
    help: 'Alerts for Alertmanager dropped: the queue was full (the oldest go first) or no Alertmanager took their batch',
  },
  forwardQueue: {
    type: 'gauge',
    name: 'alert_rules_forward_queue_length',
    help: 'Alerts waiting to be posted to the Alertmanagers',
  },
} as const satisfies MetricCatalogue;
