import type { CoreV1Event, EventsV1Event } from '@kubernetes/client-node';
import type { ObservedEvent } from '../event.ts';

/**
 * A time field as it really arrives: client-node's list calls turn RFC 3339 fields into Date objects but
 * leave MicroTime fields (eventTime, series.lastObservedTime) as strings, and watch objects are raw JSON
 * with every time a string. Anything unreadable counts as absent.
 */
type TimeField = Date | string | null | undefined;

function epochMs(value: TimeField): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

function newest(...values: TimeField[]): number | undefined {
  const times = values.map(epochMs).filter((ms) => ms !== undefined);
  return times.length > 0 ? Math.max(...times) : undefined;
}

/** Old recorders set `count`, new ones `series.count`; a core/v1 event may carry both, so trust the larger. */
function occurrences(...counts: (number | undefined)[]): number {
  return Math.max(1, ...counts.filter((n) => typeof n === 'number'));
}

function timesOf(
  first: TimeField,
  eventTime: TimeField,
  latest: TimeField[],
  created: TimeField,
): Pick<ObservedEvent, 'firstTime' | 'lastTime'> {
  // Events written with only eventTime (the events.k8s.io style) have no other time, so eventTime is both.
  const lastTime = newest(...latest, eventTime) ?? epochMs(created) ?? 0;
  return { firstTime: epochMs(first) ?? epochMs(eventTime) ?? lastTime, lastTime };
}

export function fromCoreEvent(e: CoreV1Event): ObservedEvent {
  const object = e.involvedObject ?? {};
  return {
    namespace: object.namespace || e.metadata?.namespace || '',
    kind: object.kind ?? '',
    name: object.name ?? '',
    reason: e.reason ?? '',
    type: e.type ?? '',
    message: e.message ?? '',
    source: e.source?.component || e.reportingComponent || '',
    labels: {},
    uid: e.metadata?.uid ?? '',
    eventName: e.metadata?.name ?? '',
    objectUid: object.uid || undefined,
    count: occurrences(e.count, e.series?.count),
    ...timesOf(
      e.firstTimestamp,
      e.eventTime,
      [e.series?.lastObservedTime, e.lastTimestamp],
      e.metadata?.creationTimestamp,
    ),
    host: e.source?.host || undefined,
  };
}

export function fromEventsV1(e: EventsV1Event): ObservedEvent {
  const object = e.regarding ?? {};
  return {
    namespace: object.namespace || e.metadata?.namespace || '',
    kind: object.kind ?? '',
    name: object.name ?? '',
    reason: e.reason ?? '',
    type: e.type ?? '',
    message: e.note ?? '',
    source: e.reportingController || e.deprecatedSource?.component || '',
    labels: {},
    uid: e.metadata?.uid ?? '',
    eventName: e.metadata?.name ?? '',
    objectUid: object.uid || undefined,
    count: occurrences(e.series?.count, e.deprecatedCount),
    ...timesOf(
      e.deprecatedFirstTimestamp,
      e.eventTime,
      [e.series?.lastObservedTime, e.deprecatedLastTimestamp],
      e.metadata?.creationTimestamp,
    ),
    host: e.deprecatedSource?.host || undefined,
  };
}
