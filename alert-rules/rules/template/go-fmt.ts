/** Go's fmt package for the values templates handle: Sprint, Sprintln, Sprintf and strconv.Quote. */
import { formatFloat } from './go-float.ts';
import { formatDuration, formatTime, monthName, timeParts } from './go-time.ts';
import {
  GoHTML,
  GoInt,
  GoMap,
  GoSample,
  GoSlice,
  GoStruct,
  GoTime,
  type GoValue,
  goTypeName,
  sortedKeys,
  utf8Bytes,
} from './go-values.ts';

/** Go prints pointers inside containers as addresses; these stand in for them. */
function fakeAddress(index: number): string {
  return `0xc${(0x10000 + index * 16).toString(16).padStart(9, '0')}`;
}

/** fmt's %v; depth 0 is a value handed to fmt directly, deeper ones sit inside a map, slice or struct. */
export function formatValue(v: GoValue, depth = 0, index = 0): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return formatFloat(v, 'g', -1);
  if (v instanceof GoInt) return v.type === 'time.Duration' ? duration(v) : String(v.value);
  if (v instanceof GoHTML) return v.text;
  if (v instanceof GoTime) return formatTime(v);
  if (v instanceof GoMap) {
    return `map[${sortedKeys(v)
      .map((k) => `${k}:${formatValue(v.entries.get(k), depth + 1)}`)
      .join(' ')}]`;
  }
  if (v instanceof GoSlice) return `[${v.items.map((item, i) => formatValue(item, depth + 1, i)).join(' ')}]`;
  if (v instanceof GoSample) {
    if (depth > 0) return fakeAddress(index);
    return `&{${formatValue(v.labels, 1)} ${formatFloat(v.value, 'g', -1)}}`;
  }
  return `{${[...v.fields.values()].map((f) => formatValue(f, depth + 1)).join(' ')}}`;
}

const INT64_MAX = 2n ** 63n - 1n;

/** Go's Sub and since saturate at the int64 bounds instead of overflowing. */
function duration(d: GoInt): string {
  const nanos = BigInt(Math.trunc(d.value));
  return formatDuration(nanos > INT64_MAX ? INT64_MAX : nanos < -INT64_MAX - 1n ? -INT64_MAX - 1n : nanos);
}

/** fmt's %#v: values as Go source. */
export function goSyntax(v: GoValue, inInterface = false): string {
  if (v === undefined || v === null) return inInterface ? 'interface {}(nil)' : '<nil>';
  if (typeof v === 'string') return quote(v);
  if (v instanceof GoHTML) return quote(v.text);
  if (v instanceof GoInt && v.type === 'uint8') return `0x${v.value.toString(16)}`;
  if (v instanceof GoMap) {
    const entries = sortedKeys(v).map((k) => `${quote(k)}:${goSyntax(v.entries.get(k), true)}`);
    return `${v.type}{${entries.join(', ')}}`;
  }
  if (v instanceof GoSlice) {
    return `${v.type}{${v.items.map((item, i) => (item instanceof GoSample ? `(*template.sample)(${fakeAddress(i)})` : goSyntax(item, true))).join(', ')}}`;
  }
  if (v instanceof GoSample)
    return `&template.sample{Labels:${goSyntax(v.labels)}, Value:${formatValue(v.value)}}`;
  if (v instanceof GoTime) {
    const p = timeParts(v);
    const location = v.location.name === 'UTC' ? 'time.UTC' : `time.Location(${quote(v.location.name)})`;
    return `time.Date(${p.year}, time.${monthName(p)}, ${p.day}, ${p.hour}, ${p.minute}, ${p.second}, ${p.nanosecond}, ${location})`;
  }
  if (v instanceof GoStruct) {
    const fields = [...v.fields].map(([name, value]) => `${name}:${goSyntax(value)}`);
    return `${v.type}{${fields.join(', ')}}`;
  }
  if (v instanceof GoInt) return String(v.value);
  return formatValue(v);
}

function isStringKind(v: GoValue): boolean {
  return typeof v === 'string' || v instanceof GoHTML;
}

export function sprint(args: readonly GoValue[]): string {
  let out = '';
  args.forEach((arg, i) => {
    if (i > 0 && !isStringKind(arg) && !isStringKind(args[i - 1])) out += ' ';
    out += formatValue(arg);
  });
  return out;
}

export function sprintln(args: readonly GoValue[]): string {
  return `${args.map((a) => formatValue(a)).join(' ')}\n`;
}

function hex4(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function isPrintable(ch: string): boolean {
  return ch === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);
}

/** strconv.Quote (asciiOnly: strconv.QuoteToASCII). */
export function quote(s: string, asciiOnly = false, delimiter = '"'): string {
  let out = delimiter;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === delimiter || ch === '\\') out += `\\${ch}`;
    else if (isPrintable(ch) && !(asciiOnly && cp >= 0x80)) out += ch;
    else out += escapeRune(cp);
  }
  return out + delimiter;
}

const SHORT_ESCAPES: Record<number, string> = { 7: 'a', 8: 'b', 12: 'f', 10: 'n', 13: 'r', 9: 't', 11: 'v' };

function escapeRune(cp: number): string {
  const short = SHORT_ESCAPES[cp];
  if (short !== undefined) return `\\${short}`;
  if (cp < 0x20 || cp === 0x7f) return `\\x${hex4(cp, 2)}`;
  if (cp < 0x10000) return `\\u${hex4(cp, 4)}`;
  return `\\U${hex4(cp, 8)}`;
}

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width: number | undefined;
  prec: number | undefined;
  verb: string;
}

function pad(s: string, spec: Spec, zeroAllowed = true): string {
  const width = spec.width ?? 0;
  const length = [...s].length;
  if (length >= width) return s;
  const fill = width - length;
  if (spec.minus) return s + ' '.repeat(fill);
  return (spec.zero && zeroAllowed ? '0' : ' ').repeat(fill) + s;
}

function badVerb(spec: Spec, arg: GoValue): string {
  if (arg === undefined || arg === null) return `%!${spec.verb}(<nil>)`;
  return `%!${spec.verb}(${goTypeName(arg)}=${formatValue(arg)})`;
}

function formatSignedNumber(num: string, spec: Spec): string {
  const negative = num.startsWith('-');
  const body = negative ? num.slice(1) : num;
  const sign = negative ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
  if (spec.zero && !spec.minus && spec.width !== undefined && spec.width > num.length) {
    return sign + body.padStart(spec.width - sign.length, '0');
  }
  return pad(sign + body, spec, false);
}

/** strconv's 'x' format: 0x1.8p+00. */
function hexFloat(x: number, verb: string): string {
  if (!Number.isFinite(x)) return formatFloat(x, 'g', -1);
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  let abs = Math.abs(x);
  let exp = 0;
  if (abs !== 0) {
    exp = Math.floor(Math.log2(abs));
    abs /= 2 ** exp;
    if (abs >= 2) {
      abs /= 2;
      exp++;
    } else if (abs < 1) {
      abs *= 2;
      exp--;
    }
  }
  const fraction = (BigInt(Math.round((abs === 0 ? 0 : abs - 1) * 2 ** 52)) << 0n)
    .toString(16)
    .padStart(13, '0');
  const digits = fraction.replace(/0+$/, '');
  const lead = abs === 0 ? '0' : '1';
  const text = `${sign}0x${lead}${digits ? `.${digits}` : ''}p${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return verb === 'X' ? text.toUpperCase() : text;
}

function fmtFloatVerb(x: number, spec: Spec): string {
  const verb = spec.verb;
  const format = verb === 'v' ? 'g' : verb === 'F' ? 'f' : (verb as 'e' | 'E' | 'f' | 'g' | 'G');
  const defaultPrec = 'eEfF'.includes(verb) ? 6 : -1;
  const num = formatFloat(x, format, spec.prec ?? defaultPrec);
  if (Number.isNaN(x)) return pad(spec.plus ? '+NaN' : spec.space ? ' NaN' : 'NaN', spec, false);
  if (!Number.isFinite(x)) return pad(x > 0 && spec.space && !spec.plus ? ' Inf' : num, spec, false);
  return formatSignedNumber(num, spec);
}

function fmtIntVerb(n: number, spec: Spec, arg: GoValue): string {
  const bases: Record<string, number> = { d: 10, v: 10, x: 16, X: 16, o: 8, O: 8, b: 2 };
  const verb = spec.verb;
  if (verb === 'c') return pad(String.fromCodePoint(n), spec);
  if (verb === 'q') return pad(quote(String.fromCodePoint(n), spec.plus, "'"), spec);
  if (verb === 'U') return pad(`U+${n.toString(16).toUpperCase().padStart(4, '0')}`, spec);
  const base = bases[verb];
  if (base === undefined) {
    if ('eEfFgG'.includes(verb)) return fmtFloatVerb(n, spec);
    return badVerb(spec, arg);
  }
  let digits = Math.abs(n).toString(base);
  if (verb === 'X') digits = digits.toUpperCase();
  if (spec.prec !== undefined) digits = spec.prec === 0 && n === 0 ? '' : digits.padStart(spec.prec, '0');
  if (spec.sharp || verb === 'O') {
    const prefixes: Record<string, string> = { x: '0x', X: '0X', o: '0', O: '0o', b: '0b' };
    digits = (prefixes[verb] ?? '') + digits;
  }
  const num = (n < 0 ? '-' : '') + digits;
  return spec.prec === undefined
    ? formatSignedNumber(num, spec)
    : pad(spec.plus && n >= 0 ? `+${num}` : num, spec, false);
}

function hexOfString(s: string, spec: Spec): string {
  const parts = [...utf8Bytes(s)].map((b) => {
    const h = hex4(b, 2);
    return spec.verb === 'X' ? h.toUpperCase() : h;
  });
  const prefix = spec.sharp ? (spec.verb === 'X' ? '0X' : '0x') : '';
  if (spec.space) return parts.map((p) => prefix + p).join(' ');
  return prefix + parts.join('');
}

function fmtStringVerb(s: string, spec: Spec, arg: GoValue): string {
  const truncated = spec.prec === undefined ? s : [...s].slice(0, spec.prec).join('');
  switch (spec.verb) {
    case 'v':
    case 's':
      return pad(truncated, spec);
    case 'q':
      return pad(spec.sharp && !/[`\p{Cc}]/u.test(s) ? `\`${s}\`` : quote(truncated, spec.plus), spec);
    case 'x':
    case 'X':
      return pad(hexOfString(truncated, spec), spec);
    default:
      return badVerb(spec, arg);
  }
}

function formatArg(arg: GoValue, spec: Spec): string {
  if (spec.verb === 'v' && spec.sharp) return pad(goSyntax(arg), spec);
  if (arg === undefined || arg === null) {
    return spec.verb === 'v' || spec.verb === 'T' ? pad('<nil>', spec) : badVerb(spec, arg);
  }
  // fmt applies the verb to each key, value and element.
  if (arg instanceof GoMap && spec.verb !== 'T') {
    const entries = sortedKeys(arg).map(
      (k) => `${formatArg(k, spec)}:${formatArg(arg.entries.get(k), spec)}`,
    );
    return `map[${entries.join(' ')}]`;
  }
  if (arg instanceof GoSlice && spec.verb !== 'T') {
    return `[${arg.items.map((item, i) => (item instanceof GoSample ? fakeAddress(i) : formatArg(item, spec))).join(' ')}]`;
  }
  if (arg instanceof GoStruct && spec.verb !== 'T') {
    return `{${[...arg.fields.values()].map((field) => formatArg(field, spec)).join(' ')}}`;
  }
  if (arg instanceof GoInt && arg.type === 'time.Duration' && 'vsq'.includes(spec.verb)) {
    return fmtStringVerb(duration(arg), spec, arg);
  }
  if (typeof arg === 'string') return fmtStringVerb(arg, spec, arg);
  if (arg instanceof GoHTML) return fmtStringVerb(arg.text, spec, arg);
  if (typeof arg === 'number') {
    if (spec.verb === 'x' || spec.verb === 'X') return formatSignedNumber(hexFloat(arg, spec.verb), spec);
    return 'veEfFgG'.includes(spec.verb) ? fmtFloatVerb(arg, spec) : badVerb(spec, arg);
  }
  if (arg instanceof GoInt) return fmtIntVerb(arg.value, spec, arg);
  if (typeof arg === 'boolean') {
    return spec.verb === 't' || spec.verb === 'v' ? pad(String(arg), spec) : badVerb(spec, arg);
  }
  if (spec.verb === 'v' || (spec.verb === 's' && arg instanceof GoTime)) return pad(formatValue(arg), spec);
  if (spec.verb === 'T') return pad(goTypeName(arg), spec);
  return badVerb(spec, arg);
}

function readNumber(format: string, start: number): [number | undefined, number] {
  let i = start;
  while (i < format.length && format[i]! >= '0' && format[i]! <= '9') i++;
  return i === start ? [undefined, i] : [Number(format.slice(start, i)), i];
}

/** fmt.Sprintf: flags, width, precision (also `*`), and Go's %!verb(type=value) markers for mismatches. */
export function sprintf(format: string, args: readonly GoValue[]): string {
  let out = '';
  let argIndex = 0;
  let i = 0;
  const nextArg = (): GoValue | typeof MISSING => (argIndex < args.length ? args[argIndex++] : MISSING);
  while (i < format.length) {
    const percent = format.indexOf('%', i);
    if (percent < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, percent);
    i = percent + 1;
    const spec: Spec = {
      minus: false,
      plus: false,
      sharp: false,
      space: false,
      zero: false,
      width: undefined,
      prec: undefined,
      verb: '',
    };
    for (; i < format.length; i++) {
      const c = format[i];
      if (c === '-') spec.minus = true;
      else if (c === '+') spec.plus = true;
      else if (c === '#') spec.sharp = true;
      else if (c === ' ') spec.space = true;
      else if (c === '0') spec.zero = !spec.minus;
      else break;
    }
    if (format[i] === '*') {
      i++;
      const w = nextArg();
      if (w instanceof GoInt) {
        spec.width = Math.abs(w.value);
        if (w.value < 0) spec.minus = true;
      } else out += '%!(BADWIDTH)';
    } else [spec.width, i] = readNumber(format, i);
    if (format[i] === '.') {
      i++;
      if (format[i] === '*') {
        i++;
        const p = nextArg();
        if (p instanceof GoInt && p.value >= 0) spec.prec = p.value;
        else out += '%!(BADPREC)';
      } else [spec.prec, i] = [readNumber(format, i)[0] ?? 0, readNumber(format, i)[1]];
    }
    if (i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i) ?? 0);
    i += verb.length;
    spec.verb = verb;
    if (verb === '%') {
      out += '%';
      continue;
    }
    const arg = nextArg();
    out += arg === MISSING ? `%!${verb}(MISSING)` : formatArg(arg, spec);
  }
  if (argIndex < args.length) {
    const extra = args
      .slice(argIndex)
      .map((a) => (a == null ? '<nil>' : `${goTypeName(a)}=${formatValue(a)}`));
    out += `%!(EXTRA ${extra.join(', ')})`;
  }
  return out;
}

const MISSING = Symbol('missing');
