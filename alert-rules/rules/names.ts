/**
 * Names as Prometheus's classic (pre-UTF-8) validation has them, which every
 * Prometheus and remote-write receiver accepts.
 */

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export const METRIC_NAME_LABEL = '__name__';

export function isLabelName(name: string): boolean {
  return LABEL_NAME.test(name);
}

export function isMetricName(name: string): boolean {
  return METRIC_NAME.test(name);
}
