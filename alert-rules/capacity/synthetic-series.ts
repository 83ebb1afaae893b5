import type { Labels } from '../types.ts';

/**
 * Series that exist only inside Lookout, read from the current
 * recommendations: the off-recommendation rules query them, and so can their
 * templates and any other rule. Both carry the workload labels and
 * `recommendation`.
 */
export const SYNTHETIC_SERIES = {
  /** A workload whose known running replicas are off the recommendation; the value is the recommended count. */
  offRecommendation: 'lookout_capacity_off_recommendation',
  /** A workload whose running replicas are known; the value is the running count. */
  runningReplicas: 'lookout_capacity_running_replicas',
} as const;

export type SyntheticSeriesName = (typeof SYNTHETIC_SERIES)[keyof typeof SYNTHETIC_SERIES];

/** A plain selector of a synthetic series with equality matchers only. */
export interface SyntheticSelector {
  name: SyntheticSeriesName;
  matchers: Labels;
}

const SELECTOR = new RegExp(
  `^\\s*(${Object.values(SYNTHETIC_SERIES).join('|')})\\s*(?:\\{(.*)\\})?\\s*$`,
  's',
);
const MATCHER = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*("(?:[^"\\]|\\.)*")\s*(?:,|$)/y;

/**
 * The selector `expr` is, or undefined when it is anything else: any other
 * PromQL (a function, an operator, a regular-expression matcher) goes to
 * Prometheus, where these series do not exist.
 */
export function parseSyntheticSelector(expr: string): SyntheticSelector | undefined {
  const selector = SELECTOR.exec(expr);
  if (!selector) return undefined;
  const body = selector[2]?.trim() ?? '';
  const matchers: Labels = {};
  MATCHER.lastIndex = 0;
  while (MATCHER.lastIndex < body.length) {
    const matcher = MATCHER.exec(body);
    const value = matcher ? parseQuoted(matcher[2] as string) : undefined;
    if (!matcher || value === undefined) return undefined;
    matchers[matcher[1] as string] = value;
  }
  return { name: selector[1] as SyntheticSeriesName, matchers };
}

/** PromQL's double-quoted strings, as far as JSON reads them (template `%q` output included). */
function parseQuoted(quoted: string): string | undefined {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return undefined;
  }
}

/** PromQL's equality: a matcher with an empty value also matches a missing label. */
export function matchesAll(labels: Labels, matchers: Labels): boolean {
  return Object.entries(matchers).every(([name, value]) => (labels[name] ?? '') === value);
}
