import { unquoteGo } from '../../core/go-string.ts';
import type { Labels } from '../types.ts';
import { compileAnchoredRe2, Re2Error } from './re2.ts';

/**
 * Label matchers as Alertmanager reads them in `matchers:` lists, amtool and
 * silences: `{a="b", c=~"x|y"}` or `a=b`. Both of Alertmanager's parsers are
 * accepted, the way it does by default: the UTF-8 one first (quoted names,
 * Go string escapes in quoted values), then the classic one (Prometheus label
 * names, unquoted values up to the next comma, OpenMetrics escapes).
 */

export type MatchType = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  name: string;
  type: MatchType;
  value: string;
}

export class MatcherError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MatcherError';
  }
}

const compiled = new WeakMap<Matcher, RegExp>();

function isRegexType(type: MatchType): boolean {
  return type === '=~' || type === '!~';
}

/** Builds a matcher, compiling a regex value now so that a broken one is an error naming the matcher. */
export function newMatcher(name: string, type: MatchType, value: string): Matcher {
  const matcher: Matcher = { name, type, value };
  if (isRegexType(type)) {
    try {
      compiled.set(matcher, compileAnchoredRe2(value));
    } catch (err) {
      if (err instanceof Re2Error)
        throw new MatcherError(`matcher ${matcherToString(matcher)}: ${err.message}`);
      throw err;
    }
  }
  return matcher;
}

function regexOf(matcher: Matcher): RegExp {
  let re = compiled.get(matcher);
  if (!re) {
    // A matcher object built elsewhere (a restored silence): compiled once, on first use.
    re = compileAnchoredRe2(matcher.value);
    compiled.set(matcher, re);
  }
  return re;
}

/** Whether one matcher accepts a value; a missing label is the empty string. */
export function matchesValue(matcher: Matcher, value: string): boolean {
  switch (matcher.type) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return regexOf(matcher).test(value);
    case '!~':
      return !regexOf(matcher).test(value);
  }
}

/** True when every matcher accepts the labels. */
export function matches(matchers: readonly Matcher[], labels: Labels): boolean {
  return matchers.every((m) => matchesValue(m, labels[m.name] ?? ''));
}

const CLASSIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** `name="value"`, quoting the name only when it is not a Prometheus label name. */
export function matcherToString(matcher: Matcher): string {
  const name = CLASSIC_NAME.test(matcher.name) ? matcher.name : JSON.stringify(matcher.name);
  return `${name}${matcher.type}${JSON.stringify(matcher.value)}`;
}

export function matchersToString(matchers: readonly Matcher[]): string {
  return `{${matchers.map(matcherToString).join(',')}}`;
}

/** Alertmanager's order (name, value, type) so that two routes with the same matchers print the same. */
export function sortMatchers(matchers: readonly Matcher[]): Matcher[] {
  const order: MatchType[] = ['=', '!=', '=~', '!~'];
  return matchers.toSorted(
    (a, b) =>
      compare(a.name, b.name) || compare(a.value, b.value) || order.indexOf(a.type) - order.indexOf(b.type),
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The deprecated `match` (equality) and `match_re` (regex) maps of routes and inhibit rules. */
export function matchersFromMaps(
  match: Record<string, string> | undefined,
  matchRe: Record<string, string> | undefined,
): Matcher[] {
  return [
    ...Object.entries(match ?? {}).map(([name, value]) => newMatcher(name, '=', value)),
    ...Object.entries(matchRe ?? {}).map(([name, value]) => newMatcher(name, '=~', value)),
  ];
}

// ---- the UTF-8 parser ----

const RESERVED = /[\s{}!=~,"'`]/u;

type TokenKind = '{' | '}' | ',' | 'op' | 'quoted' | 'unquoted';
interface Token {
  kind: TokenKind;
  text: string;
  column: number;
}

function lex(input: string): Token[] {
  const chars = [...input];
  const tokens: Token[] = [];
  let i = 0;
  const fail = (reason: string): never => {
    throw new MatcherError(`column ${i + 1}: ${reason}`);
  };
  while (i < chars.length) {
    const char = chars[i]!;
    const start = i;
    if (/\s/u.test(char)) {
      i++;
    } else if (char === '{' || char === '}' || char === ',') {
      tokens.push({ kind: char, text: char, column: ++i });
    } else if (char === '=' || char === '!') {
      i++;
      if (char === '!' && chars[i] !== '=' && chars[i] !== '~') fail(`expected = or ~ after !`);
      if (chars[i] === '=' || chars[i] === '~') {
        if (char === '=' && chars[i] === '=') fail('unexpected ==');
        i++;
      }
      tokens.push({ kind: 'op', text: chars.slice(start, i).join(''), column: start + 1 });
    } else if (char === '"') {
      i++;
      while (i < chars.length && chars[i] !== '"') i += chars[i] === '\\' ? 2 : 1;
      if (i >= chars.length) fail(`${chars.slice(start).join('')}: missing closing "`);
      i++;
      tokens.push({ kind: 'quoted', text: chars.slice(start, i).join(''), column: start + 1 });
    } else if (!RESERVED.test(char)) {
      while (i < chars.length && !RESERVED.test(chars[i]!)) i++;
      tokens.push({ kind: 'unquoted', text: chars.slice(start, i).join(''), column: start + 1 });
    } else {
      fail(`unexpected ${char}`);
    }
  }
  return tokens;
}

function tokenValue(token: Token): string {
  if (token.kind !== 'quoted') return token.text;
  const value = unquoteGo(token.text);
  if (value === undefined)
    throw new MatcherError(`column ${token.column}: ${token.text}: invalid quoted string`);
  return value;
}

function parseUtf8(input: string): Matcher[] {
  const tokens = lex(input);
  let i = 0;
  const describe = (token: Token | undefined) =>
    token ? `column ${token.column}: unexpected ${token.text}` : 'unexpected end of input';
  const expect = (kinds: TokenKind[], what: string): Token => {
    const token = tokens[i];
    if (!token || !kinds.includes(token.kind)) throw new MatcherError(`${describe(token)}, expected ${what}`);
    i++;
    return token;
  };
  const braced = tokens[0]?.kind === '{';
  if (braced) i++;
  const matchers: Matcher[] = [];
  while (i < tokens.length && tokens[i]!.kind !== '}') {
    const name = tokenValue(expect(['quoted', 'unquoted'], 'a label name'));
    const op = expect(['op'], "an operator such as '=', '!=', '=~' or '!~'").text as MatchType;
    const value = tokenValue(expect(['quoted', 'unquoted'], 'a label value'));
    matchers.push(newMatcher(name, op, value));
    if (i < tokens.length && tokens[i]!.kind !== '}') expect([','], 'a comma or closing brace');
  }
  if (braced) expect(['}'], 'a closing brace');
  if (i < tokens.length) throw new MatcherError(`${describe(tokens[i])}, expected end of input`);
  return matchers;
}

// ---- the classic parser ----

const CLASSIC_MATCHER = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*([\s\S]*?)\s*$/;

/** Splits on commas outside double quotes; an escaped quote does not open or close one. */
function splitClassic(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  let escaped = false;
  for (const char of text) {
    if (char === ',' && !quoted) {
      parts.push(current);
      current = '';
      continue;
    }
    if (char === '"' && !escaped) quoted = !quoted;
    escaped = char === '\\' ? !escaped : false;
    current += char;
  }
  if (current.trim() !== '') parts.push(current);
  return parts;
}

function parseClassicMatcher(text: string): Matcher {
  const match = CLASSIC_MATCHER.exec(text);
  if (!match) throw new MatcherError(`bad matcher format: ${text}`);
  let raw = match[3]!;
  const quoted = raw.startsWith('"');
  if (quoted) raw = raw.slice(1);
  let value = '';
  let closed = !quoted;
  const chars = [...raw];
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i]!;
    if (char === '\\' && i < chars.length - 1) {
      const next = chars[++i]!;
      // OpenMetrics escapes; any other backslash is a literal one.
      value += next === 'n' ? '\n' : next === '"' || next === '\\' ? next : `\\${next}`;
    } else if (char === '"') {
      if (closed || i < chars.length - 1)
        throw new MatcherError(`matcher value contains unescaped double quote: ${match[3]}`);
      closed = true;
    } else {
      value += char;
    }
  }
  if (!closed) throw new MatcherError(`matcher value contains unescaped double quote: ${match[3]}`);
  return newMatcher(match[1]!, match[2] as MatchType, value);
}

function parseClassic(text: string): Matcher[] {
  const inner = text.replace(/^\{/, '').replace(/\}$/, '');
  return splitClassic(inner).map(parseClassicMatcher);
}

/** Parses a list of matchers, `{a="b", c=~"x|y"}` or `a=b,c!=d`; braces are optional. */
export function parseMatchers(text: string): Matcher[] {
  try {
    return parseUtf8(text);
  } catch (utf8Error) {
    try {
      return parseClassic(text);
    } catch (classicError) {
      // A broken regex is the same error in both parsers, and names the matcher.
      const error =
        classicError instanceof MatcherError && /regular expression/.test(classicError.message)
          ? classicError
          : utf8Error;
      throw new MatcherError(`invalid matchers ${JSON.stringify(text)}: ${(error as Error).message}`);
    }
  }
}

/** Parses exactly one matcher, without braces. */
export function parseMatcher(text: string): Matcher {
  if (/^\s*\{|\}\s*$/.test(text))
    throw new MatcherError(
      `invalid matcher ${JSON.stringify(text)}: braces are not allowed around a single matcher`,
    );
  const matchers = parseMatchers(text);
  if (matchers.length !== 1) {
    throw new MatcherError(
      `invalid matcher ${JSON.stringify(text)}: expected one matcher, found ${matchers.length}`,
    );
  }
  return matchers[0]!;
}
