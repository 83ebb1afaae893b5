/**
 * Go (RE2) regular expressions on JavaScript's engine: the syntax is
 * translated (Go's `.`, `\s`, `\z`, `(?P<name>)`, POSIX classes, inline
 * flags), the common syntax errors carry Go's messages, and replacement
 * follows Regexp.ReplaceAllString (`$1`, `${name}`, empty-match rules).
 */

export class GoRegexpError extends Error {}

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

const SIMPLE_ESCAPES = new Set(['d', 'D', 'w', 'W', 't', 'n', 'r', 'f', 'v']);

function syntaxError(code: string, fragment: string): never {
  throw new GoRegexpError(`error parsing regexp: ${code}: \`${fragment}\``);
}

function hexEscape(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  return `\\u{${cp.toString(16)}}`;
}

interface Translated {
  source: string;
  flags: string;
}

function translate(pattern: string): Translated {
  let out = '';
  let flags = 'u';
  let dotAll = false;
  /** Per open group: how many extra ')' close inline-flag groups opened inside it. */
  const groups: number[] = [0];
  /** Per open group: whether (?U) made repetition lazy by default. */
  const ungreedy: boolean[] = [false];
  let i = 0;
  let canRepeat = false;
  let lastWasRepeat = false;

  const translateEscape = (inClass: boolean): string => {
    const c = pattern[i + 1];
    if (c === undefined) syntaxError('trailing backslash at end of expression', '');
    i += 2;
    if (SIMPLE_ESCAPES.has(c)) return `\\${c}`;
    if (c === 'a') return '\\x07';
    if (c === 's') return inClass ? '\\t\\n\\f\\r ' : '[\\t\\n\\f\\r ]';
    if (c === 'S') return inClass ? '\\x00-\\x08\\x0B\\x0E-\\x1F\\x21-\\u{10FFFF}' : '[^\\t\\n\\f\\r ]';
    if (!inClass && (c === 'b' || c === 'B')) return `\\${c}`;
    if (!inClass && c === 'A') return '(?<![\\s\\S])';
    if (!inClass && c === 'z') return '(?![\\s\\S])';
    if (c === 'x') {
      const braced = /^\{([0-9a-fA-F]+)\}/.exec(pattern.slice(i));
      if (braced) {
        i += braced[0].length;
        return `\\u{${braced[1]}}`;
      }
      const two = /^[0-9a-fA-F]{2}/.exec(pattern.slice(i));
      if (!two) syntaxError('invalid escape sequence', `\\x${pattern.slice(i, i + 2)}`);
      i += 2;
      return `\\x${two[0]}`;
    }
    if (c === 'p' || c === 'P') {
      const m = /^(\{(\^?)([A-Za-z_]+)\}|[A-Za-z])/.exec(pattern.slice(i));
      if (!m) syntaxError('invalid character class range', `\\${c}${pattern.slice(i, i + 1)}`);
      i += m[0].length;
      const name = m[3] ?? m[0];
      const negate = (m[2] === '^') !== (c === 'P');
      const property = name.length <= 2 || name === 'Any' ? name : `Script=${name}`;
      return `\\${negate ? 'P' : 'p'}{${property === 'Any' ? 'Any' : property}}`;
    }
    if (c === 'Q') {
      const end = pattern.indexOf('\\E', i);
      const literal = end < 0 ? pattern.slice(i) : pattern.slice(i, end);
      i = end < 0 ? pattern.length : end + 2;
      return [...literal].map(hexEscape).join('');
    }
    if (/[\p{L}\p{N}]/u.test(c)) syntaxError('invalid escape sequence', `\\${c}`);
    return hexEscape(c);
  };

  while (i < pattern.length) {
    const c = pattern[i] as string;
    const repeatable = canRepeat;
    canRepeat = true;
    const wasRepeat: boolean = lastWasRepeat;
    lastWasRepeat = false;
    if (c === '\\') {
      out += translateEscape(false);
      continue;
    }
    if (c === '[') {
      const start = i;
      let cls = '[';
      i++;
      if (pattern[i] === '^') {
        cls += '^';
        i++;
      }
      let first = true;
      for (;;) {
        const d = pattern[i];
        if (d === undefined) syntaxError('missing closing ]', pattern.slice(start));
        if (d === ']' && !first) break;
        first = false;
        if (d === '\\') cls += translateEscape(true);
        else if (d === '[' && pattern[i + 1] === ':') {
          const m = /^\[:(\^?)([a-z]+):\]/.exec(pattern.slice(i));
          const ranges = m && !m[1] ? POSIX_CLASSES[m[2] as string] : undefined;
          if (!m || ranges === undefined)
            syntaxError('invalid character class range', pattern.slice(i, i + 2));
          cls += ranges;
          i += m[0].length;
        } else {
          cls += d === '[' || d === ']' || d === '/' ? `\\${d}` : d;
          i += d.length;
        }
      }
      i++;
      out += `${cls}]`;
      continue;
    }
    if (c === '(') {
      if (pattern.startsWith('(?', i)) {
        const m = /^\(\?(P?<([A-Za-z0-9_]+)>|([imsU-]*)(:|\)))/.exec(pattern.slice(i));
        if (!m) syntaxError('invalid or unsupported Perl syntax', pattern.slice(i, i + 3));
        i += m[0].length;
        if (m[2] !== undefined) {
          out += `(?<${m[2]}>`;
          groups.push(0);
          ungreedy.push(ungreedy.at(-1) ?? false);
          canRepeat = false;
          continue;
        }
        const [onAll = '', offAll = ''] = (m[3] ?? '').split('-');
        const lazy = onAll.includes('U') ? true : offAll.includes('U') ? false : (ungreedy.at(-1) ?? false);
        const [on, off] = [onAll.replace('U', ''), offAll.replace('U', '')];
        if (on.includes('s')) dotAll = true;
        const jsOn = on.replace('s', '');
        const jsOff = off.replace('s', '');
        const modifiers = jsOn || jsOff ? `?${jsOn}${jsOff ? `-${jsOff}` : ''}:` : '?:';
        if (m[4] === ':') {
          out += `(${modifiers}`;
          groups.push(0);
          ungreedy.push(lazy);
        } else {
          ungreedy[ungreedy.length - 1] = lazy;
          if (out === '' && groups.length === 1 && !jsOff) flags += jsOn;
          else {
            out += `(${modifiers}`;
            groups[groups.length - 1] = (groups.at(-1) ?? 0) + 1;
          }
        }
        canRepeat = false;
        continue;
      }
      out += '(';
      groups.push(0);
      ungreedy.push(ungreedy.at(-1) ?? false);
      i++;
      canRepeat = false;
      continue;
    }
    if (c === ')') {
      if (groups.length === 1) syntaxError('unexpected )', pattern);
      out += ')'.repeat((groups.pop() ?? 0) + 1);
      ungreedy.pop();
      i++;
      continue;
    }
    if (c === '|') {
      out += ')'.repeat(groups.at(-1) ?? 0);
      groups[groups.length - 1] = 0;
      out += '|';
      i++;
      canRepeat = false;
      continue;
    }
    if (c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d+(,\d*)?\}/.test(pattern.slice(i)))) {
      const op = c === '{' ? (/^\{\d+(,\d*)?\}/.exec(pattern.slice(i))?.[0] ?? c) : c;
      if (wasRepeat && !(c === '?' && pattern[i - 1] !== '?'))
        syntaxError('invalid nested repetition operator', pattern.slice(i - 1, i + op.length));
      if (!repeatable) syntaxError('missing argument to repetition operator', op);
      const counts = (op.match(/\d+/g) ?? []).map(Number);
      const [min = 0, max = min] = counts;
      if (counts.some((n) => n > 1000) || (/,\d/.test(op) && max < min))
        syntaxError('invalid repeat count', op);
      i += op.length;
      // (?U) swaps greedy and lazy.
      const lazyMark = pattern[i] === '?' && !wasRepeat;
      if (ungreedy[ungreedy.length - 1]) {
        if (lazyMark) i++;
        out += lazyMark ? op : `${op}?`;
        lastWasRepeat = true;
        continue;
      }
      out += op;
      lastWasRepeat = !(c === '?' && wasRepeat);
      if (c === '?' && wasRepeat) lastWasRepeat = true;
      continue;
    }
    if (c === '.') out += dotAll ? '[\\s\\S]' : '[^\\n]';
    else if (c === '/') out += '\\/';
    else out += c;
    if (c === '^' || c === '$') canRepeat = true;
    i += c.length;
  }
  if (groups.length > 1) syntaxError('missing closing )', pattern);
  out += ')'.repeat(groups[0] ?? 0);
  return { source: out, flags };
}

const cache = new Map<string, RegExp>();
const CACHE_LIMIT = 500;

/** regexp.Compile: throws GoRegexpError with Go's message. */
export function compileGoRegexp(pattern: string): RegExp {
  const cached = cache.get(pattern);
  if (cached) return cached;
  const { source, flags } = translate(pattern);
  let re: RegExp;
  try {
    re = new RegExp(source, `${flags}g`);
  } catch (e) {
    throw new GoRegexpError(`error parsing regexp: ${(e as Error).message}`);
  }
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(pattern, re);
  return re;
}

/** regexp.MatchString. */
export function matchGoRegexp(pattern: string, text: string): boolean {
  const re = compileGoRegexp(pattern);
  re.lastIndex = 0;
  return re.test(text);
}

function expand(template: string, match: RegExpExecArray): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== '$') {
      out += c;
      continue;
    }
    if (template[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    const m = /^(\{([A-Za-z0-9_]+)\}|[A-Za-z0-9_]+)/.exec(template.slice(i + 1));
    if (!m) {
      out += '$';
      continue;
    }
    i += m[0].length;
    const name = m[2] ?? m[0];
    if (/^\d+$/.test(name)) out += match[Number(name)] ?? '';
    else out += match.groups?.[name] ?? '';
  }
  return out;
}

/** Regexp.ReplaceAllString: no replacement for an empty match right after a previous match. */
export function replaceAllGoRegexp(pattern: string, replacement: string, text: string): string {
  const re = compileGoRegexp(pattern);
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= text.length) {
    re.lastIndex = searchPos;
    const m = re.exec(text);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    out += text.slice(lastMatchEnd, start);
    if (end > lastMatchEnd || start === 0) out += expand(replacement, m);
    lastMatchEnd = end;
    const width = (text.codePointAt(searchPos) ?? 0) > 0xffff ? 2 : 1;
    if (searchPos + width > end) searchPos += width;
    else if (searchPos + 1 > end) searchPos++;
    else searchPos = end;
  }
  return out + text.slice(lastMatchEnd);
}

/**
 * Whether JavaScript's backtracking engine may take exponential time on
 * this pattern (RE2 never does): a repeated group that itself holds an
 * unbounded repetition or an alternation, like `(a+)+` or `(a|ab)*`.
 */
export function risksSlowMatching(pattern: string): boolean {
  /** Per open group: whether its body repeats without bound or alternates. */
  const open: boolean[] = [];
  let lastGroupRisky = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    const unbounded = c === '*' || c === '+' || (c === '{' && /^\{\d+,\d*\}/.test(pattern.slice(i)));
    if (c === '\\') i++;
    else if (c === '[') {
      i++;
      while (i < pattern.length && (pattern[i] !== ']' || pattern[i - 1] === '['))
        i += pattern[i] === '\\' ? 2 : 1;
    } else if (c === '(') open.push(false);
    else if (c === ')') {
      lastGroupRisky = open.pop() ?? false;
      if (open.length > 0 && lastGroupRisky) open[open.length - 1] = true;
      continue;
    } else if (c === '|' && open.length > 0) open[open.length - 1] = true;
    else if (unbounded) {
      if (pattern[i - 1] === ')' && lastGroupRisky) return true;
      if (open.length > 0) open[open.length - 1] = true;
    }
    lastGroupRisky = false;
  }
  return false;
}
