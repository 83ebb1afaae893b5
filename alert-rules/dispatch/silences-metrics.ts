import type { MetricCatalogue } from '../../core/metrics.ts';

/** The metrics of alert-rules' silences. */
export const SILENCE_METRICS = {
  silences: {
    type: 'gauge',
    name: 'alert_rules_silences',
    help: 'Silences kept, by state (active, pending, expired)',
    labels: ['state'],
  },
  storeCorrupt: {
    type: 'counter',
    name: 'alert_rules_silence_store_corrupt_total',
    help: 'Times the stored silences could not be read at start (moved aside; started with none)',
  },
  storeWriteFailures: {
    type: 'counter',
    name: 'alert_rules_silence_store_write_failures_total',
    help: 'Failed writes of the silences (they stay in memory and are written with the next change)',
  },
} as const satisfies MetricCatalogue;
