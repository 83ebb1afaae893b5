import { HttpError, type Principal, scopeNamespaces } from '../../core/auth.ts';
import { FIELD_NAME, SHORT_FIELDS } from '../../core/log-query/fields.ts';
import { parseTextQuery, TextQueryError } from '../../core/log-query/text-query.ts';
import { isLogTime, parseInterval, parseTime, TimeError } from './time.ts';
import type { FieldFilter, SearchQuery, SortKey } from './types.ts';

/** Query-string parameters as fastify hands them over: repeated keys become arrays. */
export type QueryParams = Record<string, string | string[] | undefined>;

const FIELD_PREFIX = 'f.';
const MAX_HISTOGRAM_BUCKETS = 2_000;
const MAX_FACET_FIELDS = 8;
const MAX_FACET_VALUES = 100;
/** Fields whose every line has a value of its own: counting them tells nothing. */
const NOT_FACETS = new Set(['message', '@timestamp', 'event.id', 'log.offset']);

export interface SearchLimits {
  maxPageSize: number;
  /** Values of all keyword filters together: each is a term the store matches on every candidate line. */
  maxFilterValues: number;
  defaultPageSize?: number;
}

function values(params: QueryParams, key: string): string[] {
  const raw = params[key];
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

function single(params: QueryParams, key: string): string | undefined {
  const raw = params[key];
  const value = Array.isArray(raw) ? raw.at(-1) : raw;
  return value === undefined || value === '' ? undefined : value;
}

function badRequest(message: string): HttpError {
  return new HttpError(400, message);
}

/** The cursor is the sort key of the last hit, opaque to clients. */
export function encodeCursor(key: SortKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string): SortKey {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(key) &&
      key.length === 3 &&
      isLogTime(key[0]) &&
      Number.isSafeInteger(key[1]) &&
      typeof key[2] === 'string'
    ) {
      return key as SortKey;
    }
  } catch {
    // Falls through to the error below.
  }
  throw badRequest('cursor is not one this API returned');
}

/** Keyword filters from `namespace=…`, `pod=…`, …, and `f.<field>=…` for any other field. */
function filtersOf(params: QueryParams, maxValues: number): FieldFilter[] {
  const filters: FieldFilter[] = [];
  for (const [short, field] of Object.entries(SHORT_FIELDS)) {
    const list = values(params, short);
    if (list.length > 0) filters.push({ field, values: list });
  }
  for (const key of Object.keys(params)) {
    if (!key.startsWith(FIELD_PREFIX)) continue;
    const field = key.slice(FIELD_PREFIX.length);
    if (!FIELD_NAME.test(field)) throw badRequest(`"${field}" is not a field name`);
    const list = values(params, key);
    if (list.length > 0) filters.push({ field, values: list });
  }
  const count = filters.reduce((sum, f) => sum + f.values.length, 0);
  if (count > maxValues) {
    throw badRequest(
      `a search may filter on at most ${maxValues} values in all (namespace, pod, container, node, level and f.* together); this one has ${count}`,
    );
  }
  return filters;
}

/**
 * A search from the query string of `/api/logs/search` (also used by tail and
 * export). The token's namespaces bound the query; asking for another
 * namespace by name is refused outright rather than silently answered empty.
 */
export function searchQueryOf(
  params: QueryParams,
  principal: Principal,
  limits: SearchLimits,
  now = Date.now(),
): SearchQuery {
  try {
    const from = parseTime(single(params, 'from') ?? 'now-15m', now);
    const to = parseTime(single(params, 'to') ?? 'now', now);
    if (from >= to) throw badRequest('"from" must be before "to"');
    const filters = filtersOf(params, limits.maxFilterValues);
    const asked = filters.find((f) => f.field === SHORT_FIELDS.namespace)?.values;
    const namespaces = principal.namespaces ? scopeNamespaces(principal, asked) : undefined;
    const order = single(params, 'order') ?? 'desc';
    if (order !== 'desc' && order !== 'asc') throw badRequest('order is "desc" (newest first) or "asc"');
    const size = Number(single(params, 'size') ?? limits.defaultPageSize ?? 100);
    if (!Number.isInteger(size) || size < 1 || size > limits.maxPageSize) {
      throw badRequest(`size must be a whole number from 1 to ${limits.maxPageSize}`);
    }
    const query: SearchQuery = { from, to, filters, order, size };
    const text = single(params, 'q');
    if (text) query.text = parseTextQuery(text);
    if (namespaces) query.namespaces = namespaces;
    const cursor = single(params, 'cursor');
    if (cursor) query.after = decodeCursor(cursor);
    const histogram = single(params, 'histogram');
    if (histogram) {
      query.histogramIntervalMs = parseInterval(histogram);
      if ((to - from) / query.histogramIntervalMs > MAX_HISTOGRAM_BUCKETS) {
        throw badRequest(
          `the histogram would have more than ${MAX_HISTOGRAM_BUCKETS} buckets; use a wider interval`,
        );
      }
    }
    return query;
  } catch (err) {
    if (err instanceof TextQueryError) throw badRequest(`q: ${err.message}`);
    if (err instanceof TimeError) throw badRequest(err.message);
    throw err;
  }
}

/** A field lines are counted by, named by a filter's short name or its dotted name. */
function countedField(name: string, verb: string): { name: string; field: string } {
  const field = SHORT_FIELDS[name] ?? name;
  if (!FIELD_NAME.test(field)) throw badRequest(`"${name}" is not a field name`);
  if (NOT_FACETS.has(field))
    throw badRequest(`${field} has a value of its own on every line: nothing to ${verb}`);
  return { name, field };
}

/** The fields `/api/logs/facets` counts (the filters' short names or dotted field names) and how many values of each. */
export function facetsOf(params: QueryParams): { fields: { name: string; field: string }[]; top: number } {
  const names = values(params, 'field');
  if (names.length === 0) throw badRequest('name the fields to count: field=namespace&field=level');
  if (names.length > MAX_FACET_FIELDS) throw badRequest(`at most ${MAX_FACET_FIELDS} fields at once`);
  const fields = [...new Set(names)].map((name) => countedField(name, 'count'));
  const top = Number(single(params, 'top') ?? 20);
  if (!Number.isInteger(top) || top < 1 || top > MAX_FACET_VALUES) {
    throw badRequest(`top must be a whole number from 1 to ${MAX_FACET_VALUES}`);
  }
  return { fields, top };
}

const MAX_GROUP_BY_FIELDS = 4;

/** `/api/logs/count`'s `groupBy` fields (short or dotted names) and how many groups it may list. */
export function groupByOf(
  params: QueryParams,
  maxCountGroups: number,
): { fields: { name: string; field: string }[]; maxGroups: number } {
  const names = [...new Set(values(params, 'groupBy'))];
  if (names.length > MAX_GROUP_BY_FIELDS)
    throw badRequest(`groupBy takes at most ${MAX_GROUP_BY_FIELDS} fields`);
  const fields = names.map((name) => countedField(name, 'group by'));
  const maxGroups = Number(single(params, 'maxGroups') ?? maxCountGroups);
  if (!Number.isInteger(maxGroups) || maxGroups < 1 || maxGroups > maxCountGroups) {
    throw badRequest(`maxGroups must be a whole number from 1 to ${maxCountGroups}`);
  }
  return { fields, maxGroups };
}

/**
 * What a field's values are counted over: the search without the field's own filter, so the values
 * not chosen show too. For the namespace that is every namespace the token may read.
 */
export function facetQuery(query: SearchQuery, field: string, principal: Principal): SearchQuery {
  const own: SearchQuery = { ...query, filters: query.filters.filter((f) => f.field !== field) };
  if (field === SHORT_FIELDS.namespace) {
    if (principal.namespaces) own.namespaces = principal.namespaces;
    else delete own.namespaces;
  }
  return own;
}
