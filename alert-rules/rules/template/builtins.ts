/** Go text/template's predefined functions. */
import { type FunctionMap, GoCallError, type TemplateFunction } from './functions.ts';
import { sprint, sprintf, sprintln } from './go-fmt.ts';
import {
  GoHTML,
  GoInt,
  GoMap,
  GoSlice,
  type GoValue,
  goTypeName,
  truth,
  utf8Bytes,
  utf8Length,
} from './go-values.ts';

type Kind = 'bool' | 'int' | 'float' | 'string' | 'invalid';

function basicKind(v: GoValue): Kind {
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof GoInt) return 'int';
  if (typeof v === 'number') return 'float';
  if (typeof v === 'string' || v instanceof GoHTML) return 'string';
  return 'invalid';
}

function primitive(v: GoValue): boolean | number | string {
  if (v instanceof GoInt) return v.value;
  if (v instanceof GoHTML) return v.text;
  return v as boolean | number | string;
}

function eq(args: GoValue[]): GoValue {
  const [first, ...rest] = args;
  if (rest.length === 0) throw new GoCallError('missing argument for comparison');
  const k1 = basicKind(first);
  for (const arg of rest) {
    const k2 = basicKind(arg);
    if (k1 !== k2) {
      if (first !== undefined && arg !== undefined)
        throw new GoCallError('incompatible types for comparison');
      continue;
    }
    if (k1 === 'invalid') {
      if (first === undefined || arg === undefined || first === null || arg === null) {
        if ((first == null) === (arg == null)) return true;
        continue;
      }
      throw new GoCallError(`non-comparable type ${sprint([arg])}: ${goTypeName(arg)}`);
    }
    if (primitive(first) === primitive(arg)) return true;
  }
  return false;
}

function lessThan(a: GoValue, b: GoValue): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === 'invalid' || k2 === 'invalid') throw new GoCallError('invalid type for comparison');
  if (k1 !== k2) throw new GoCallError('incompatible types for comparison');
  if (k1 === 'bool') throw new GoCallError('invalid type for comparison');
  return (primitive(a) as number | string) < (primitive(b) as number | string);
}

function indexArg(index: GoValue, cap: number, inclusive: boolean): number {
  if (index === undefined || index === null) throw new GoCallError('cannot index slice/array with nil');
  if (!(index instanceof GoInt))
    throw new GoCallError(`cannot index slice/array with type ${goTypeName(index)}`);
  const x = index.value;
  if (x < 0 || (inclusive ? x > cap : x >= cap)) throw new GoCallError(`index out of range: ${x}`);
  return x;
}

function index(args: GoValue[]): GoValue {
  let [item, ...indexes] = args;
  if (item === undefined || item === null) throw new GoCallError('index of untyped nil');
  for (const i of indexes) {
    if (typeof item === 'string')
      item = new GoInt(utf8Bytes(item)[indexArg(i, utf8Length(item), false)] ?? 0, 'uint8');
    else if (item instanceof GoSlice) item = item.items[indexArg(i, item.items.length, false)];
    else if (item instanceof GoMap) {
      if (typeof i !== 'string') {
        throw new GoCallError(
          i == null
            ? 'value is nil; should be of type string'
            : `value has type ${goTypeName(i)}; should be string`,
        );
      }
      item = item.entries.has(i) ? item.entries.get(i) : item.zero;
    } else if (item === undefined || item === null) throw new GoCallError('index of nil pointer');
    else throw new GoCallError(`can't index item of type ${goTypeName(item)}`);
  }
  return item;
}

function slice(args: GoValue[]): GoValue {
  const [item, ...indexes] = args;
  if (item === undefined || item === null) throw new GoCallError('slice of untyped nil');
  if (indexes.length > 3) throw new GoCallError(`too many slice indexes: ${indexes.length}`);
  let length: number;
  if (typeof item === 'string') {
    if (indexes.length === 3) throw new GoCallError('cannot 3-index slice a string');
    length = utf8Length(item);
  } else if (item instanceof GoSlice) length = item.items.length;
  else throw new GoCallError(`can't slice item of type ${goTypeName(item)}`);
  const idx = [0, length, length];
  indexes.forEach((x, i) => {
    idx[i] = indexArg(x, length, true);
  });
  const [from = 0, to = length] = idx;
  if (from > to) throw new GoCallError(`invalid slice index: ${from} > ${to}`);
  if (indexes.length === 3 && to > (idx[2] ?? length))
    throw new GoCallError(`invalid slice index: ${to} > ${idx[2]}`);
  if (typeof item === 'string') return new TextDecoder().decode(utf8Bytes(item).slice(from, to));
  return new GoSlice(item.items.slice(from, to), item.type);
}

function length(args: GoValue[]): GoValue {
  const [item] = args;
  if (typeof item === 'string') return new GoInt(utf8Length(item));
  if (item instanceof GoHTML) return new GoInt(utf8Length(item.text));
  if (item instanceof GoSlice) return new GoInt(item.items.length);
  if (item instanceof GoMap) return new GoInt(item.entries.size);
  if (item === null) throw new GoCallError('len of nil pointer');
  if (item === undefined) throw new GoCallError('len of untyped nil');
  throw new GoCallError(`len of type ${goTypeName(item)}`);
}

/** The text html, js and urlquery escape: a single string as is, anything else through fmt.Sprint. */
function evalArgs(args: GoValue[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(
    args.map((a) => (a === null ? undefined : a)).map((a) => (a === undefined ? '<no value>' : a)),
  );
}

const HTML_ESCAPES: Record<string, string> = {
  '"': '&#34;',
  "'": '&#39;',
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '\0': '\uFFFD',
};

export function htmlEscape(s: string): string {
  return s.replace(/["'&<>\0]/g, (c) => HTML_ESCAPES[c] ?? c);
}

function jsEscape(s: string): string {
  let out = '';
  for (const c of s) {
    const cp = c.codePointAt(0) ?? 0;
    if (c === '\\' || c === "'" || c === '"') out += `\\${c}`;
    else if (
      c === '<' ||
      c === '>' ||
      c === '&' ||
      c === '=' ||
      cp < 0x20 ||
      !/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(c)
    ) {
      out += cp < 0x10000 ? `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}` : c;
    } else out += c;
  }
  return out;
}

/** net/url.QueryEscape. */
export function queryEscape(s: string): string {
  let out = '';
  for (const byte of utf8Bytes(s)) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const anyArgs = { params: [], variadic: 'any' } as const;
const valueArgs = (fixed: number): Pick<TemplateFunction, 'params' | 'variadic'> => ({
  params: Array(fixed).fill('value'),
  variadic: 'value',
});

export const BUILTINS: FunctionMap = new Map<string, TemplateFunction>([
  ['and', { ...valueArgs(1), call: () => undefined }],
  ['or', { ...valueArgs(1), call: () => undefined }],
  ['not', { params: ['value'], call: ([v]) => !truth(v) }],
  ['len', { params: ['value'], call: length }],
  ['index', { ...valueArgs(1), call: index }],
  ['slice', { ...valueArgs(1), call: slice }],
  ['print', { ...anyArgs, call: (args) => sprint(args) }],
  ['println', { ...anyArgs, call: (args) => sprintln(args) }],
  ['printf', { params: ['string'], variadic: 'any', call: ([f, ...args]) => sprintf(f as string, args) }],
  ['html', { ...anyArgs, call: (args) => htmlEscape(evalArgs(args)) }],
  ['js', { ...anyArgs, call: (args) => jsEscape(evalArgs(args)) }],
  ['urlquery', { ...anyArgs, call: (args) => queryEscape(evalArgs(args)) }],
  [
    'call',
    {
      ...valueArgs(1),
      call: ([fn]) => {
        throw new GoCallError(fn == null ? 'call of nil' : `non-function of type ${goTypeName(fn)}`);
      },
    },
  ],
  ['eq', { ...valueArgs(1), call: eq }],
  ['ne', { params: ['value', 'value'], call: (args) => !eq(args) }],
  ['lt', { params: ['value', 'value'], call: ([a, b]) => lessThan(a, b) }],
  ['le', { params: ['value', 'value'], call: ([a, b]) => lessThan(a, b) || eq([a, b]) }],
  ['gt', { params: ['value', 'value'], call: ([a, b]) => !(lessThan(a, b) || eq([a, b])) }],
  ['ge', { params: ['value', 'value'], call: ([a, b]) => !lessThan(a, b) }],
]);
