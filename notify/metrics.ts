import type { Counter, Gauge, Histogram } from 'prom-client';
import type { Metrics } from '../core/metrics.ts';

/** Why a message never reached its robot. */
export type DropReason = 'queue_full' | 'rejected' | 'shutdown' | 'unknown_robot' | 'removed';

export interface NotifyMetrics {
  sends: Counter<'robot' | 'errcode'>;
  sendSeconds: Histogram<'robot'>;
  queueDepth: Gauge<'robot'>;
  dropped: Counter<'robot' | 'reason'>;
  digested: Counter<'robot'>;
  truncated: Counter<'robot'>;
}

export function notifyMetrics(metrics: Metrics): NotifyMetrics {
  return {
    sends: metrics.counter(
      'notify_sends_total',
      'Requests to chat robots by outcome: errcode "0" is success; also http_NNN, network, timeout, invalid_response',
      ['robot', 'errcode'],
    ),
    // Up to the request timeout's range: robots answer in tens of milliseconds when healthy.
    sendSeconds: metrics.histogram(
      'notify_send_seconds',
      'Duration of one request to a chat robot',
      ['robot'],
      [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    ),
    queueDepth: metrics.gauge('notify_queue_depth', 'Messages waiting for a robot', ['robot']),
    dropped: metrics.counter(
      'notify_dropped_total',
      'Messages that never reached their robot, by reason (each is also logged)',
      ['robot', 'reason'],
    ),
    digested: metrics.counter('notify_digested_total', 'Messages delivered merged into a digest', ['robot']),
    truncated: metrics.counter(
      'notify_truncated_total',
      'Messages cut or split to fit the robot size limit',
      ['robot'],
    ),
  };
}
