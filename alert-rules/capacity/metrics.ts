import type { MetricCatalogue } from '../../core/metrics.ts';

/** The metrics of capacity recommendations. */
export const CAPACITY_METRICS = {
  recommendedReplicas: {
    type: 'gauge',
    name: 'recommended_replicas',
    help: 'Replicas a workload needs for its current demand; the other labels are the workload labels of the demand expression',
    labels: ['recommendation'],
  },
  queryFailures: {
    type: 'counter',
    name: 'capacity_query_failures_total',
    help: 'Failed queries of a recommendation, by query (demand or replicas); the previous recommendation is kept',
    labels: ['recommendation', 'query'],
  },
  skippedValues: {
    type: 'counter',
    name: 'capacity_skipped_values_total',
    help: 'Series left out of a recommendation, by reason: demand_invalid (NaN, infinite, negative: the previous recommendation is kept), replicas_invalid or replicas_ambiguous (recommended as if the running count were unknown)',
    labels: ['recommendation', 'reason'],
  },
} as const satisfies MetricCatalogue;
