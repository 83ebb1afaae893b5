import type { Metrics } from '../../core/metrics.ts';
import { ALERT_RULES_METRICS } from '../metrics.ts';
import type { RuleGroup } from './group-runner.ts';
import { METRIC_NAME } from './labels.ts';

/**
 * ALERTS and ALERTS_FOR_STATE on /metrics, under Lookout's names: each
 * series carries its alert's own labels, so they are series gauges read at
 * each scrape.
 */
export function registerAlertSeries(
  metrics: Metrics,
  groups: () => readonly RuleGroup[],
  now: () => number,
): void {
  const series = (prometheusName: string) =>
    groups().flatMap((group) =>
      group.alertingRules().flatMap((rule) =>
        rule
          .currentSeries(now())
          .filter((sample) => sample.labels[METRIC_NAME] === prometheusName)
          .map(({ labels: { [METRIC_NAME]: _, ...labels }, value }) => ({ labels, value })),
      ),
    );
  metrics.seriesGauge(ALERT_RULES_METRICS.alerts, () => series('ALERTS'));
  metrics.seriesGauge(ALERT_RULES_METRICS.alertsForState, () => series('ALERTS_FOR_STATE'));
}
