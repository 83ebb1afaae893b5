import type { FieldFilter, SortKey, TextQuery } from '../query/types.ts';

/**
 * Query DSL for log search, built as objects from the parsed query: user text
 * only ever becomes the value of a match or match_phrase, never query_string
 * syntax, so nothing a user types can change the query's structure.
 */

export type Dsl = Record<string, unknown>;

const MATCH_NONE: Dsl = { match_none: {} };

/**
 * Scripts written without spaces between words: the standard analyzer cuts
 * Han and Hiragana into one token per character, so a word of them is a
 * sequence of tokens.
 */
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
/** A word the standard analyzer keeps as one token. */
const ONE_TOKEN = /^[\p{L}\p{N}_]+$/u;

/**
 * A word the analyzer splits (CJK, or punctuation as in `foo-bar`) has to
 * match as a phrase: `超时` must find "连接超时" and not a line with 超 and 时
 * far apart, and `foo-bar` must not match "bar … foo".
 */
function word(value: string): Dsl {
  if (ONE_TOKEN.test(value) && !CJK.test(value)) return { match: { message: { query: value } } };
  return { match_phrase: { message: { query: value } } };
}

/** Everything goes in filter context: hits are sorted by time, so scores would be computed for nothing. */
export function textQuery(text: TextQuery): Dsl {
  switch (text.kind) {
    case 'word':
      return word(text.value);
    case 'phrase':
      return { match_phrase: { message: { query: text.value } } };
    case 'field':
      // On a keyword field a match is the exact value; lenient makes `http.status:abc` match nothing rather than fail.
      return { match: { [text.field]: { query: text.value, lenient: true } } };
    case 'and':
      if (text.children.length === 0) return { match_all: {} };
      return { bool: { filter: text.children.map(textQuery) } };
    case 'or':
      if (text.children.length === 0) return MATCH_NONE;
      return { bool: { should: text.children.map(textQuery), minimum_should_match: 1 } };
    case 'not':
      return { bool: { must_not: [textQuery(text.child)] } };
  }
}

/** An empty list is a scope that sees nothing, not one that sees everything. */
export function namespaceFilter(namespaces: readonly string[] | undefined): Dsl[] {
  if (namespaces === undefined) return [];
  return [{ terms: { 'kubernetes.namespace': [...namespaces] } }];
}

export function fieldFilter(filter: FieldFilter): Dsl {
  if (filter.field.trim() === '') throw new Error('a field filter needs a field name');
  if (filter.values.length === 1) return { term: { [filter.field]: filter.values[0] } };
  return { terms: { [filter.field]: filter.values } };
}

export function timeRange(range: { gte?: number; lt?: number; lte?: number }): Dsl {
  return { range: { '@timestamp': { ...range, format: 'epoch_millis' } } };
}

/**
 * The total order of lines, [@timestamp, log.offset, event.id]. A record
 * without an offset sorts as offset 0 rather than at Long.MAX_VALUE, which
 * would not survive the trip through a JavaScript number in a cursor. The
 * unmapped types keep an index created before the template from failing
 * the whole search.
 */
export function lineOrder(order: 'asc' | 'desc'): Dsl[] {
  return [
    { '@timestamp': { order, unmapped_type: 'date' } },
    { 'log.offset': { order, missing: 0, unmapped_type: 'long' } },
    { 'event.id': { order, unmapped_type: 'keyword' } },
  ];
}

export function sortKey(values: unknown[] | undefined): SortKey {
  const [time, offset, id] = values ?? [];
  return [Number(time), Number(offset), String(id)];
}
