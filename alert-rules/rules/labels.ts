import type { Labels } from '../types.ts';

export const METRIC_NAME = '__name__';
export const ALERT_NAME = 'alertname';

/** Labels sorted by name, as Prometheus keeps and prints them. */
export function sortedLabels(labels: Labels): Labels {
  const out: Labels = {};
  for (const name of Object.keys(labels).sort()) out[name] = labels[name] ?? '';
  return out;
}

/** One string per distinct label set, whatever the order the labels came in. */
export function labelsKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Sets a label the way Prometheus's label builder does: an empty value removes it. */
export function setLabel(labels: Labels, name: string, value: string): void {
  if (value === '') delete labels[name];
  else labels[name] = value;
}

/** `base` with `overrides` set on top (empty values removing labels). */
export function withLabels(base: Labels, overrides: Labels): Labels {
  const out = { ...base };
  for (const [name, value] of Object.entries(overrides)) setLabel(out, name, value);
  return out;
}

/** The group's labels under the rule's own, which win where both name a label. */
export function ruleLabelsWithGroup(groupLabels: Labels, ruleLabels: Labels): Labels {
  return sortedLabels({ ...groupLabels, ...ruleLabels });
}
