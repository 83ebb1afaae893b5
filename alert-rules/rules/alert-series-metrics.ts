import { exportedName, type GaugeDefinition, type Metrics } from '../../core/metrics.ts';
import { ALERT_RULES_METRICS } from '../metrics.ts';
import type { TimedSample } from '../types.ts';
import type { RuleGroup } from './group-runner.ts';
import { METRIC_NAME } from './labels.ts';

/**
 * ALERTS and ALERTS_FOR_STATE on /metrics, under Lookout's names: each
 * series carries its alert's own labels, which a prom-client gauge (fixed
 * label names) cannot, so these are collectors computed at each scrape.
 */
export function registerAlertSeries(
  metrics: Metrics,
  groups: () => readonly RuleGroup[],
  now: () => number,
): void {
  const series = () =>
    groups().flatMap((group) => group.alertingRules().flatMap((rule) => rule.currentSeries(now())));
  register(metrics, ALERT_RULES_METRICS.alerts, 'ALERTS', series);
  register(metrics, ALERT_RULES_METRICS.alertsForState, 'ALERTS_FOR_STATE', series);
}

function register(
  metrics: Metrics,
  definition: GaugeDefinition,
  prometheusName: string,
  series: () => TimedSample[],
): void {
  const name = exportedName(definition);
  const collect = () => ({
    name,
    help: definition.help,
    type: 'gauge',
    aggregator: 'sum',
    values: series()
      .filter((sample) => sample.labels[METRIC_NAME] === prometheusName)
      .map(({ labels: { [METRIC_NAME]: _, ...labels }, value }) => ({ labels, value })),
  });
  const collector = {
    name,
    help: definition.help,
    type: 'gauge',
    aggregator: 'sum',
    get: async () => collect(),
  };
  // A manager made again (a reload of the component) takes the names over from the one before.
  metrics.registry.removeSingleMetric(name);
  metrics.registry.registerMetric(
    collector as unknown as Parameters<typeof metrics.registry.registerMetric>[0],
  );
}
