import type { Labels } from '../../types.ts';

export type AlertStatus = 'firing' | 'resolved';

/** One alert as Alertmanager's webhook and templates show it; times are RFC 3339. */
export interface AlertData {
  status: AlertStatus;
  labels: Labels;
  annotations: Labels;
  startsAt: string;
  /** "0001-01-01T00:00:00Z" while firing, as Alertmanager writes it. */
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/**
 * An alert group as Alertmanager's webhook (version 4) posts it and its
 * templates see it (`.Status .Alerts .GroupLabels .CommonLabels
 * .CommonAnnotations .ExternalURL`): what every message about alerts is
 * written from, whether the group was formed here or by an Alertmanager.
 */
export interface AlertGroupData {
  receiver: string;
  status: AlertStatus;
  alerts: AlertData[];
  groupLabels: Labels;
  commonLabels: Labels;
  commonAnnotations: Labels;
  externalURL: string;
  groupKey: string;
  /** Alerts left out of `alerts` by the sender's limit. */
  truncatedAlerts: number;
}

/** How Alertmanager writes the end of an alert that has none yet. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** regexp.QuoteMeta: how Alertmanager writes a receiver's name in its template data and webhook. */
export function quoteMeta(name: string): string {
  return name.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/** The name/value pairs every map has in common. */
export function commonPairs(maps: readonly Labels[]): Labels {
  const [first, ...rest] = maps;
  const common: Labels = {};
  for (const [name, value] of Object.entries(first ?? {})) {
    if (rest.every((map) => map[name] === value)) common[name] = value;
  }
  return common;
}

/** The group as a whole: firing while any alert fires, with what all its alerts share. */
export function alertGroupData(
  group: Pick<AlertGroupData, 'receiver' | 'groupKey' | 'groupLabels' | 'externalURL'>,
  alerts: AlertData[],
): AlertGroupData {
  return {
    ...group,
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    alerts,
    commonLabels: commonPairs(alerts.map((a) => a.labels)),
    commonAnnotations: commonPairs(alerts.map((a) => a.annotations)),
    truncatedAlerts: 0,
  };
}
