/** The search parameters a Logs view keeps in its URL, named as the API names them. */
export const FILTERS = ['namespace', 'pod', 'container', 'level'] as const;
export type FilterName = (typeof FILTERS)[number];

/** The relative ranges offered first; any `now-…` the API accepts works in the URL. */
export const RANGES = [
  { value: 'now-15m', label: 'Last 15 minutes' },
  { value: 'now-1h', label: 'Last hour' },
  { value: 'now-24h', label: 'Last 24 hours' },
  { value: 'now-7d', label: 'Last 7 days' },
];

export interface LogsQuery {
  q: string;
  from: string;
  to: string;
  order: 'desc' | 'asc';
  filters: Partial<Record<FilterName, string>>;
  /** Other keyword fields, `f.<field>` in the API. */
  fields: Record<string, string>;
}

export function queryOf(url: URL): LogsQuery {
  const p = url.searchParams;
  const filters: LogsQuery['filters'] = {};
  for (const name of FILTERS) {
    const value = p.get(name);
    if (value) filters[name] = value;
  }
  const fields: Record<string, string> = {};
  for (const [key, value] of p) if (key.startsWith('f.') && value) fields[key.slice(2)] = value;
  return {
    q: p.get('q') ?? '',
    from: p.get('from') ?? 'now-15m',
    to: p.get('to') ?? 'now',
    order: p.get('order') === 'asc' ? 'asc' : 'desc',
    filters,
    fields,
  };
}

/** The query's parameters for the API and for the console's own URL alike. */
export function paramsOf(query: LogsQuery): URLSearchParams {
  const p = new URLSearchParams();
  if (query.q) p.set('q', query.q);
  p.set('from', query.from);
  p.set('to', query.to);
  for (const [name, value] of Object.entries(query.filters)) if (value) p.set(name, value);
  for (const [name, value] of Object.entries(query.fields)) if (value) p.set(`f.${name}`, value);
  if (query.order !== 'desc') p.set('order', query.order);
  return p;
}

const UNIT_MS: Record<string, number> = { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 };

/** Epoch ms of a time as the API reads it (`now`, `now-15m`, ISO 8601, epoch ms). */
export function timeOf(value: string, now = Date.now()): number {
  if (value === 'now') return now;
  const relative = /^now-(\d+)([smhdw])$/.exec(value);
  if (relative) return now - Number(relative[1]) * UNIT_MS[relative[2]!]!;
  if (/^\d+$/.test(value)) return Number(value);
  return Date.parse(value);
}

const STEPS: [string, number][] = [
  ['1s', 1e3],
  ['5s', 5e3],
  ['10s', 1e4],
  ['30s', 3e4],
  ['1m', 6e4],
  ['5m', 3e5],
  ['10m', 6e5],
  ['30m', 18e5],
  ['1h', 36e5],
  ['3h', 108e5],
  ['12h', 432e5],
  ['1d', 864e5],
  ['7d', 6048e5],
];

/** A histogram bucket width giving some 40 to 100 bars over the range. */
export function histogramInterval(fromMs: number, toMs: number): [string, number] {
  const span = Math.max(1, toMs - fromMs);
  return STEPS.find(([, ms]) => span / ms <= 100) ?? STEPS.at(-1)!;
}

/** `name:value` or `name:"a phrase"` read as a field term (docs/collector.md): text with colons is not one. */
const FIELD_TERM = /^([A-Za-z_@][\w.@-]*):(?!$|:|\/\/)"?(.*?)"?$/;
const DRIVE = /^[A-Za-z]:[\\/]/;

/**
 * The words and phrases of a query that a line's message matches on, for highlighting: negated ones
 * (NOT x, -x), field terms other than `message:` and the operators are left out.
 */
export function highlightTerms(q: string): string[] {
  const terms: string[] = [];
  const token = /(-?)"([^"]*)"|([\w.@-]+:"[^"]*")|(\S+)/g;
  let negate = false;
  for (let m = token.exec(q); m; m = token.exec(q)) {
    const [, minus, phrase, quotedField, plain] = m;
    const word = quotedField ?? plain;
    if (word === 'NOT') {
      negate = true;
      continue;
    }
    if (word === 'AND' || word === 'OR') continue;
    let value = (phrase ?? word ?? '').replace(/^[-(]+|[)]+$/g, '');
    const negated = negate || minus === '-' || word?.startsWith('-');
    negate = false;
    const field = phrase === undefined && !DRIVE.test(value) ? FIELD_TERM.exec(value) : null;
    if (field) {
      if (field[1] !== 'message') continue;
      value = field[2]!;
    }
    if (!negated && value) terms.push(value.toLowerCase());
  }
  return terms;
}
