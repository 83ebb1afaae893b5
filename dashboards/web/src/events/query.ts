import type { FilterValues } from '../query-bar.tsx';

/**
 * The filters of the Events page by their names in its URL, with the field each stands for in the
 * archived event documents (event-router/archive/document.ts).
 */
export const EVENT_FILTERS = {
  namespace: 'kubernetes.namespace',
  kind: 'kubernetes.object.kind',
  reason: 'event.reason',
  type: 'event.type',
} as const;
export type EventFilter = keyof typeof EVENT_FILTERS;
export const EVENT_FILTER_NAMES = Object.keys(EVENT_FILTERS) as EventFilter[];

export interface EventsQuery {
  q: string;
  from: string;
  to: string;
  filters: FilterValues;
}

export function eventsQueryOf(url: URL): EventsQuery {
  const p = url.searchParams;
  const filters: FilterValues = {};
  for (const name of EVENT_FILTER_NAMES) {
    const value = p.get(name);
    if (value) filters[name] = value;
  }
  return { q: p.get('q') ?? '', from: p.get('from') ?? 'now-1h', to: p.get('to') ?? 'now', filters };
}

/** The page's own address for a query. */
export function eventsUrl(query: EventsQuery): string {
  const p = new URLSearchParams();
  if (query.q) p.set('q', query.q);
  p.set('from', query.from);
  p.set('to', query.to);
  for (const name of EVENT_FILTER_NAMES) {
    const value = query.filters[name];
    if (value) p.set(name, value);
  }
  return `/events?${p}`;
}

/** The search API's parameters: the archived events only, newest first, with the filters as fields. */
export function eventsSearchParams(query: EventsQuery): URLSearchParams {
  const p = new URLSearchParams({ 'f.event.dataset': 'kubernetes.event', from: query.from, to: query.to });
  if (query.q) p.set('q', query.q);
  for (const name of EVENT_FILTER_NAMES) {
    const value = query.filters[name];
    if (value) p.set(name === 'namespace' ? 'namespace' : `f.${EVENT_FILTERS[name]}`, value);
  }
  return p;
}

/** The fields the facets API counts, one per filter (the namespace by the API's short name). */
export const FACET_FIELDS = EVENT_FILTER_NAMES.map((name) =>
  name === 'namespace' ? name : EVENT_FILTERS[name],
);
