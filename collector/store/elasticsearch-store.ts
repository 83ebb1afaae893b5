import type { Client } from '@elastic/elasticsearch';
import { bulkChunks, DEFAULT_BULK_LIMITS } from '../../core/bulk-chunks.ts';
import {
  type BulkVerdicts,
  bulkCreate,
  bulkItemOutcome,
  createElasticsearchClient,
  DailyIndex,
  templateInstaller,
} from '../../core/elasticsearch.ts';
import type { ElasticsearchConnection } from '../../core/elasticsearch-config.ts';
import type { Logger } from '../../core/log.ts';
import type { LogRecord } from '../../core/record/log-record.ts';
import { emptyBuckets } from '../query/histogram.ts';
import type { SearchQuery } from '../query/types.ts';
import {
  type Dsl,
  fieldFilter,
  lineOrder,
  namespaceFilter,
  sortKey,
  textQuery,
  timeRange,
} from './elasticsearch-query.ts';
import { boundedDoc } from './hit-doc.ts';
import type {
  ContextQuery,
  ContextResult,
  CountResult,
  FacetResult,
  LogHit,
  LogStore,
  SearchResult,
  WriteOutcome,
} from './store.ts';

const DAY_MS = 86_400_000;
/** What Elasticsearch counts exactly before it answers "at least 10,000". */
const TOTAL_LIMIT = 10_000;
/** index.max_result_window: no page may reach past it. */
const MAX_WINDOW = 10_000;
/** Buckets a histogram may have; the cluster refuses more than search.max_buckets (65,536) anyway. */
/**
 * Characters of index names a request path may carry: Elasticsearch refuses
 * request lines over 4 KiB (http.max_initial_line_length), and the path
 * shares that with the query string.
 */
const PATH_BUDGET = 3_000;
const OK: WriteOutcome = { result: 'ok' };
const DUPLICATE: WriteOutcome = { result: 'ok', duplicate: true };
/** The fields that make one stream when a line has no file id: the lines one container wrote to one path. */
const STREAM_FIELDS = [
  'kubernetes.namespace',
  'kubernetes.pod.name',
  'kubernetes.container.name',
  'log.file.path',
];
/** The fields that make one stream of a file known by its identity, whatever names it was read under. */
const FILE_STREAM_FIELDS = ['kubernetes.namespace', 'log.file.id'];

/** The shared connection settings plus where and how the logs are indexed. */
export interface ElasticsearchStoreConfig extends ElasticsearchConnection {
  /** Daily index pattern; the date part is the UTC day of `@timestamp`. */
  index?: string;
  shards?: number;
  replicas?: number;
  /** A write larger than this is sent as several bulk requests. */
  bulkMaxBytes?: number;
  bulkMaxDocs?: number;
}

interface RawHit {
  _id: string;
  _source?: Record<string, unknown>;
  sort?: unknown[];
  fields?: Record<string, unknown[]>;
}

interface RawSearch {
  hits?: { total?: { value: number; relation: 'eq' | 'gte' }; hits?: RawHit[] };
  aggregations?: {
    histogram?: { buckets?: { key: number; doc_count: number }[] };
    values?: { buckets?: { key: string | number; key_as_string?: string; doc_count: number }[] };
    groups?: { buckets?: { key: Record<string, string | number | boolean | null>; doc_count: number }[] };
  };
}

/** What every search of a query is limited to: its range, the caller's scope, the filters and the text. */
function queryFilter(query: SearchQuery): Dsl[] {
  const filter: Dsl[] = [
    timeRange({ gte: query.from, lt: query.to }),
    ...namespaceFilter(query.namespaces),
    ...query.filters.map(fieldFilter),
  ];
  if (query.text) filter.push(textQuery(query.text));
  return filter;
}

/** Which indices a search names: a list, or the pattern's wildcard narrowed by an `_index` filter. */
interface Targets {
  index: string | string[];
  filter?: Dsl;
}

/**
 * Logs in daily Elasticsearch indices, one per UTC day of `@timestamp`, each
 * record stored under `_id = event.id`, so the same record written twice
 * (a replay, a retried batch) is stored once.
 */
export class ElasticsearchStore implements LogStore {
  readonly kind = 'elasticsearch';
  private readonly client: Client;
  private readonly index: DailyIndex;
  private readonly config: ElasticsearchStoreConfig;
  private readonly installTemplate: () => Promise<void>;

  constructor(config: ElasticsearchStoreConfig, options: { log?: Logger } = {}) {
    const pattern = config.index ?? 'lookout-logs-{yyyy.MM.dd}';
    this.index = new DailyIndex(pattern);
    this.config = config;
    this.client = createElasticsearchClient(config);
    this.installTemplate = templateInstaller(
      this.client,
      this.index,
      { install: true, shards: config.shards, replicas: config.replicas },
      options.log,
    );
  }

  /** Installs the index template; throws while the cluster cannot be reached, and can be called again. */
  async open(): Promise<void> {
    await this.installTemplate().catch((err: unknown) => {
      throw failure('installing the index template', err);
    });
  }

  async write(records: readonly LogRecord[], signal?: AbortSignal): Promise<WriteOutcome[]> {
    const outcomes: WriteOutcome[] = new Array(records.length);
    const pending: number[] = [];
    records.forEach((record, i) => {
      const refusal = refuse(record);
      if (refusal) outcomes[i] = { result: 'reject', status: 400, reason: refusal };
      else pending.push(i);
    });
    // Two bulk requests in flight keep the cluster's write threads busy while one response travels.
    const chunks = [...this.chunks(records, pending)];
    const next = async (): Promise<void> => {
      for (let chunk = chunks.shift(); chunk; chunk = chunks.shift())
        await this.bulk(records, chunk, outcomes, signal);
    };
    await Promise.all([next(), next()]);
    return outcomes;
  }

  /** Splits by count and body size, so one bulk request stays well inside http.max_content_length. */
  private chunks(records: readonly LogRecord[], indices: number[]): Generator<number[]> {
    return bulkChunks(indices, (i) => records[i]!.doc.length, {
      maxDocs: this.config.bulkMaxDocs ?? DEFAULT_BULK_LIMITS.maxDocs,
      maxBytes: this.config.bulkMaxBytes ?? DEFAULT_BULK_LIMITS.maxBytes,
    });
  }

  private async bulk(
    records: readonly LogRecord[],
    chunk: number[],
    outcomes: WriteOutcome[],
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const docs = chunk.map((i) => {
      const record = records[i]!;
      return { index: this.index.forTime(record.time), id: record.id, doc: singleLine(record.doc) };
    });
    let verdicts: BulkVerdicts;
    try {
      verdicts = await bulkCreate(this.client, docs, signal);
    } catch (err) {
      const status = statusOf(err);
      // One record larger than the cluster takes is that record's fault; a larger request is split.
      if (status === 413 && chunk.length > 1) {
        const half = Math.ceil(chunk.length / 2);
        await this.bulk(records, chunk.slice(0, half), outcomes, signal);
        await this.bulk(records, chunk.slice(half), outcomes, signal);
        return;
      }
      if (status === 413) {
        outcomes[chunk[0]!] = {
          result: 'reject',
          status,
          reason: 'record is larger than the cluster accepts',
        };
        return;
      }
      // The cluster answered but is overloaded or failing: the records are fine, try them again later.
      if (status !== undefined && bulkItemOutcome(status) === 'retry') {
        const reason = reasonOf(err);
        for (const i of chunk) outcomes[i] = { result: 'retry', status, reason };
        return;
      }
      throw failure('bulk write', err, signal);
    }
    for (const i of chunk) outcomes[i] = OK;
    for (const at of verdicts.existing) outcomes[chunk[at]!] = DUPLICATE;
    for (const { at, status, reason } of verdicts.retry)
      outcomes[chunk[at]!] = { result: 'retry', status, reason };
    for (const { at, status, reason } of verdicts.rejected)
      outcomes[chunk[at]!] = { result: 'reject', status, reason };
  }

  async search(query: SearchQuery, signal?: AbortSignal): Promise<SearchResult> {
    const histogram = emptyBuckets(query);
    if (!Number.isInteger(query.size) || query.size < 0 || query.size > MAX_WINDOW) {
      throw new RangeError(`page size must be a whole number from 0 to ${MAX_WINDOW}, got ${query.size}`);
    }
    const empty: SearchResult = { hits: [], total: { value: 0, exact: true }, histogram };
    if (query.to <= query.from) return empty;
    const targets = await this.targets(query.from, query.to, signal);
    if (!targets) return empty;

    const filter = queryFilter(query);
    // One more than asked tells whether another page exists, so the last page carries no cursor.
    const fetch = query.size === 0 ? 0 : Math.min(query.size + 1, MAX_WINDOW);
    const request: Dsl = {
      filter_path: [
        'hits.total',
        'hits.hits._id',
        'hits.hits._source',
        'hits.hits.sort',
        'aggregations.histogram.buckets.key',
        'aggregations.histogram.buckets.doc_count',
      ],
      track_total_hits: TOTAL_LIMIT,
      size: fetch,
      sort: lineOrder(query.order),
    };
    if (query.after) request.search_after = query.after;
    if (query.histogramIntervalMs !== undefined) {
      request.aggs = {
        histogram: {
          date_histogram: { field: '@timestamp', fixed_interval: `${query.histogramIntervalMs}ms` },
        },
      };
    }
    const response = await this.searchIn(targets, filter, request, 'search', signal);
    const raw = response.hits?.hits ?? [];
    const hits = raw.slice(0, query.size).map(toHit);
    const result: SearchResult = {
      hits,
      total: {
        value: response.hits?.total?.value ?? 0,
        exact: response.hits?.total?.relation !== 'gte',
      },
    };
    // A full page of the largest size cannot peek past itself; its cursor may lead to an empty page.
    const more = raw.length > query.size || (fetch === query.size && raw.length === query.size);
    if (more && hits.length > 0) result.next = hits.at(-1)!.sort;
    if (histogram) {
      const interval = query.histogramIntervalMs!;
      const first = histogram[0]?.time ?? 0;
      for (const bucket of response.aggregations?.histogram?.buckets ?? []) {
        const slot = histogram[Math.round((bucket.key - first) / interval)];
        if (slot) slot.count = bucket.doc_count;
      }
      result.histogram = histogram;
    }
    return result;
  }

  /** A terms aggregation over every matching line: exact counts, no sample. */
  async facet(query: SearchQuery, field: string, size: number, signal?: AbortSignal): Promise<FacetResult> {
    const empty: FacetResult = { values: [], lines: 0, sampled: false };
    if (query.to <= query.from) return empty;
    const targets = await this.targets(query.from, query.to, signal);
    if (!targets) return empty;
    const request: Dsl = {
      filter_path: [
        'hits.total',
        'aggregations.values.buckets.key',
        'aggregations.values.buckets.key_as_string',
        'aggregations.values.buckets.doc_count',
      ],
      track_total_hits: true,
      size: 0,
      aggs: { values: { terms: { field, size } } },
    };
    const response = await this.searchIn(targets, queryFilter(query), request, 'facet', signal);
    return {
      values: (response.aggregations?.values?.buckets ?? []).map((b) => ({
        value: b.key_as_string ?? String(b.key),
        count: b.doc_count,
      })),
      lines: response.hits?.total?.value ?? 0,
      sampled: false,
    };
  }

  /**
   * Every matching line counted (`track_total_hits: true`), and per group by a composite
   * aggregation, whose one page of `maxGroups + 1` buckets tells whether there were more.
   */
  async count(
    query: SearchQuery,
    groupBy: readonly string[],
    maxGroups: number,
    signal?: AbortSignal,
  ): Promise<CountResult> {
    const empty: CountResult = { total: 0, groups: [], truncated: false };
    if (query.to <= query.from) return empty;
    const targets = await this.targets(query.from, query.to, signal);
    if (!targets) return empty;
    const request: Dsl = {
      filter_path: ['hits.total', 'aggregations.groups.buckets.key', 'aggregations.groups.buckets.doc_count'],
      track_total_hits: true,
      size: 0,
    };
    if (groupBy.length > 0) {
      const sources = groupBy.map((field, i) => ({ [`g${i}`]: { terms: { field, missing_bucket: true } } }));
      request.aggs = { groups: { composite: { size: maxGroups + 1, sources } } };
    }
    const response = await this.searchIn(targets, queryFilter(query), request, 'count', signal);
    const buckets = response.aggregations?.groups?.buckets ?? [];
    const groups = buckets.slice(0, maxGroups).map((bucket) => ({
      values: groupBy.map((_, i) => {
        const value = bucket.key[`g${i}`];
        return value === null || value === undefined ? null : String(value);
      }),
      count: bucket.doc_count,
    }));
    return {
      total: response.hits?.total?.value ?? 0,
      groups: groups.sort((a, b) => b.count - a.count),
      truncated: buckets.length > maxGroups,
    };
  }

  /**
   * The daily indices of [from, to), named in the path so the cluster opens
   * no others. A range too long to name every day falls back to the indices
   * that exist.
   */
  private async targets(from: number, to: number, signal?: AbortSignal): Promise<Targets | undefined> {
    const firstDay = Math.floor(from / DAY_MS);
    const lastDay = Math.floor((to - 1) / DAY_MS);
    const nameLength = this.index.forTime(from).length + 1;
    if ((lastDay - firstDay + 1) * nameLength <= PATH_BUDGET) {
      const names: string[] = [];
      for (let day = firstDay; day <= lastDay; day++) names.push(this.index.forTime(day * DAY_MS));
      return { index: names };
    }
    const existing = await this.existing(false, signal);
    return this.targetsOf(existing.filter(({ day }) => day >= firstDay && day <= lastDay));
  }

  /**
   * Indices named in the path, or when they do not fit, the wildcard with an
   * `_index` filter. The filter also keeps out other patterns the wildcard
   * covers, such as `lookout-logs-audit-…` under `lookout-logs-*`.
   */
  private targetsOf(indices: { name: string }[]): Targets | undefined {
    if (indices.length === 0) return undefined;
    const names = indices.map(({ name }) => name);
    if (names.join(',').length <= PATH_BUDGET) return { index: names };
    return { index: this.index.wildcard, filter: { terms: { _index: names } } };
  }

  /** The indices of this pattern, oldest first; other indices under the same wildcard are left out. */
  private async existing(closedToo: boolean, signal?: AbortSignal): Promise<{ name: string; day: number }[]> {
    let response: { indices?: { name: string }[] };
    try {
      response = await this.client.indices.resolveIndex(
        { name: this.index.wildcard, expand_wildcards: closedToo ? ['open', 'closed'] : 'open' },
        { signal },
      );
    } catch (err) {
      throw failure('listing indices', err, signal);
    }
    const found: { name: string; day: number }[] = [];
    for (const { name } of response.indices ?? []) {
      const day = this.index.dayOf(name);
      if (day !== undefined) found.push({ name, day });
    }
    return found.sort((a, b) => a.day - b.day);
  }

  async context(query: ContextQuery, signal?: AbortSignal): Promise<ContextResult | undefined> {
    const scope = namespaceFilter(query.namespaces);
    // The anchor's day is unknown until it is found: it is looked up by _id in every index of the
    // pattern, then each side searches only the days on its side of the anchor.
    const indices = await this.existing(false, signal);
    const everywhere = this.targetsOf(indices);
    if (!everywhere) return undefined;
    const found = await this.searchIn(
      everywhere,
      [{ ids: { values: [query.id] } }, ...scope],
      {
        filter_path: ['hits.hits._id', 'hits.hits._source', 'hits.hits.sort', 'hits.hits.fields'],
        track_total_hits: false,
        size: 1,
        sort: lineOrder('asc'),
        docvalue_fields: [...STREAM_FIELDS, 'log.file.id'],
      },
      'context lookup',
      signal,
    );
    const anchorHit = found.hits?.hits?.[0];
    if (!anchorHit) return undefined;
    const anchor = toHit(anchorHit);
    const byFile = anchorHit.fields?.['log.file.id']?.[0] !== undefined;
    const stream: Dsl[] = (byFile ? FILE_STREAM_FIELDS : STREAM_FIELDS).map((field) => {
      const value = anchorHit.fields?.[field]?.[0];
      // A line without, say, a container name belongs with the others that have none.
      return value === undefined
        ? { bool: { must_not: [{ exists: { field } }] } }
        : { term: { [field]: value } };
    });
    const time = anchor.sort[0];
    const anchorDay = Math.floor(time / DAY_MS);
    const side = async (order: 'asc' | 'desc', size: number): Promise<LogHit[]> => {
      const targets = this.targetsOf(
        indices.filter(({ day }) => (order === 'asc' ? day >= anchorDay : day <= anchorDay)),
      );
      if (size <= 0 || !targets) return [];
      const response = await this.searchIn(
        targets,
        [timeRange(order === 'asc' ? { gte: time } : { lte: time }), ...stream, ...scope],
        {
          filter_path: ['hits.hits._id', 'hits.hits._source', 'hits.hits.sort'],
          track_total_hits: false,
          size: Math.min(size, MAX_WINDOW),
          sort: lineOrder(order),
          search_after: anchor.sort,
        },
        'context search',
        signal,
      );
      return (response.hits?.hits ?? []).map(toHit);
    };
    const [before, after] = await Promise.all([side('desc', query.before), side('asc', query.after)]);
    return { before: before.reverse(), anchor, after };
  }

  async deleteBefore(cutoff: number): Promise<string[]> {
    const cutoffDay = Math.floor(cutoff / DAY_MS);
    const names = (await this.existing(true)).filter(({ day }) => day < cutoffDay).map(({ name }) => name);
    for (const batch of pathBatches(names)) {
      try {
        await this.client.indices.delete({ index: batch, ignore_unavailable: true });
      } catch (err) {
        throw failure('deleting old indices', err);
      }
    }
    return names;
  }

  /**
   * Cluster health rather than `HEAD /`: minimal distributions (the
   * integ-test-zip) have no root endpoint, and health answers even while
   * some old index is red, which should not take search out of service.
   */
  async ping(signal?: AbortSignal): Promise<boolean> {
    try {
      await this.client.cluster.health({ filter_path: 'status' }, { signal });
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /** A search of log lines: every filter in filter context, and a failed shard fails the whole answer. */
  private async searchIn(
    targets: Targets,
    filter: Dsl[],
    request: Dsl,
    what: string,
    signal?: AbortSignal,
  ): Promise<RawSearch> {
    try {
      return (await this.client.search(
        {
          index: targets.index,
          ignore_unavailable: true,
          allow_no_indices: true,
          // A page missing a shard's lines would leave a gap the cursor walks past for good.
          allow_partial_search_results: false,
          ...request,
          query: { bool: { filter: targets.filter ? [...filter, targets.filter] : filter } },
        },
        { signal },
      )) as RawSearch;
    } catch (err) {
      throw failure(what, err, signal);
    }
  }
}

/** Elasticsearch refuses the whole bulk request for an overlong _id, so such a record must never reach it. */
const MAX_ID_BYTES = 512;

/** Why a record cannot be written at all, found before it is sent. */
function refuse(record: LogRecord): string | undefined {
  // NaN would name an index "…-NaN.NaN.NaN", which the cluster refuses with a less useful reason.
  if (!Number.isFinite(record.time)) return 'record has no valid @timestamp';
  if (Buffer.byteLength(record.id) > MAX_ID_BYTES) return `event.id is longer than ${MAX_ID_BYTES} bytes`;
  return undefined;
}

/** Valid JSON has newlines only between tokens, where a space means the same and keeps the bulk framing. */
function singleLine(doc: Buffer): Buffer {
  if (!doc.includes(0x0a)) return doc;
  const copy = Buffer.from(doc);
  for (let i = copy.indexOf(0x0a); i >= 0; i = copy.indexOf(0x0a, i + 1)) copy[i] = 0x20;
  return copy;
}

function toHit(hit: RawHit): LogHit {
  return { id: hit._id, sort: sortKey(hit.sort), doc: boundedDoc(hit._source ?? {}) };
}

/** Index lists for request paths, each within the path budget. */
function* pathBatches(names: string[]): Generator<string[]> {
  let batch: string[] = [];
  let length = 0;
  for (const name of names) {
    if (batch.length > 0 && length + name.length + 1 > PATH_BUDGET) {
      yield batch;
      batch = [];
      length = 0;
    }
    batch.push(name);
    length += name.length + 1;
  }
  if (batch.length > 0) yield batch;
}

function statusOf(err: unknown): number | undefined {
  const status = (err as { meta?: { statusCode?: unknown } } | undefined)?.meta?.statusCode;
  return typeof status === 'number' && status > 0 ? status : undefined;
}

/** The cluster's own words for a refusal, from the response body rather than the client's summary. */
function reasonOf(err: unknown): string {
  type Body = { error?: { type?: string; reason?: string } | string } | string;
  const body = (err as { meta?: { body?: Body } } | undefined)?.meta?.body;
  const error = typeof body === 'object' ? body.error : undefined;
  if (typeof error === 'string') return error;
  if (error?.type || error?.reason) return `${error.type ?? 'error'}: ${error.reason ?? ''}`.trim();
  return err instanceof Error ? err.message : String(err);
}

/**
 * An error naming what failed and why. Request URLs and credentials are not
 * part of it: the client's messages name the error, never the request.
 */
function failure(what: string, err: unknown, signal?: AbortSignal): Error {
  // The caller gave up: it knows why, and its own abort reason is what it looks for.
  if (signal?.aborted) return signal.reason instanceof Error ? signal.reason : (err as Error);
  const status = statusOf(err);
  const why = status === undefined ? reasonOf(err) : `HTTP ${status}, ${reasonOf(err)}`;
  return new Error(`Elasticsearch ${what} failed: ${why}`, { cause: err });
}
