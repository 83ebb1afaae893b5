import { request } from 'undici';
import { z } from 'zod';
import { duration } from '../../core/config-types.ts';
import { describeError } from '../../core/errors.ts';
import {
  type HttpTarget,
  httpTargetSchema,
  openHttpTarget,
  readBodyLimited,
} from '../../core/http-target.ts';
import type { Logger } from '../../core/log.ts';
import type { Metrics } from '../../core/metrics.ts';
import { ReportThrottle } from '../../core/report-throttle.ts';
import type { AlertNotifier, Labels, PostableAlert } from '../types.ts';
import { DISPATCH_METRICS } from './metrics.ts';

const alertmanagerSchema = httpTargetSchema.extend({
  /** One post, from connecting to the end of the answer. */
  timeout: duration().default(10_000),
});

/** Sending alerts to Alertmanagers the way Prometheus's notifier does. */
export const forwardingSchema = z.strictObject({
  alertmanagers: z.array(alertmanagerSchema).min(1),
  /** Added to every alert that lacks the label (Prometheus's external_labels). */
  externalLabels: z.record(z.string(), z.string()).default({}),
  /** Alerts waiting to be posted at most; beyond it the oldest are dropped (counted). */
  queueCapacity: z.number().int().min(1).default(10_000),
  /** Alerts in one request at most. */
  maxBatchSize: z.number().int().min(1).default(256),
});

export type ForwardingConfig = z.output<typeof forwardingSchema>;
type AlertmanagerConfig = ForwardingConfig['alertmanagers'][number];

export interface ForwarderOptions {
  config: ForwardingConfig;
  log: Logger;
  metrics?: Metrics;
}

const LOG_INTERVAL_MS = 60_000;

/** How an Alertmanager is named in logs and metrics: its address without credentials or query. */
function describeAlertmanager(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

/** Of an error answer, only this much is read for its message. */
const MAX_ERROR_BYTES = 4096;

class AlertmanagerClient {
  readonly name: string;
  private readonly config: AlertmanagerConfig;
  private readonly target: HttpTarget;

  constructor(config: AlertmanagerConfig) {
    this.config = config;
    this.name = describeAlertmanager(config.url);
    this.target = openHttpTarget(config, 4);
  }

  async post(body: string): Promise<void> {
    const response = await request(this.target.url('api/v2/alerts'), {
      method: 'POST',
      headers: { ...(await this.target.headers()), 'content-type': 'application/json' },
      body,
      dispatcher: this.target.dispatcher,
      signal: AbortSignal.timeout(this.config.timeout),
    });
    const answer = await readBodyLimited(response, MAX_ERROR_BYTES).catch(() => Buffer.alloc(0));
    if (response.statusCode < 200 || response.statusCode >= 300) {
      throw new Error(`HTTP ${response.statusCode}: ${answer.toString('utf8').slice(0, 200)}`);
    }
  }

  close(): Promise<void> {
    return this.target.close();
  }
}

/**
 * Sends the alerts rule evaluation hands over to one or more Alertmanagers,
 * as Prometheus's notifier does: external labels added, a bounded queue that
 * drops the oldest when full, batches posted to every Alertmanager at once as
 * a JSON array to `/api/v2/alerts`; a batch no Alertmanager took is dropped
 * (counted), since every firing alert is posted again at the next evaluation.
 */
export class AlertmanagerForwarder implements AlertNotifier {
  private readonly config: ForwardingConfig;
  private readonly log: Logger;
  private readonly clients: AlertmanagerClient[];
  private readonly metrics;
  private readonly dropThrottle = new ReportThrottle(LOG_INTERVAL_MS);
  private readonly failureThrottle = new ReportThrottle(LOG_INTERVAL_MS);
  private queue: PostableAlert[] = [];
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(options: ForwarderOptions) {
    this.config = options.config;
    this.log = options.log;
    this.clients = options.config.alertmanagers.map((am) => new AlertmanagerClient(am));
    const m = options.metrics;
    this.metrics = m && {
      forwarded: m.counter(DISPATCH_METRICS.forwarded),
      dropped: m.counter(DISPATCH_METRICS.forwardDropped),
      queue: m.gauge(DISPATCH_METRICS.forwardQueue),
    };
  }

  send(alerts: readonly PostableAlert[]): void {
    if (this.stopped || alerts.length === 0) return;
    const labelled = alerts.map((alert) => this.withExternalLabels(alert));
    const over = this.queue.length + labelled.length - this.config.queueCapacity;
    if (over > 0) {
      // The newest alerts are the ones worth posting: the oldest go, as in Prometheus.
      const fromQueue = Math.min(over, this.queue.length);
      this.queue.splice(0, fromQueue);
      labelled.splice(0, over - fromQueue);
      this.dropped(over);
    }
    this.queue.push(...labelled);
    this.metrics?.queue.set(this.queue.length);
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves once what was queued has been posted (or dropped). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Posts what waits until the deadline, then drops the rest (counted). */
  async stop(deadline: AbortSignal): Promise<void> {
    this.stopped = true;
    const gaveUp = new Promise<void>((resolve) => {
      if (deadline.aborted) resolve();
      else deadline.addEventListener('abort', () => resolve(), { once: true });
    });
    await Promise.race([this.idle(), gaveUp]);
    if (this.queue.length > 0) {
      this.dropped(this.queue.length);
      this.queue = [];
    }
    await Promise.all(this.clients.map((client) => client.close()));
  }

  private withExternalLabels(alert: PostableAlert): PostableAlert {
    const labels: Labels = { ...alert.labels };
    for (const [name, value] of Object.entries(this.config.externalLabels)) {
      if (!labels[name]) labels[name] = value;
    }
    return { ...alert, labels };
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.config.maxBatchSize);
      this.metrics?.queue.set(this.queue.length);
      if (!(await this.postToAll(batch))) this.dropped(batch.length);
    }
  }

  /** True when at least one Alertmanager took the batch. */
  private async postToAll(batch: PostableAlert[]): Promise<boolean> {
    const body = JSON.stringify(batch);
    const outcomes = await Promise.all(
      this.clients.map(async (client) => {
        try {
          await client.post(body);
          this.metrics?.forwarded.inc({ alertmanager: client.name, outcome: 'sent' }, batch.length);
          return true;
        } catch (err) {
          this.metrics?.forwarded.inc({ alertmanager: client.name, outcome: 'failed' }, batch.length);
          if (this.failureThrottle.occur(1) > 0) {
            this.log.warn(
              { alertmanager: client.name, alerts: batch.length, error: describeError(err) },
              'could not post alerts to Alertmanager',
            );
          }
          return false;
        }
      }),
    );
    return outcomes.some(Boolean);
  }

  private dropped(count: number): void {
    this.metrics?.dropped.inc(count);
    const reported = this.dropThrottle.occur(count);
    if (reported === 0) return;
    this.log.warn(
      { alerts: reported, queueCapacity: this.config.queueCapacity },
      'alerts for Alertmanager dropped: the queue was full or no Alertmanager took them',
    );
  }
}
