/**
 * Go's regexp functions on translated patterns: Compile, MatchString,
 * ReplaceAllString (`$1`, `${name}`, Go's empty-match rules), and the
 * anchored form Alertmanager gives matcher values.
 */
import { type BacktrackingRisk, GoRegexpError, translateGoRegexp } from './translate.ts';

export interface GoRegexp {
  /** Unanchored, global: `lastIndex` is where a search starts. */
  regexp: RegExp;
  captureNames: (string | undefined)[];
  backtracking: BacktrackingRisk;
}

function jsRegExp(source: string, flags: string): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (e) {
    // A translation JavaScript refuses is a gap in the translator; still an error about the pattern.
    throw new GoRegexpError((e as Error).message.replace(/^Invalid regular expression: /, ''));
  }
}

const cache = new Map<string, GoRegexp>();
/** Templates reuse a handful of patterns; the bound keeps odd ones from piling up. */
const CACHE_LIMIT = 500;

/** regexp.Compile; throws GoRegexpError with Go's message. */
export function compileGoRegexp(pattern: string): GoRegexp {
  const cached = cache.get(pattern);
  if (cached) return cached;
  const { source, captureNames, backtracking } = translateGoRegexp(pattern);
  const compiled = { regexp: jsRegExp(source, 'gu'), captureNames, backtracking };
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(pattern, compiled);
  return compiled;
}

/**
 * A matcher value, anchored as Alertmanager anchors it: the text
 * `^(?:value)$` compiled as one pattern (so its errors and oddities, like a
 * `\Q` that swallows the closing parenthesis, are Alertmanager's).
 * Matchers are user input evaluated on every alert, so a pattern that can
 * make JavaScript backtrack exponentially (a repeated group that itself
 * repeats) is refused rather than run.
 */
export function compileAnchoredGoRegexp(value: string): RegExp {
  const { source, backtracking } = translateGoRegexp(`^(?:${value})$`);
  if (backtracking === 'nested-repetition') {
    const reason =
      'a repeated group that itself repeats (like (a+)+) can take exponential time; write it without nesting';
    throw new GoRegexpError(reason, reason);
  }
  return jsRegExp(source, 'u');
}

/** regexp.MatchString. */
export function matchGoRegexp(pattern: string, text: string): boolean {
  const { regexp } = compileGoRegexp(pattern);
  regexp.lastIndex = 0;
  return regexp.test(text);
}

/** The group a `$name` in a replacement refers to: a number if it is one (without leading zeros), else the first group so named. */
function groupIndex(name: string, captureNames: (string | undefined)[]): number {
  if (/^(?:0|[1-9]\d{0,7})$/.test(name)) return Number(name);
  return captureNames.indexOf(name);
}

/** Regexp.Expand: `$1`, `${1}`, `$name`, `${name}`, `$$`; a `$` that starts none of these is kept. */
export function expand(
  replacement: string,
  match: RegExpExecArray,
  captureNames: (string | undefined)[],
): string {
  return replacement.replace(/\$(?:\$|\{([\p{L}\p{Nd}_]+)\}|([\p{L}\p{Nd}_]+))?/gu, (whole, braced, bare) => {
    if (whole === '$$') return '$';
    const name = (braced ?? bare) as string | undefined;
    if (name === undefined) return '$';
    return match[groupIndex(name, captureNames)] ?? '';
  });
}

/** Regexp.ReplaceAllString: no replacement for an empty match right after a previous match. */
export function replaceAllGoRegexp(pattern: string, replacement: string, text: string): string {
  const { regexp, captureNames } = compileGoRegexp(pattern);
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= text.length) {
    regexp.lastIndex = searchPos;
    const m = regexp.exec(text);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    out += text.slice(lastMatchEnd, start);
    if (end > lastMatchEnd || start === 0) out += expand(replacement, m, captureNames);
    lastMatchEnd = end;
    const width = (text.codePointAt(searchPos) ?? 0) > 0xffff ? 2 : 1;
    if (searchPos + width > end) searchPos += width;
    else if (searchPos + 1 > end) searchPos++;
    else searchPos = end;
  }
  return out + text.slice(lastMatchEnd);
}
