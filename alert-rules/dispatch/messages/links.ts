import type { AlertMessagesConfig } from './config.ts';
import type { AlertData } from './group-data.ts';

/**
 * A link to the console's log search for the alert's workload, from a while
 * before it started to now (firing) or a while after it resolved; undefined
 * without a configured address or without a namespace and a pod or container
 * label. The console asks for a viewer token where auth is on.
 */
export function logSearchLink(alert: AlertData, config: AlertMessagesConfig): string | undefined {
  const base = config.logSearchUrl;
  const { namespace, pod, container } = alert.labels;
  const startsAt = Date.parse(alert.startsAt);
  if (!base || !namespace || !(pod || container) || !Number.isFinite(startsAt)) return undefined;
  const query = new URLSearchParams({ namespace });
  if (pod) query.set('pod', pod);
  if (container) query.set('container', container);
  query.set('from', new Date(startsAt - config.logsBefore).toISOString());
  const endsAt = Date.parse(alert.endsAt);
  const resolved = alert.status === 'resolved' && Number.isFinite(endsAt);
  query.set('to', resolved ? new Date(endsAt + config.logsAfter).toISOString() : 'now');
  return `${base.replace(/\/+$/, '')}/logs?${query}`;
}

/** A URL that cannot end a markdown link early: parentheses, spaces and angle brackets escaped. */
export function markdownSafeUrl(url: string): string {
  return url.replace(/[()<> ]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}
