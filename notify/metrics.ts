import type { Counter, Gauge, Histogram } from 'prom-client';
import type { Metrics } from '../core/metrics.ts';

/** Why a message was dead-lettered: it left the outbox without reaching its robot. */
export type DropReason =
  | 'queue_full'
  | 'rejected'
  | 'shutdown'
  | 'unknown_robot'
  | 'removed'
  | 'outbox_failed';

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
    outboxDepth: metrics.gauge(
      'notify_outbox_depth',
      'Messages waiting in the outbox for a robot (the rate limit, a throttle, or the robot down)',
      ['robot'],
    ),
    outboxOldest: metrics.gauge(
      'notify_outbox_oldest_seconds',
      'Age of the oldest message waiting in the outbox; 0 when none waits',
      ['robot'],
      function collect() {
        this.reset();
        for (const [robot, queuedAt] of oldestQueuedAt()) {
          this.set({ robot }, queuedAt === undefined ? 0 : Math.max(0, now() - queuedAt) / 1000);
        }
      },
    ),
    replayed: metrics.counter(
      'notify_outbox_replayed_total',
      'Messages found waiting in the outbox at start, left by the previous process',
      ['robot'],
    ),
    outboxMerged: metrics.counter(
      'notify_outbox_merged_total',
      'Messages merged into a digest because the outbox held queue.maxMessages',
      ['robot'],
    ),
    outboxCorrupt: metrics.counter(
      'notify_outbox_corrupt_total',
      'Outbox files found corrupt at start and moved aside unread',
      ['robot'],
    ),
    dropped: metrics.counter(
      'notify_dropped_total',
      'Messages dead-lettered: they left the outbox without reaching their robot, by reason (each is also logged)',
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
