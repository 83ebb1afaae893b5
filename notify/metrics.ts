import type { Counter, Gauge, Histogram } from 'prom-client';
import type { MetricCatalogue, Metrics } from '../core/metrics.ts';

/** Why a message was dead-lettered: it left the outbox without reaching its robot. */
export type DropReason =
  | 'queue_full'
  | 'rejected'
  | 'shutdown'
  | 'unknown_robot'
  | 'removed'
  | 'outbox_failed';

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
  outboxDepth: {
    type: 'gauge',
    name: 'notify_outbox_depth',
    help: 'Messages waiting in the outbox for a robot (the rate limit, a throttle, or the robot down)',
    labels: ['robot'],
  },
  outboxOldest: {
    type: 'gauge',
    name: 'notify_outbox_oldest_seconds',
    help: 'Age of the oldest message waiting in the outbox; 0 when none waits',
    labels: ['robot'],
  },
  replayed: {
    type: 'counter',
    name: 'notify_outbox_replayed_total',
    help: 'Messages found waiting in the outbox at start, left by the previous process',
    labels: ['robot'],
  },
  outboxMerged: {
    type: 'counter',
    name: 'notify_outbox_merged_total',
    help: 'Messages merged into a digest because the outbox held queue.maxMessages (or, for a leader, its share of the outbox ConfigMap)',
    labels: ['robot'],
  },
  outboxCorrupt: {
    type: 'counter',
    name: 'notify_outbox_corrupt_total',
    help: 'Outbox files found corrupt at start and moved aside unread',
    labels: ['robot'],
  },
  dropped: {
    type: 'counter',
    name: 'notify_dropped_total',
    help: 'Messages dead-lettered: they left the outbox without reaching their robot, by reason (each is also logged)',
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
  outboxDepth: Gauge<'robot'>;
  outboxOldest: Gauge<'robot'>;
  replayed: Counter<'robot'>;
  outboxMerged: Counter<'robot'>;
  outboxCorrupt: Counter<'robot'>;
  dropped: Counter<'robot' | 'reason'>;
  digested: Counter<'robot'>;
  truncated: Counter<'robot'>;
}

/**
 * `oldestQueuedAt` lists, per robot, when its oldest waiting message was
 * queued; ages are computed when scraped, so they grow while nothing happens.
 */
export function notifyMetrics(
  metrics: Metrics,
  oldestQueuedAt: () => Iterable<[robot: string, queuedAt: number | undefined]>,
  now: () => number,
): NotifyMetrics {
  const m = NOTIFY_METRICS;
  return {
    sends: metrics.counter(m.sends),
    sendSeconds: metrics.histogram(m.sendSeconds),
    outboxDepth: metrics.gauge(m.outboxDepth),
    outboxOldest: metrics.gauge(m.outboxOldest, function collect() {
      this.reset();
      for (const [robot, queuedAt] of oldestQueuedAt()) {
        this.set({ robot }, queuedAt === undefined ? 0 : Math.max(0, now() - queuedAt) / 1000);
      }
    }),
    replayed: metrics.counter(m.replayed),
    outboxMerged: metrics.counter(m.outboxMerged),
    outboxCorrupt: metrics.counter(m.outboxCorrupt),
    dropped: metrics.counter(m.dropped),
    digested: metrics.counter(m.digested),
    truncated: metrics.counter(m.truncated),
  };
}
