/**
 * The functions of Alertmanager's notification templates (template/template.go's
 * DefaultFuncs), and prometheus-webhook-dingtalk's `markdown`.
 */
import { BUILTINS } from './builtins.ts';
import { type FunctionMap, GoCallError, type TemplateFunction } from './functions.ts';
import { quote } from './go-fmt.ts';
import { loadLocation } from './go-location.ts';
import { formatLayout } from './go-time.ts';
import { GoInt, GoSlice, GoTime, type GoValue, utf8Bytes } from './go-values.ts';
import { sharedFunctions } from './prometheus-functions.ts';

export interface AlertmanagerFunctionContext {
  /** How long a regular expression that risks backtracking may run. */
  regexpTimeoutMs: number;
  /** `since` counts from this (milliseconds since the epoch). */
  now: () => number;
}

/** Word-break MidLetter, MidNumLet and Single_Quote: inside a word unless two meet. */
const MID = new Set("'.:·\u0387\u055F\u05F4\u2018\u2019\u2024\u2027\uFE13\uFE52\uFE55\uFF07\uFF0E\uFF1A");
/** What keeps a word going: letters, digits, marks, connectors like "_"; scripts without word letters break. */
const WORD = /^[\p{L}\p{N}\p{M}\p{Pc}\p{Cf}]$/u;
const NO_WORD_LETTERS = /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]$/u;
const CASED = /^\p{Cased}$/u;
/** Letters whose title case is neither their upper nor their lower case. */
const DIGRAPH_TITLES: Record<string, string> = {
  Ǆ: 'ǅ',
  ǅ: 'ǅ',
  ǆ: 'ǅ',
  Ǉ: 'ǈ',
  ǈ: 'ǈ',
  ǉ: 'ǈ',
  Ǌ: 'ǋ',
  ǋ: 'ǋ',
  ǌ: 'ǋ',
  Ǳ: 'ǲ',
  ǲ: 'ǲ',
  ǳ: 'ǲ',
};

function titleLetter(c: string): string {
  const digraph = DIGRAPH_TITLES[c];
  if (digraph) return digraph;
  const [first = c, ...rest] = [...c.toUpperCase()];
  // ß is "Ss" at the start of a word, not "SS".
  return first + rest.join('').toLowerCase();
}

/**
 * cases.Title(language.AmericanEnglish): the first cased letter of each word
 * in title case, the others in lower case. Words break as x/text's
 * approximation of Unicode word breaking has them: "it's" and "a.b" are one
 * word, "foo-bar" and "a..b" two.
 */
export function titleCase(s: string): string {
  let out = '';
  let midWord = false;
  let wasMid = false;
  for (const c of s) {
    const mid = MID.has(c);
    if (wasMid && mid) midWord = false;
    if (CASED.test(c)) {
      out += midWord ? c.toLowerCase() : titleLetter(c);
      midWord = true;
    } else {
      out += c;
      if (!mid && (!WORD.test(c) || NO_WORD_LETTERS.test(c))) midWord = false;
    }
    wasMid = mid;
  }
  return out;
}

/** strings.TrimSpace: Unicode white space, which is JavaScript's less U+FEFF plus U+0085. */
const EDGE_SPACE =
  /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

/** url.QueryUnescape: "+" is a space, %XX a byte. */
function queryUnescape(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; ) {
    const c = s[i] as string;
    if (c === '%') {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex))
        throw new GoCallError(`invalid URL escape ${quote(s.slice(i, i + 3))}`);
      bytes.push(Number.parseInt(hex, 16));
      i += 3;
      continue;
    }
    const char = String.fromCodePoint(s.codePointAt(i) ?? 0);
    bytes.push(...(c === '+' ? [0x20] : utf8Bytes(char)));
    i += char.length;
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

const time = (v: GoValue): GoTime => v as GoTime;

function stringFunction(f: (s: string) => string): TemplateFunction {
  return { params: ['string'], call: ([s]) => f(s as string) };
}

export function alertmanagerFunctions(context: AlertmanagerFunctionContext): FunctionMap {
  return new Map<string, TemplateFunction>([
    ...sharedFunctions(context.regexpTimeoutMs),
    ['title', stringFunction(titleCase)],
    ['trimSpace', stringFunction((s) => s.replace(EDGE_SPACE, ''))],
    [
      'join',
      { params: ['string', 'strings'], call: ([sep, items]) => (items as GoSlice).items.join(sep as string) },
    ],
    ['stringSlice', { params: [], variadic: 'string', call: (items) => new GoSlice(items, '[]string') }],
    ['urlUnescape', stringFunction(queryUnescape)],
    ['date', { params: ['string', 'time'], call: ([layout, t]) => formatLayout(time(t), layout as string) }],
    [
      'tz',
      {
        params: ['string', 'time'],
        call: ([name, t]) => {
          try {
            return new GoTime(time(t).unixNanos, loadLocation(name as string), 'time.Time');
          } catch (err) {
            throw new GoCallError((err as Error).message);
          }
        },
      },
    ],
    [
      'since',
      {
        params: ['time'],
        call: ([t]) =>
          new GoInt(Number(BigInt(context.now()) * 1_000_000n - time(t).unixNanos), 'time.Duration'),
      },
    ],
    ['markdown', stringFunction((s) => s.replace(/[_*`]/g, '\\$&'))],
  ]);
}

/** Every function an Alertmanager template may call, for parsing. */
export const ALERTMANAGER_FUNCTION_NAMES: ReadonlySet<string> = new Set([
  ...BUILTINS.keys(),
  ...alertmanagerFunctions({ regexpTimeoutMs: 0, now: Date.now }).keys(),
]);
