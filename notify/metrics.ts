import type { Counter, Gauge, Histogram } from 'prom-client';
import type { MetricCatalogue, Metrics } from '../core/metrics.ts';

/** Why a message never reached its robot. */
export type DropReason = 'queue_full' | 'rejected' | 'shutdown' | 'unknown_robot' | 'removed';

export const NOTIFY_METRICS = {
  sends: {
    type: 'counter',
    name: 'notify_sends_total',
    help: 'Requests to chat robots by outcome: errcode "0" is success; also http_NNN, network, timeout, invalid_response',
    labels: ['robot', 'errcode'],
  },
  sendSeconds: {
    type: 'histogram',
    name: 'notify_send_seconds',
    help: 'Duration of one request to a chat robot',
    labels: ['robot'],
    // Up to the request timeout's range: robots answer in tens of milliseconds when healthy.
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  },
  queueDepth: {
    type: 'gauge',
    name: 'notify_queue_depth',
    help: 'Messages waiting for a robot',
    labels: ['robot'],
  },
  dropped: {
    type: 'counter',
    name: 'notify_dropped_total',
    help: 'Messages that never reached their robot, by reason (each is also logged)',
    labels: ['robot', 'reason'],
  },
  digested: {
    type: 'counter',
    name: 'notify_digested_total',
    help: 'Messages delivered merged into a digest',
    labels: ['robot'],
  },
  truncated: {
    type: 'counter',
    name: 'notify_truncated_total',
    help: 'Messages cut or split to fit the robot size limit',
    labels: ['robot'],
  },
} as const satisfies MetricCatalogue;

export interface NotifyMetrics {
  sends: Counter<'robot' | 'errcode'>;
  sendSeconds: Histogram<'robot'>;
  queueDepth: Gauge<'robot'>;
  dropped: Counter<'robot' | 'reason'>;
  digested: Counter<'robot'>;
  truncated: Counter<'robot'>;
}

export function notifyMetrics(metrics: Metrics): NotifyMetrics {
  const m = NOTIFY_METRICS;
  return {
    sends: metrics.counter(m.sends),
    sendSeconds: metrics.histogram(m.sendSeconds),
    queueDepth: metrics.gauge(m.queueDepth),
    dropped: metrics.counter(m.dropped),
    digested: metrics.counter(m.digested),
    truncated: metrics.counter(m.truncated),
  };
}
