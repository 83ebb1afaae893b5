/** Prometheus's alert template functions (template/template.go), with Prometheus's number formats. */
import { type RegexpJob, RegexpTimeoutError, runGoRegexp } from '../../go-regexp/isolation.ts';
import { GoRegexpError } from '../../go-regexp/translate.ts';
import type { QueryApi } from '../../types.ts';
import { queryEscape } from './builtins.ts';
import { type FunctionMap, GoCallError, NIL_DEREFERENCE, type TemplateFunction } from './functions.ts';
import { formatFloat } from './go-float.ts';
import { formatValue, quote } from './go-fmt.ts';
import { formatTime, timeFromSeconds } from './go-time.ts';
import {
  GoHTML,
  GoInt,
  GoMap,
  GoSample,
  GoSlice,
  type GoValue,
  goTypeName,
  QUERY_RESULT_TYPE,
  stringMap,
} from './go-values.ts';
import { parseGoFloat } from './parse.ts';

export interface PrometheusFunctionContext {
  externalURL: string;
  /** How long a regular expression that risks backtracking may run. */
  regexpTimeoutMs: number;
  timeMs: number;
  query: QueryApi['query'];
}

/** convertToFloat: numbers, strings through strconv.ParseFloat, and durations in seconds. */
function toFloat(v: GoValue): number {
  if (typeof v === 'number') return v;
  if (v instanceof GoInt && (v.type === 'int' || v.type === 'int64')) return v.value;
  if (v instanceof GoInt && v.type === 'time.Duration') return v.value / 1e9;
  if (typeof v === 'string') {
    const parsed = parseGoFloat(v);
    if (parsed === undefined)
      throw new GoCallError(`strconv.ParseFloat: parsing ${quote(v)}: invalid syntax`);
    if (!Number.isFinite(parsed) && !/inf|nan/i.test(v)) {
      throw new GoCallError(`strconv.ParseFloat: parsing ${quote(v)}: value out of range`);
    }
    return parsed;
  }
  throw new GoCallError(`can't convert ${v == null ? '<nil>' : goTypeName(v)} to float`);
}

const g4 = (v: number): string => formatFloat(v, 'g', 4);

function scaled(v: number, base: number, prefixes: readonly string[], down: boolean): [number, string] {
  let prefix = '';
  for (const p of prefixes) {
    if (down ? Math.abs(v) >= 1 : Math.abs(v) < base) break;
    prefix = p;
    v = down ? v * base : v / base;
  }
  return [v, prefix];
}

const BIG = ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
const SMALL = ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y'];

export function humanize(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return g4(v);
  const [x, prefix] = Math.abs(v) >= 1 ? scaled(v, 1000, BIG, false) : scaled(v, 1000, SMALL, true);
  return g4(x) + prefix;
}

export function humanize1024(v: number): string {
  if (Math.abs(v) <= 1 || !Number.isFinite(v)) return g4(v);
  const [x, prefix] = scaled(v, 1024, ['ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi'], false);
  return g4(x) + prefix;
}

export function humanizeDuration(v: number): string {
  if (!Number.isFinite(v)) return g4(v);
  if (v === 0) return `${g4(v)}s`;
  if (Math.abs(v) >= 1) {
    const sign = v < 0 ? '-' : '';
    // Go's int64(v) of a value beyond int64 yields its minimum on amd64; BigInt keeps Go's truncating division.
    const abs = Math.abs(v);
    const whole = abs >= 2 ** 63 ? -(2n ** 63n) : BigInt(Math.trunc(abs));
    const seconds = whole % 60n;
    const minutes = (whole / 60n) % 60n;
    const hours = (whole / 3600n) % 24n;
    const days = whole / 86400n;
    if (days !== 0n) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0n) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0n) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${g4(abs)}s`;
  }
  const [x, prefix] = scaled(v, 1000, SMALL, true);
  return `${g4(x)}${prefix}s`;
}

function checkedTime(v: number) {
  if (Number.isNaN(v) || !Number.isFinite(v)) return undefined;
  const nanos = v * 1e9;
  if (nanos >= 2 ** 63 || nanos < -(2 ** 63)) {
    throw new GoCallError(
      `${formatValue(v)} cannot be represented as a nanoseconds timestamp since it overflows int64`,
    );
  }
  return timeFromSeconds(v);
}

/** Prometheus's model.ParseDuration, in seconds. */
export function parseDuration(text: string): number {
  if (text === '') throw new GoCallError('empty duration string');
  if (text === '0') return 0;
  const m = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(text);
  if (!m) throw new GoCallError(`not a valid duration string: ${quote(text)}`);
  const unitsMs = [365 * 86400000, 7 * 86400000, 86400000, 3600000, 60000, 1000, 1];
  let ms = 0n;
  unitsMs.forEach((unit, i) => {
    const part = m[i + 1];
    if (part !== undefined) ms += BigInt(part) * BigInt(unit);
  });
  if (ms * 1_000_000n > 9223372036854775807n) throw new GoCallError('duration out of range');
  return Number(ms) / 1000;
}

function splitHostPort(hostPort: string): [string, string] | undefined {
  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(hostPort);
  if (bracketed)
    return bracketed[2]?.includes(':') ? undefined : [bracketed[1] as string, bracketed[2] as string];
  const colon = hostPort.lastIndexOf(':');
  if (colon < 0) return undefined;
  const host = hostPort.slice(0, colon);
  if (host.includes(':') || host.includes('[') || host.includes(']')) return undefined;
  return [host, hostPort.slice(colon + 1)];
}

function isIP(host: string): boolean {
  if (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(host))
    return host.split('.').every((p) => Number(p) <= 255);
  return host.includes(':') && /^[0-9a-fA-F:.]+$/.test(host);
}

export function stripDomain(hostPort: string): string {
  if (hostPort === '') return '';
  const split = splitHostPort(hostPort);
  const host = split ? split[0] : hostPort;
  if (isIP(host)) return hostPort;
  const first = host.split('.')[0] as string;
  if (split && split[1] !== '') return `${first.includes(':') ? `[${first}]` : first}:${split[1]}`;
  return first;
}

function isSeparator(c: string): boolean {
  if (c <= '\x7f') return !/[A-Za-z0-9_]/.test(c);
  if (/[\p{L}\p{Nd}]/u.test(c)) return false;
  return /\s/u.test(c);
}

/**
 * Go maps rune by rune: where JavaScript's mapping yields several runes
 * (ß → SS, İ → i̇), Go keeps an upper-case rune and lowers to the first one.
 */
function mapRunes(s: string, f: (c: string) => string, firstOfMany: boolean): string {
  let out = '';
  for (const c of s) {
    const mapped = [...f(c)];
    out += mapped.length === 1 || firstOfMany ? (mapped[0] ?? c) : c;
  }
  return out;
}

/** strings.Title: upper-cases the first letter of each word. */
export function title(s: string): string {
  let previous = ' ';
  return mapRunes(
    s,
    (c) => {
      const mapped = isSeparator(previous) ? c.toUpperCase() : c;
      previous = c;
      return mapped;
    },
    false,
  );
}

function pathOf(externalURL: string): string {
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*([^?#]*)/.exec(externalURL);
  try {
    return decodeURIComponent(m?.[1] ?? '');
  } catch {
    return m?.[1] ?? '';
  }
}

async function regexpCall(job: RegexpJob, timeoutMs: number, panics: boolean): Promise<string | boolean> {
  try {
    return await runGoRegexp(job, timeoutMs);
  } catch (e) {
    if (e instanceof RegexpTimeoutError) throw new GoCallError(e.message);
    if (!(e instanceof GoRegexpError)) throw e;
    if (!panics) throw new GoCallError(e.message);
    // regexp.MustCompile panics with the pattern backquoted where Go can.
    const shown = /^[^`\p{Cc}]*$/u.test(job.pattern) ? `\`${job.pattern}\`` : quote(job.pattern);
    throw new GoCallError(`regexp: Compile(${shown}): ${e.message}`);
  }
}

function sample(v: GoValue): GoSample {
  if (!(v instanceof GoSample)) throw new GoCallError(NIL_DEREFERENCE);
  return v;
}

function queryResult(v: GoValue): readonly GoValue[] {
  return v instanceof GoSlice ? v.items : [];
}

const floatFunction = (f: (v: number) => string): TemplateFunction => ({
  params: ['any'],
  call: ([v]) => f(toFloat(v)),
});

/** The functions Alertmanager's notification templates share with Prometheus's alert templates. */
export function sharedFunctions(regexpTimeoutMs: number): Map<string, TemplateFunction> {
  return new Map<string, TemplateFunction>([
    [
      'reReplaceAll',
      {
        params: ['string', 'string', 'string'],
        call: ([p, r, t]) =>
          regexpCall(
            { op: 'replace', pattern: p as string, replacement: r as string, text: t as string },
            regexpTimeoutMs,
            true,
          ),
      },
    ],
    [
      'match',
      {
        params: ['string', 'string'],
        call: ([p, t]) =>
          regexpCall({ op: 'match', pattern: p as string, text: t as string }, regexpTimeoutMs, false),
      },
    ],
    ['safeHtml', { params: ['string'], call: ([t]) => new GoHTML(t as string) }],
    ['toUpper', { params: ['string'], call: ([s]) => mapRunes(s as string, (c) => c.toUpperCase(), false) }],
    ['toLower', { params: ['string'], call: ([s]) => mapRunes(s as string, (c) => c.toLowerCase(), true) }],
    ['humanizeDuration', floatFunction(humanizeDuration)],
  ]);
}

export function prometheusFunctions(context: PrometheusFunctionContext): FunctionMap {
  return new Map<string, TemplateFunction>([
    ...sharedFunctions(context.regexpTimeoutMs),
    ['title', { params: ['string'], call: ([s]) => title(s as string) }],
    [
      'query',
      {
        params: ['string'],
        call: async ([q], env) => {
          let samples: Awaited<ReturnType<QueryApi['query']>>;
          try {
            samples = await context.query(q as string, context.timeMs, env.signal);
          } catch (e) {
            throw new GoCallError(e instanceof Error ? e.message : String(e));
          }
          return new GoSlice(
            samples.map((s) => new GoSample(stringMap(s.labels), s.value)),
            QUERY_RESULT_TYPE,
          );
        },
      },
    ],
    [
      'first',
      {
        params: ['queryResult'],
        call: ([v]) => {
          const items = queryResult(v);
          if (items.length === 0) throw new GoCallError('first() called on vector with no elements');
          return items[0];
        },
      },
    ],
    [
      'label',
      { params: ['string', 'sample'], call: ([l, s]) => sample(s).labels.entries.get(l as string) ?? '' },
    ],
    ['value', { params: ['sample'], call: ([s]) => sample(s).value }],
    ['strvalue', { params: ['sample'], call: ([s]) => sample(s).labels.entries.get('__value__') ?? '' }],
    [
      'args',
      {
        params: [],
        variadic: 'any',
        call: (args) =>
          new GoMap(new Map(args.map((a, i) => [`arg${i}`, a ?? null])), 'map[string]interface {}', null),
      },
    ],
    [
      'graphLink',
      { params: ['string'], call: ([e]) => `/graph?g0.expr=${queryEscape(e as string)}&g0.tab=0` },
    ],
    [
      'tableLink',
      { params: ['string'], call: ([e]) => `/graph?g0.expr=${queryEscape(e as string)}&g0.tab=1` },
    ],
    [
      'sortByLabel',
      {
        params: ['string', 'queryResult'],
        call: ([label, v]) => {
          const key = (s: GoValue): string =>
            (sample(s).labels.entries.get(label as string) as string | undefined) ?? '';
          const sorted = [...queryResult(v)].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
          return new GoSlice(sorted, QUERY_RESULT_TYPE);
        },
      },
    ],
    ['humanize', floatFunction(humanize)],
    ['humanize1024', floatFunction(humanize1024)],
    ['humanizePercentage', floatFunction((v) => `${g4(v * 100)}%`)],
    [
      'humanizeTimestamp',
      floatFunction((v) => {
        const t = checkedTime(v);
        return t === undefined ? g4(v) : formatTime(t);
      }),
    ],
    [
      'toTime',
      {
        params: ['any'],
        call: ([v]) => {
          const t = checkedTime(toFloat(v));
          if (t === undefined) throw new GoCallError('value is NaN or Inf');
          return t;
        },
      },
    ],
    ['parseDuration', { params: ['string'], call: ([d]) => parseDuration(d as string) }],
    ['pathPrefix', { params: [], call: () => pathOf(context.externalURL) }],
    ['externalURL', { params: [], call: () => context.externalURL }],
    [
      'stripPort',
      {
        params: ['string'],
        call: ([hp]) => (hp === '' ? '' : (splitHostPort(hp as string)?.[0] ?? (hp as string))) as string,
      },
    ],
    ['stripDomain', { params: ['string'], call: ([hp]) => stripDomain(hp as string) }],
    ['urlQueryEscape', { params: ['string'], call: ([s]) => queryEscape(s as string) }],
  ]);
}
