import type { TextQuery } from '../../core/log-query/text-query.ts';

export type { TextQuery };

/** A keyword field (dotted ECS name such as `kubernetes.pod.name`) equal to any of the values. */
export interface FieldFilter {
  field: string;
  values: string[];
}

/** [@timestamp epoch ms, log.offset, event.id]: total order of lines, and the paging cursor. */
export type SortKey = [time: number, offset: number, id: string];

export interface SearchQuery {
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
  text?: TextQuery;
  /** All must match. */
  filters: FieldFilter[];
  /** The caller's namespace scope, enforced by the store; undefined means every namespace. */
  namespaces?: readonly string[];
  order: 'desc' | 'asc';
  size: number;
  /** Hits strictly after this key in `order`. */
  after?: SortKey;
  /** Bucket width for a histogram of counts over [from, to). */
  histogramIntervalMs?: number;
}
