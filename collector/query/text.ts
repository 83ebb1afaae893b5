import type { TextQuery } from './types.ts';

/**
 * Parses what a developer types into the search box:
 * `timeout AND ("connection reset" OR refused) NOT debug`, `-healthz`.
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

type Token = { type: 'word' | 'phrase'; value: string } | { type: 'and' | 'or' | 'not' | 'open' | 'close' };

const OPERATORS: Record<string, Token['type']> = { AND: 'and', OR: 'or', NOT: 'not' };
const MAX_TERMS = 64;
/** Each level is a level of recursion here and in every store's query; real searches need two or three. */
const MAX_DEPTH = 16;

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
      const end = input.indexOf('"', i + 1);
      if (end < 0) throw new TextQueryError(`the phrase starting at character ${i + 1} has no closing quote`);
      const value = input.slice(i + 1, end).trim();
      if (value) tokens.push({ type: 'phrase', value });
      i = end + 1;
    } else if (c === '-' && i + 1 < input.length && !/[\s)]/.test(input[i + 1]!)) {
      tokens.push({ type: 'not' });
      i++;
    } else {
      let end = i;
      while (end < input.length && !/[\s()"]/.test(input[end]!)) end++;
      const word = input.slice(i, end);
      const operator = OPERATORS[word];
      tokens.push(operator ? ({ type: operator } as Token) : { type: 'word', value: word });
      i = end;
    }
  }
  if (tokens.filter((t) => t.type === 'word' || t.type === 'phrase').length > MAX_TERMS) {
    throw new TextQueryError(`a search may have at most ${MAX_TERMS} words and phrases`);
  }
  return tokens;
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
    default:
      return token.type.toUpperCase();
  }
}
