import { setOwn } from './object.ts';

const SPACE = 32;
const EQUALS = 61;
const QUOTE = 34;
const BACKSLASH = 92;

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' };

const ESCAPE = /\\(u[0-9a-fA-F]{4}|.)/g;

function unquote(text: string): string {
  return text.replace(ESCAPE, (_, code: string) =>
    code.length === 5 ? String.fromCharCode(Number.parseInt(code.slice(1), 16)) : (ESCAPES[code] ?? code),
  );
}

/**
 * logfmt as go-logfmt, logrus and slog write it: `key=value key="quoted \"value\"" flag`.
 * Values stay strings (a bare key is `true`): logfmt carries no types, and
 * guessing numbers would give one field two types in Elasticsearch. Undefined
 * when the line holds no key=value pair or a quote is left open.
 */
export function parseLogfmt(text: string): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  const n = text.length;
  let pairs = 0;
  let i = 0;
  while (i < n) {
    while (i < n && text.charCodeAt(i) <= SPACE) i++;
    if (i >= n) break;
    const keyStart = i;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c <= SPACE || c === EQUALS || c === QUOTE) break;
      i++;
    }
    if (i === keyStart) return undefined;
    const key = text.slice(keyStart, i);
    const mark = text.charCodeAt(i);
    if (mark === QUOTE) return undefined;
    if (mark !== EQUALS) {
      setOwn(out, key, true);
      continue;
    }
    i++;
    if (text.charCodeAt(i) === QUOTE) {
      const valueStart = ++i;
      let escaped = false;
      while (i < n) {
        const c = text.charCodeAt(i);
        if (c === QUOTE) break;
        if (c === BACKSLASH) {
          escaped = true;
          i++;
        }
        i++;
      }
      if (i >= n) return undefined;
      const raw = text.slice(valueStart, i);
      setOwn(out, key, escaped ? unquote(raw) : raw);
      i++;
    } else {
      const valueStart = i;
      while (i < n && text.charCodeAt(i) > SPACE) i++;
      setOwn(out, key, text.slice(valueStart, i));
    }
    pairs++;
  }
  return pairs > 0 ? out : undefined;
}
