import { SHORT_FIELDS } from './fields.ts';

/**
 * Free text over `message`: words match as tokens (case-insensitive), quoted
 * phrases as consecutive tokens; a field term matches a keyword field's exact
 * value, as a filter does. Built by the query parser from user input and
 * turned into each store's query structure, never into a query string.
 */
export type TextQuery =
  | { kind: 'word'; value: string }
  | { kind: 'phrase'; value: string }
  | { kind: 'field'; field: string; value: string }
  | { kind: 'and'; children: TextQuery[] }
  | { kind: 'or'; children: TextQuery[] }
  | { kind: 'not'; child: TextQuery };

/**
 * Parses what a developer types into the search box:
 * `timeout AND ("connection reset" OR refused) NOT debug`, `-healthz`,
 * `log.level:error`, `kubernetes.pod.name:"api-7f9"`.
 * Words side by side mean AND; NOT binds tighter than AND, AND tighter than
 * OR; parentheses group. The result is a tree each store turns into its own
 * query structure, so no input ever becomes query syntax.
 */
export function parseTextQuery(input: string): TextQuery | undefined {
  const parser = new Parser(tokenize(input));
  const query = parser.or();
  parser.expectEnd();
  return query;
}

export class TextQueryError extends Error {}

type Token =
  | { type: 'word' | 'phrase'; value: string }
  | { type: 'field'; field: string; value: string }
  | { type: 'and' | 'or' | 'not' | 'open' | 'close' };

const OPERATORS: Record<string, Token['type']> = { AND: 'and', OR: 'or', NOT: 'not' };
const MAX_TERMS = 64;
/** Each level is a level of recursion here and in every store's query; real searches need two or three. */
const MAX_DEPTH = 16;

/**
 * What may stand before the colon of a `name:value` term: a dotted field name
 * starting with a letter, `_` or `@`, so times (`12:30:01`) and IPv6 addresses
 * starting with a digit stay text.
 */
const TERM_FIELD = /^[A-Za-z_@][\w.@-]{0,127}$/;
/** `fe80::1`, `dead:beef:0:0:1`: hex groups that look like a name and a value but are an address. */
const IPV6 = /^[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}$/i;
/** The store keeps these as columns of their own: the filters (`f.event.id=…`) search them. */
const COLUMN_FIELDS = new Set(['event.id', '@timestamp', 'log.offset']);

/**
 * `name:value` as a field term, or undefined when the word is text with a
 * colon in it: an empty value (`ERROR:`), a value starting with a colon
 * (`a::b`), a URL (`http://x/y`), a drive (`C:\logs`), an IPv6 address.
 */
function fieldTerm(word: string): Token | undefined {
  const colon = word.indexOf(':');
  if (colon < 0) return undefined;
  const name = word.slice(0, colon);
  const value = word.slice(colon + 1);
  if (!TERM_FIELD.test(name) || value === '' || value.startsWith(':') || value.startsWith('//')) {
    return undefined;
  }
  if (name.length === 1 && /^[\\/]/.test(value)) return undefined;
  if (IPV6.test(word)) return undefined;
  return field(name, value, false);
}

/** A field term by its full name; `message:…` is the text search it reads as. */
function field(name: string, value: string, inQuotes: boolean): Token {
  if (value === '') throw new TextQueryError(`${name}:"" has no value to look for`);
  const full = SHORT_FIELDS[name] ?? name;
  if (full === 'message') return { type: inQuotes ? 'phrase' : 'word', value };
  if (COLUMN_FIELDS.has(full)) {
    throw new TextQueryError(`${full} cannot be searched with ${name}:…; filter on it with f.${full}=…`);
  }
  return { type: 'field', field: full, value };
}

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      tokens.push({ type: c === '(' ? 'open' : 'close' });
      i++;
    } else if (c === '"') {
      const [value, end] = quoted(input, i);
      if (value) tokens.push({ type: 'phrase', value });
      i = end;
    } else if (c === '-' && i + 1 < input.length && !/[\s)]/.test(input[i + 1]!)) {
      tokens.push({ type: 'not' });
      i++;
    } else {
      let end = i;
      while (end < input.length && !/[\s()"]/.test(input[end]!)) end++;
      const word = input.slice(i, end);
      const name = word.slice(0, -1);
      if (input[end] === '"' && word.endsWith(':') && TERM_FIELD.test(name)) {
        const [value, after] = quoted(input, end);
        tokens.push(field(name, value, true));
        i = after;
        continue;
      }
      const operator = OPERATORS[word];
      tokens.push(
        operator ? ({ type: operator } as Token) : (fieldTerm(word) ?? { type: 'word', value: word }),
      );
      i = end;
    }
  }
  if (
    tokens.filter((t) => t.type === 'word' || t.type === 'phrase' || t.type === 'field').length > MAX_TERMS
  ) {
    throw new TextQueryError(`a search may have at most ${MAX_TERMS} words, phrases and field terms`);
  }
  return tokens;
}

/** The text between the quote at `start` and the next one, trimmed, and the index after the closing quote. */
function quoted(input: string, start: number): [string, number] {
  const end = input.indexOf('"', start + 1);
  if (end < 0) throw new TextQueryError(`the phrase starting at character ${start + 1} has no closing quote`);
  return [input.slice(start + 1, end).trim(), end + 1];
}

class Parser {
  private i = 0;
  private readonly tokens: Token[];

  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  expectEnd(): void {
    const token = this.tokens[this.i];
    if (token) throw new TextQueryError(`unexpected ${describe(token)}`);
  }

  or(depth = 0): TextQuery | undefined {
    const children: TextQuery[] = [];
    for (;;) {
      const child = this.and(depth);
      if (child) children.push(child);
      else if (children.length > 0) throw new TextQueryError('OR needs a term on its right');
      if (this.peek() !== 'or') break;
      if (!child) throw new TextQueryError('OR needs a term on its left');
      this.i++;
    }
    if (children.length === 0) return undefined;
    return children.length === 1 ? children[0] : { kind: 'or', children };
  }

  private and(depth: number): TextQuery | undefined {
    const children: TextQuery[] = [];
    for (;;) {
      const next = this.peek();
      if (next === undefined || next === 'or' || next === 'close') break;
      if (next === 'and') {
        this.i++;
        if (children.length === 0) throw new TextQueryError('AND needs a term on its left');
        const after = this.peek();
        if (after === undefined || after === 'or' || after === 'and' || after === 'close') {
          throw new TextQueryError('AND needs a term on its right');
        }
        continue;
      }
      children.push(this.unary(depth));
    }
    if (children.length === 0) return undefined;
    return children.length === 1 ? children[0] : { kind: 'and', children };
  }

  private unary(depth: number): TextQuery {
    const token = this.tokens[this.i++];
    if (!token) throw new TextQueryError('the search ends where a term was expected');
    if ((token.type === 'not' || token.type === 'open') && depth >= MAX_DEPTH) {
      throw new TextQueryError(`NOT, "-" and parentheses may be nested at most ${MAX_DEPTH} deep`);
    }
    switch (token.type) {
      case 'not':
        return { kind: 'not', child: this.unary(depth + 1) };
      case 'word':
      case 'phrase':
        return { kind: token.type, value: token.value };
      case 'field':
        return { kind: 'field', field: token.field, value: token.value };
      case 'open': {
        const inner = this.or(depth + 1);
        if (this.tokens[this.i]?.type !== 'close') throw new TextQueryError('a parenthesis is not closed');
        this.i++;
        if (!inner) throw new TextQueryError('empty parentheses');
        return inner;
      }
      default:
        throw new TextQueryError(`unexpected ${describe(token)}`);
    }
  }

  private peek(): Token['type'] | undefined {
    return this.tokens[this.i]?.type;
  }
}

function describe(token: Token): string {
  switch (token.type) {
    case 'close':
      return '")"';
    case 'open':
      return '"("';
    case 'word':
    case 'phrase':
      return `"${token.value}"`;
    case 'field':
      return `"${token.field}:${token.value}"`;
    default:
      return token.type.toUpperCase();
  }
}
