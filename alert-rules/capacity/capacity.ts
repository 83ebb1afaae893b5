import { type Clock, systemClock } from '../../core/clock.ts';
import type { Logger } from '../../core/log.ts';
import type { GaugeSeries, Metrics } from '../../core/metrics.ts';
import type { AlertNotifier, Labels, QueryApi } from '../types.ts';
import type { CapacityConfig } from './config.ts';
import { CAPACITY_METRICS } from './metrics.ts';
import type { AlertState } from './off-recommendation-alerts.ts';
import { Recommendation } from './recommendation.ts';

export interface CapacityOptions {
  config: CapacityConfig;
  query: QueryApi;
  /** Where off-recommendation alerts go; without it they are evaluated but not sent. */
  notifier?: AlertNotifier;
  metrics: Metrics;
  log: Logger;
  clock?: Clock;
  /** Lookout's address as users reach it, for the alerts' generatorURL. */
  externalUrl?: string;
}

/** One workload's recommendation, as the API lists it. */
export interface RecommendationView {
  name: string;
  labels: Labels;
  total: number;
  perReplica: number;
  recommended: number;
  /** null while unknown. */
  running: number | null;
  /** RFC 3339: when the recommendation took its current value. */
  since: string;
  /** The off-recommendation alert: null when there is none (or no alert is configured). */
  alert: AlertState | null;
}

/**
 * Evaluates every configured recommendation on its own interval, exports the
 * recommendations as `lookout_recommended_replicas` and lists them for the API.
 */
export class CapacityRecommender {
  private readonly recommendations: Recommendation[];
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly stopping = new AbortController();
  private running: Promise<unknown> | undefined;

  constructor(options: CapacityOptions) {
    const { config, query, notifier, metrics, log, externalUrl } = options;
    this.clock = options.clock ?? systemClock;
    this.log = log;
    const queryFailures = metrics.counter(CAPACITY_METRICS.queryFailures);
    const skippedValues = metrics.counter(CAPACITY_METRICS.skippedValues);
    this.recommendations = config.map(
      (r) =>
        new Recommendation(r, {
          query,
          notifier,
          log,
          generatorURL: externalUrl ? `${externalUrl.replace(/\/$/, '')}/api/recommendations` : '',
          queryFailures,
          skippedValues,
        }),
    );
    metrics.seriesGauge(CAPACITY_METRICS.recommendedReplicas, () => this.series());
  }

  /** Evaluates each recommendation now and then every interval, until stop(). */
  start(): void {
    this.running ??= Promise.all(this.recommendations.map((r) => this.loop(r)));
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  /**
   * Every alert held goes to the notifier at its next evaluation: a new
   * receiver (a new leader's dispatcher) holds none of those a standby's
   * evaluations marked sent.
   */
  sendAllAgain(): void {
    for (const recommendation of this.recommendations) recommendation.sendAllAgain();
  }

  list(): RecommendationView[] {
    return this.recommendations.flatMap((r) =>
      r.current().map((w) => ({
        name: r.config.name,
        labels: w.labels,
        total: w.total,
        perReplica: r.config.perReplica,
        recommended: w.recommended,
        running: w.running ?? null,
        since: new Date(w.sinceMs).toISOString(),
        alert: w.alert ?? null,
      })),
    );
  }

  private *series(): Iterable<GaugeSeries> {
    for (const r of this.recommendations) {
      for (const w of r.current()) {
        yield { labels: { ...w.labels, recommendation: r.config.name }, value: w.recommended };
      }
    }
  }

  /** Evaluations keep to their schedule; one that overruns skips the ticks it missed. */
  private async loop(recommendation: Recommendation): Promise<void> {
    const signal = this.stopping.signal;
    const { interval } = recommendation.config;
    let tick = this.clock.now();
    while (!signal.aborted) {
      await recommendation.evaluate(tick, signal).catch((err: unknown) => {
        this.log.error({ recommendation: recommendation.config.name, err }, 'capacity evaluation failed');
      });
      const now = this.clock.now();
      tick += interval * Math.max(1, Math.ceil((now - tick) / interval));
      await this.clock.sleep(tick - now, signal);
    }
  }
}
