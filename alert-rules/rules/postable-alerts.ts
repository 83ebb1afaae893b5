import type { Labels, PostableAlert } from '../types.ts';
import type { Alert } from './alert.ts';
import { sortedLabels } from './labels.ts';
import { queryEscape } from './template/builtins.ts';

/** Prometheus's link to an expression's table view: `<base>/graph?g0.expr=…&g0.tab=1`. */
export function generatorURL(base: string, expr: string): string {
  return `${base.replace(/\/+$/, '')}/graph?g0.expr=${queryEscape(expr)}&g0.tab=1`;
}

/**
 * Alerts as Prometheus posts them: StartsAt is when the alert fired, EndsAt
 * its resolve time or, while firing, its ValidUntil; external labels are
 * added where the alert has no label of that name (Prometheus's notifier).
 */
export function postableAlerts(
  alerts: readonly Alert[],
  link: string,
  externalLabels: Labels,
): PostableAlert[] {
  return alerts.map((alert) => postableAlert(alert, link, externalLabels));
}

/** One alert as Prometheus posts it (see postableAlerts), linking to `link`. */
export function postableAlert(alert: Alert, link: string, externalLabels: Labels): PostableAlert {
  return {
    labels: sortedLabels({ ...externalLabels, ...alert.labels }),
    annotations: sortedLabels(alert.annotations),
    startsAt: new Date(alert.firedAtMs).toISOString(),
    endsAt: new Date(alert.resolvedAtMs !== 0 ? alert.resolvedAtMs : alert.validUntilMs).toISOString(),
    generatorURL: link,
  };
}
