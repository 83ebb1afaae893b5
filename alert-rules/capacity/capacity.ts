import { type Clock, systemClock } from '../../core/clock.ts';
import type { Logger } from '../../core/log.ts';
import type { GaugeSeries, Metrics } from '../../core/metrics.ts';
import type { Labels, QueryApi, RuleGroupSpec, Sample } from '../types.ts';
import type { CapacityConfig } from './config.ts';
import { CAPACITY_METRICS } from './metrics.ts';
import { offRecommendationGroup } from './off-recommendation-rule.ts';
import { Recommendation, type WorkloadRecommendation } from './recommendation.ts';
import {
  matchesAll,
  parseSyntheticSelector,
  SYNTHETIC_SERIES,
  type SyntheticSelector,
  type SyntheticSeriesName,
} from './synthetic-series.ts';

export interface CapacityOptions {
  config: CapacityConfig;
  query: QueryApi;
  metrics: Metrics;
  log: Logger;
  clock?: Clock;
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
}

/** The value of a workload in a synthetic series; undefined leaves the workload out. */
const SERIES_VALUES: Record<SyntheticSeriesName, (w: WorkloadRecommendation) => number | undefined> = {
  [SYNTHETIC_SERIES.offRecommendation]: (w) =>
    w.running !== undefined && w.running !== w.recommended ? w.recommended : undefined,
  [SYNTHETIC_SERIES.runningReplicas]: (w) => w.running,
};

/**
 * Evaluates every configured recommendation on its own interval, exports the
 * recommendations as `lookout_recommended_replicas` and lists them for the API.
 * Their alerts are rule groups (`ruleGroups()`) that the rule manager
 * evaluates against synthetic series (`queryApi()`).
 */
export class CapacityRecommender {
  private readonly recommendations: Recommendation[];
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly stopping = new AbortController();
  private running: Promise<unknown> | undefined;

  constructor(options: CapacityOptions) {
    const { config, query, metrics, log } = options;
    this.clock = options.clock ?? systemClock;
    this.log = log;
    const queryFailures = metrics.counter(CAPACITY_METRICS.queryFailures);
    const skippedValues = metrics.counter(CAPACITY_METRICS.skippedValues);
    this.recommendations = config.map(
      (r) => new Recommendation(r, { query, log, queryFailures, skippedValues }),
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
      })),
    );
  }

  /** One group per recommendation with an alert, for the rule manager. */
  ruleGroups(): RuleGroupSpec[] {
    return this.recommendations.flatMap(({ config }) =>
      config.alert ? [offRecommendationGroup(config, config.alert)] : [],
    );
  }

  /**
   * Answers the synthetic series' selectors from the current recommendations
   * (at whatever time asked) and passes every other expression to `inner`.
   */
  queryApi(inner: QueryApi): QueryApi {
    return {
      query: async (expr, timeMs, signal) => {
        const selector = parseSyntheticSelector(expr);
        return selector ? this.syntheticSeries(selector) : inner.query(expr, timeMs, signal);
      },
    };
  }

  /**
   * A recommendation that has no current answer fails the query instead of
   * answering with none, so that its alerts hold their state rather than resolve.
   */
  private syntheticSeries({ name, matchers }: SyntheticSelector): Sample[] {
    const value = SERIES_VALUES[name];
    const samples: Sample[] = [];
    for (const r of this.recommendations) {
      const { name: recommendation } = r.config;
      if (matchers.recommendation !== undefined && matchers.recommendation !== recommendation) continue;
      if (!r.upToDate) {
        throw new Error(
          `the recommendation ${recommendation} has no current answer: its queries failed or have not run yet`,
        );
      }
      for (const w of r.current()) {
        const labels = { ...w.labels, recommendation };
        const v = value(w);
        if (v !== undefined && matchesAll(labels, matchers)) samples.push({ labels, value: v });
      }
    }
    return samples;
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
