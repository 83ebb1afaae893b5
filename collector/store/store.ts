import type { LogRecord } from '../../core/record/log-record.ts';
import type { SearchQuery, SortKey } from '../query/types.ts';

/** What a store made of one record of a write. */
export type WriteOutcome =
  /** Stored; `duplicate` when the id was already stored, so this copy was not (whatever it held). */
  | { result: 'ok'; duplicate?: true }
  /** The store is overloaded or failing (429/5xx): write it again later. */
  | { result: 'retry'; status: number; reason: string }
  /** The record itself is refused (a mapping conflict): dead-letter it, never retry. */
  | { result: 'reject'; status: number; reason: string };

/** One line found: its document and where it sorts. */
export interface LogHit {
  id: string;
  /** [@timestamp ms, log.offset, event.id]: the sort key, also the paging cursor. */
  sort: SortKey;
  doc: Record<string, unknown>;
}

export interface SearchResult {
  hits: LogHit[];
  /** Hits matching the query in all, up to the store's counting limit. */
  total: { value: number; exact: boolean };
  /** The cursor for the next page; absent when this page was the last. */
  next?: SortKey;
  /** Counts per time bucket over the whole query, oldest first, when asked for. */
  histogram?: { time: number; count: number }[];
}

/** The values of one field among the lines a query matches, most frequent first. */
export interface FacetResult {
  values: { value: string; count: number }[];
  /** Matching lines the counts are over. */
  lines: number;
  /** The counts are over the newest matching lines only (a sample), not all of them. */
  sampled: boolean;
}

/** Lines matching a query, in all and per combination of keyword values. */
export interface CountResult {
  total: number;
  /** One per combination of the group-by fields' values (in their order; null where a line has none), most lines first. */
  groups: { values: (string | null)[]; count: number }[];
  /** More combinations exist than were asked for: `groups` is not all of them. */
  truncated: boolean;
}

export interface ContextQuery {
  id: string;
  before: number;
  after: number;
  /** The caller's namespace scope; undefined means every namespace. */
  namespaces?: readonly string[];
}

/** Lines of one stream (namespace, pod, container, file) around an anchor, in written order. */
export interface ContextResult {
  before: LogHit[];
  anchor: LogHit;
  after: LogHit[];
}

/**
 * Where the collector keeps logs: Elasticsearch in production, node:sqlite on
 * one machine. Both answer the same queries with the same result shapes, and
 * both enforce `namespaces` inside the query they run.
 */
export interface LogStore {
  readonly kind: 'elasticsearch' | 'embedded';
  /** Creates schema or index template; safe to call again. */
  open(): Promise<void>;
  /**
   * Resolves once every `ok` record is durable (a later crash keeps it). A
   * record whose id is already stored is `ok` with `duplicate` and stays
   * stored once, as first written.
   * Outcomes are in the order of `records`. Throws when the store is unreachable.
   */
  write(records: readonly LogRecord[], signal?: AbortSignal): Promise<WriteOutcome[]>;
  search(query: SearchQuery, signal?: AbortSignal): Promise<SearchResult>;
  /** The `size` most frequent values of a keyword field among the matching lines (the query's size and cursor are ignored). */
  facet(query: SearchQuery, field: string, size: number, signal?: AbortSignal): Promise<FacetResult>;
  /**
   * Every matching line counted (the query's size and cursor are ignored), and, with `groupBy`
   * keyword fields, counted per combination of their values: at most `maxGroups` combinations.
   */
  count(
    query: SearchQuery,
    groupBy: readonly string[],
    maxGroups: number,
    signal?: AbortSignal,
  ): Promise<CountResult>;
  /** Undefined when the id is unknown or outside the caller's namespaces. */
  context(query: ContextQuery, signal?: AbortSignal): Promise<ContextResult | undefined>;
  /** Deletes whole days before the cutoff (epoch ms, UTC day boundaries); returns the days deleted. */
  deleteBefore(cutoff: number): Promise<string[]>;
  /** Whether the store answers now (for /readyz). */
  ping(signal?: AbortSignal): Promise<boolean>;
  close(): Promise<void>;
}
