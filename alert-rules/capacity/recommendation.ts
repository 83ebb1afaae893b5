import type { Counter } from 'prom-client';
import type { Logger } from '../../core/log.ts';
import type { Labels, QueryApi, Sample } from '../types.ts';
import type { RecommendationConfig } from './config.ts';
import { recommendReplicas } from './replicas.ts';
import { type RunningReplicas, RunningReplicasIndex } from './running-replicas.ts';

/** The current recommendation for one workload. */
export interface WorkloadRecommendation {
  /** The workload's labels, as the demand expression returned them. */
  labels: Labels;
  /** The demand. */
  total: number;
  recommended: number;
  /** undefined while the replicas query says nothing usable about the workload. */
  running: number | undefined;
  /** When the recommendation took its current value. */
  sinceMs: number;
}

export interface RecommendationDeps {
  query: QueryApi;
  log: Logger;
  queryFailures: Counter<'recommendation' | 'query'>;
  skippedValues: Counter<'recommendation' | 'reason'>;
}

/** Label sets are keyed by their sorted pairs, so the same workload has the same key whatever the order. */
function labelsKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A plain selector keeps the metric name, which names no workload (and is no label of the gauge's). */
function workloadLabels({ __name__, ...labels }: Labels): Labels {
  return labels;
}

const SKIP_REASONS: Partial<Record<RunningReplicas['kind'], string>> = {
  invalid: 'replicas_invalid',
  ambiguous: 'replicas_ambiguous',
};

/**
 * One configured recommendation: at each evaluation it queries demand and
 * running replicas and recommends per workload. When a query fails, the
 * recommendations stay as the last evaluation left them, but are no longer
 * current: the off-recommendation alert then holds its state, as a rule does
 * whose query fails.
 */
export class Recommendation {
  readonly config: RecommendationConfig;
  private readonly deps: RecommendationDeps;
  private workloads = new Map<string, WorkloadRecommendation>();
  private answered = false;

  constructor(config: RecommendationConfig, deps: RecommendationDeps) {
    this.config = config;
    this.deps = deps;
  }

  /** False before the first evaluation and after one whose queries failed. */
  get upToDate(): boolean {
    return this.answered;
  }

  current(): WorkloadRecommendation[] {
    return [...this.workloads.values()];
  }

  async evaluate(timeMs: number, signal?: AbortSignal): Promise<void> {
    const answers = await this.query(timeMs, signal);
    if (!answers) return;
    this.answered = true;
    const [demand, replicas] = answers;
    const running = new RunningReplicasIndex(replicas);
    const next = new Map<string, WorkloadRecommendation>();
    for (const { labels, value } of demand) {
      const sample = { labels: workloadLabels(labels), value };
      const key = labelsKey(sample.labels);
      const previous = this.workloads.get(key);
      if (!Number.isFinite(value) || value < 0) {
        this.skipped('demand_invalid');
        if (previous) next.set(key, previous);
        continue;
      }
      next.set(key, this.recommend(sample, running.of(sample.labels), previous, timeMs));
    }
    this.workloads = next;
  }

  private async query(timeMs: number, signal?: AbortSignal): Promise<[Sample[], Sample[]] | undefined> {
    const { expr, replicasExpr, name } = this.config;
    const [demand, replicas] = await Promise.allSettled([
      this.deps.query.query(expr, timeMs, signal),
      this.deps.query.query(replicasExpr, timeMs, signal),
    ]);
    if (demand.status === 'fulfilled' && replicas.status === 'fulfilled')
      return [demand.value, replicas.value];
    // Stopping, not failing.
    if (signal?.aborted) return undefined;
    this.answered = false;
    for (const [query, answer] of [
      ['demand', demand],
      ['replicas', replicas],
    ] as const) {
      if (answer.status === 'fulfilled') continue;
      this.deps.queryFailures.inc({ recommendation: name, query });
      this.deps.log.warn(
        { recommendation: name, query, err: answer.reason },
        'capacity query failed; keeping the last recommendation',
      );
    }
    return undefined;
  }

  private recommend(
    sample: Sample,
    running: RunningReplicas,
    previous: WorkloadRecommendation | undefined,
    timeMs: number,
  ): WorkloadRecommendation {
    const reason = SKIP_REASONS[running.kind];
    if (reason) this.skipped(reason);
    const replicas = running.kind === 'known' ? running.replicas : undefined;
    const recommended = recommendReplicas(sample.value, replicas, this.config);
    return {
      labels: sample.labels,
      total: sample.value,
      recommended,
      running: replicas,
      sinceMs: previous?.recommended === recommended ? previous.sinceMs : timeMs,
    };
  }

  private skipped(reason: string): void {
    this.deps.skippedValues.inc({ recommendation: this.config.name, reason });
  }
}
