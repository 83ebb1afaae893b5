import { parseTimestamp } from '../../../core/record/log-record.ts';
import type { FieldFilter, SearchQuery, TextQuery } from '../../query/types.ts';
import { keywordText } from './record.ts';
import { ALL_TOKEN, keywordToken, tokenize } from './tokens.ts';

/**
 * Turns a search into one FTS5 MATCH expression plus conditions on real
 * columns. The expression is built only from quoted words (a `"` inside one
 * doubled), column names and the operators chosen here, so what a user
 * types can only ever be a word to look for; every other value is a bound
 * parameter.
 */

/** An FTS5 expression, what it means negated, or a constant. */
type Node = boolean | { match: string } | { not: string };

const ALL = `{keys} : "${ALL_TOKEN}"`;

function quote(word: string): string {
  return `"${word.replaceAll('"', '""')}"`;
}

/** Consecutive words as one FTS5 phrase; no words matches nothing, as in Elasticsearch. */
function phrase(column: 'body' | 'keys', words: string[]): Node {
  if (words.length === 0) return false;
  return { match: `{${column}} : ${words.map(quote).join(' + ')}` };
}

function positive(node: { match: string } | { not: string }): string {
  return 'match' in node ? node.match : `(${ALL} NOT (${node.not}))`;
}

function not(node: Node): Node {
  if (typeof node === 'boolean') return !node;
  return 'match' in node ? { not: node.match } : { match: node.not };
}

function and(nodes: Node[]): Node {
  const yes: string[] = [];
  const no: string[] = [];
  for (const node of nodes) {
    if (node === false) return false;
    if (node === true) continue;
    if ('match' in node) yes.push(node.match);
    else no.push(node.not);
  }
  if (yes.length === 0 && no.length === 0) return true;
  if (yes.length === 0) return { not: no.length === 1 ? no[0]! : `(${no.join(') OR (')})` };
  const all = yes.length === 1 ? yes[0]! : `(${yes.join(') AND (')})`;
  return { match: no.length === 0 ? all : `(${all}) NOT ((${no.join(') OR (')}))` };
}

function or(nodes: Node[]): Node {
  const parts: string[] = [];
  for (const node of nodes) {
    if (node === true) return true;
    if (node !== false) parts.push(positive(node));
  }
  if (parts.length === 0) return false;
  return { match: parts.length === 1 ? parts[0]! : `(${parts.join(') OR (')})` };
}

function text(query: TextQuery): Node {
  switch (query.kind) {
    case 'word':
    case 'phrase':
      // A word the analyzer splits (CJK, `foo-bar`) is the phrase of its parts.
      return phrase('body', tokenize(query.value));
    case 'field':
      return keyword(query.field, [query.value]);
    case 'and':
      return and(query.children.map(text));
    case 'or':
      return or(query.children.map(text));
    case 'not':
      return not(text(query.child));
  }
}

/** Any of the values: a number also matches as JSON writes it, so "200" and "200.0" both find 200. */
function keyword(field: string, values: readonly string[]): Node {
  const words = new Set<string>();
  for (const value of values) {
    words.add(keywordToken(field, value));
    const number = value.trim() === '' ? Number.NaN : Number(value);
    if (Number.isFinite(number)) words.add(keywordToken(field, keywordText(number)));
  }
  return or([...words].map((word) => phrase('keys', [word])));
}

/** A condition on a column of `logs l`, with its parameters. */
export interface Condition {
  sql: string;
  params: (string | number)[];
}

export interface Plan {
  /** The MATCH expression; undefined when nothing can match. */
  match: string | undefined;
  /** Exact checks on columns, applied to what the MATCH finds. */
  conditions: Condition[];
  /** Whether the conditions can turn down many of the lines the MATCH finds, so a scan must go in steps. */
  selective: boolean;
  /** The time range [from, to] in whole milliseconds, narrowed by filters on time or id. */
  from: number;
  to: number;
}

/** Filters on what the store keeps as columns rather than as keyword words. */
const COLUMNS: Record<string, 'id' | 'time' | 'byte_offset'> = {
  'event.id': 'id',
  '@timestamp': 'time',
  'log.offset': 'byte_offset',
};

/**
 * The namespace scope is enforced twice: as a keyword word in the MATCH
 * (which makes scoped searches fast) and as an exact check on the stream's
 * namespace column, so that it never rests on a hash alone.
 */
export const SCOPE_CONDITION =
  'l.stream IN (SELECT id FROM streams WHERE namespace IN (SELECT value FROM json_each(?)))';

export function plan(query: SearchQuery, idTimes: (ids: string[]) => number[]): Plan {
  const nodes: Node[] = [];
  const conditions: Condition[] = [];
  let selective = false;
  let from = Math.ceil(query.from);
  let to = Math.ceil(query.to) - 1;
  const narrow = (times: number[]) => {
    from = Math.max(from, Math.min(...times));
    to = Math.min(to, Math.max(...times));
  };
  if (query.namespaces) {
    nodes.push(keyword('kubernetes.namespace', query.namespaces));
    conditions.push({ sql: SCOPE_CONDITION, params: [JSON.stringify(query.namespaces)] });
  }
  for (const filter of query.filters) {
    if (filter.field.trim() === '') throw new Error('a field filter needs a field name');
    const column = columnFilter(filter);
    if (!column) {
      nodes.push(keyword(filter.field, filter.values));
      continue;
    }
    if (column.values.length === 0) return { match: undefined, conditions, selective, from, to };
    conditions.push({
      sql: `l.${column.column} IN (SELECT value FROM json_each(?))`,
      params: [JSON.stringify(column.values)],
    });
    // Ids and times pin the range down to a few milliseconds; offsets do not and are checked line by line.
    if (column.column === 'id') narrow(idTimes(column.values as string[]));
    else if (column.column === 'time') narrow(column.values as number[]);
    else selective = true;
  }
  if (query.text) nodes.push(text(query.text));
  const node = and(nodes);
  if (node === false || from > to) return { match: undefined, conditions, selective, from, to };
  return { match: node === true ? ALL : positive(node), conditions, selective, from, to };
}

function columnFilter(filter: FieldFilter): { column: string; values: (string | number)[] } | undefined {
  const column = COLUMNS[filter.field];
  if (!column) return undefined;
  if (column === 'id') return { column, values: filter.values };
  const values: number[] = [];
  for (const value of filter.values) {
    const parsed =
      column === 'time' ? parseTimestamp(value) : value.trim() === '' ? Number.NaN : Number(value);
    if (parsed !== undefined && Number.isFinite(parsed)) values.push(parsed);
  }
  return { column, values };
}
