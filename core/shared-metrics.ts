import type { MetricCatalogue } from './metrics.ts';

/** Metrics of the parts of core/ that any service may run. */
export const SHARED_METRICS = {
  leader: {
    type: 'gauge',
    name: 'leader',
    help: 'Whether this replica holds the Lease and does the work of the leader (1) or stands by (0)',
    labels: ['lease'],
  },
} as const satisfies MetricCatalogue;
