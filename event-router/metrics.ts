import type { MetricCatalogue } from '../core/metrics.ts';

/** Every metric the event router exports (its chat robots add notify's). */
export const EVENT_ROUTER_METRICS = {
  events: {
    type: 'counter',
    name: 'event_router_events_total',
    help: 'Events observed, by verdict',
    labels: ['verdict'],
  },
  routed: {
    type: 'counter',
    name: 'event_router_routed_total',
    help: 'New or recurring events that matched at least one route',
  },
  messages: {
    type: 'counter',
    name: 'event_router_messages_total',
    help: 'Messages made from routed events: single, update or storm (a summary of many objects)',
    labels: ['kind'],
  },
  groupsEvicted: {
    type: 'counter',
    name: 'event_router_groups_evicted_total',
    help: 'Groups forgotten at the group cap while occurrences were still waiting to be sent (those are lost)',
  },
  groups: {
    type: 'gauge',
    name: 'event_router_groups',
    help: 'Groups (route, object, reason) remembered',
  },
  eventsSeen: {
    type: 'counter',
    name: 'event_router_events_seen_total',
    help: 'Kubernetes events received, by list or watch',
    labels: ['via'],
  },
  watchRelists: {
    type: 'counter',
    name: 'event_router_watch_relists_total',
    help: 'Event lists repeated after a watch expired',
  },
  watchRestarts: {
    type: 'counter',
    name: 'event_router_watch_restarts_total',
    help: 'Event watches opened again after they closed or failed',
    labels: ['reason'],
  },
  enrichRequests: {
    type: 'counter',
    name: 'event_router_enrich_requests_total',
    help: 'API server requests for the labels and owner of involved objects, by kind and outcome (found, not_found, error)',
    labels: ['kind', 'outcome'],
  },
  archiveWritten: {
    type: 'counter',
    name: 'event_router_archive_written_total',
    help: 'Events written to the archive',
  },
  archiveRejected: {
    type: 'counter',
    name: 'event_router_archive_rejected_total',
    help: 'Events the archive store refused for good (logged with the reason)',
  },
  archiveDropped: {
    type: 'counter',
    name: 'event_router_archive_dropped_total',
    help: 'Events never archived: the buffer was full (overflow) or the router stopped first (shutdown)',
    labels: ['reason'],
  },
  archiveRetries: {
    type: 'counter',
    name: 'event_router_archive_retries_total',
    help: 'Events sent again after the store failed or was busy',
  },
  archiveBuffered: {
    type: 'gauge',
    name: 'event_router_archive_buffered',
    help: 'Events waiting to be archived',
  },
  archiveUp: {
    type: 'gauge',
    name: 'event_router_archive_up',
    help: '1 while the archive store takes writes, 0 while it fails',
  },
  stateSaveFailures: {
    type: 'counter',
    name: 'event_router_state_save_failures_total',
    help: 'Failed saves of the resume point (retried at the next interval)',
  },
} as const satisfies MetricCatalogue;
