/** Go string literals, as Go programs print them (`%q`) and as Alertmanager matchers quote names and values. */

const GO_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  '"': '"',
  "'": "'",
};

/** A Go double-quoted string literal (`%q` output: how the Downward API writes values, how matchers quote): escapes, \xNN and octal bytes, \u and \U. */
export function unquoteGo(quoted: string): string | undefined {
  if (quoted.length < 2 || quoted[0] !== '"' || quoted[quoted.length - 1] !== '"') return undefined;
  const body = quoted.slice(1, -1);
  if (!body.includes('\\')) return body;
  let out = '';
  let bytes: number[] = [];
  const flushBytes = () => {
    if (bytes.length === 0) return;
    out += Buffer.from(bytes).toString('utf8');
    bytes = [];
  };
  for (let i = 0; i < body.length; i++) {
    const char = body[i]!;
    if (char !== '\\') {
      flushBytes();
      out += char;
      continue;
    }
    const code = body[++i];
    if (code === undefined) return undefined;
    if (code === 'x' || (code >= '0' && code <= '7')) {
      const digits = code === 'x' ? body.slice(i + 1, i + 3) : body.slice(i, i + 3);
      const byte = Number.parseInt(digits, code === 'x' ? 16 : 8);
      if (Number.isNaN(byte) || digits.length < (code === 'x' ? 2 : 3)) return undefined;
      bytes.push(byte);
      i += 2;
      continue;
    }
    flushBytes();
    if (code === 'u' || code === 'U') {
      const length = code === 'u' ? 4 : 8;
      const point = Number.parseInt(body.slice(i + 1, i + 1 + length), 16);
      if (Number.isNaN(point) || point > 0x10ffff) return undefined;
      out += String.fromCodePoint(point);
      i += length;
      continue;
    }
    const escaped = GO_ESCAPES[code];
    if (escaped === undefined) return undefined;
    out += escaped;
  }
  flushBytes();
  return out;
}
