import { dedotLabelKey } from '../../core/record/log-record.ts';
import type { ObservedEvent } from '../event.ts';

/**
 * A Kubernetes event as a log record (ECS names, as DESIGN.md's record), so
 * the collector's search finds it by namespace, pod, node, level and text.
 */
export interface EventDocument {
  '@timestamp': string;
  message: string;
  log: { level: 'warn' | 'info' };
  event: {
    id: string;
    kind: 'event';
    dataset: 'kubernetes.event';
    reason: string;
    type: string;
    count: number;
    /** The first occurrence. */
    start: string;
  };
  kubernetes: {
    namespace: string;
    pod?: { name: string; uid?: string };
    node?: { name: string };
    object: { kind: string; name: string; uid?: string };
    labels?: Record<string, string>;
    owner?: { kind: string; name: string };
  };
  source: { component: string };
}

/**
 * One id per occurrence state of an incident: the API server keeps one Event
 * object (uid) per incident and bumps its count, so each count is archived
 * once, and a re-list that sees the same state again writes the same id.
 */
export function eventDocumentId(event: ObservedEvent): string {
  return `${event.uid}-${event.count}`;
}

export function eventDocument(event: ObservedEvent): EventDocument {
  const kubernetes: EventDocument['kubernetes'] = {
    namespace: event.namespace,
    object: { kind: event.kind, name: event.name, ...(event.objectUid && { uid: event.objectUid }) },
  };
  if (event.kind === 'Pod') {
    kubernetes.pod = { name: event.name, ...(event.objectUid && { uid: event.objectUid }) };
  }
  const node = event.kind === 'Node' ? event.name : event.host;
  if (node) kubernetes.node = { name: node };
  const labels = Object.entries(event.labels);
  // Dotted keys would make `app` and `app.kubernetes.io/name` a string and an object at once; the sidecar dedots the same way.
  if (labels.length > 0) {
    kubernetes.labels = Object.fromEntries(labels.map(([key, value]) => [dedotLabelKey(key), value]));
  }
  if (event.owner) kubernetes.owner = { kind: event.owner.kind, name: event.owner.name };
  return {
    '@timestamp': new Date(event.lastTime).toISOString(),
    message: event.message,
    log: { level: event.type === 'Warning' ? 'warn' : 'info' },
    event: {
      id: eventDocumentId(event),
      kind: 'event',
      dataset: 'kubernetes.event',
      reason: event.reason,
      type: event.type,
      count: event.count,
      start: new Date(event.firstTime).toISOString(),
    },
    kubernetes,
    source: { component: event.source },
  };
}
