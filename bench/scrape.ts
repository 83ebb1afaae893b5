/** The exposition format's samples, by name and label set as written. */
export type MetricValues = Map<string, number>;

export async function scrapeMetrics(baseUrl: string, timeoutMs = 5_000): Promise<MetricValues> {
  return parseMetrics(await metricsText(baseUrl, timeoutMs));
}

export async function metricsText(baseUrl: string, timeoutMs = 5_000): Promise<string> {
  const response = await fetch(new URL('/metrics', baseUrl), { signal: AbortSignal.timeout(timeoutMs) });
  return response.text();
}

export function parseMetrics(text: string): MetricValues {
  const values: MetricValues = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

/** Sum of every series of `name` whose labels include `labels` (as written, e.g. `handler="/api/v1/query"`). */
export function sumOf(metrics: MetricValues, name: string, labels = ''): number {
  let sum = 0;
  for (const [key, value] of metrics) {
    const brace = key.indexOf('{');
    const keyName = brace < 0 ? key : key.slice(0, brace);
    if (keyName === name && key.includes(labels)) sum += value;
  }
  return sum;
}

/** One bucket of a histogram: observations up to `le`, cumulative as exposed. */
export interface Bucket {
  le: number;
  count: number;
}

/** The buckets of an unlabelled histogram, by bound; `+Inf` last. */
export function histogramBuckets(metrics: MetricValues, name: string): Bucket[] {
  const buckets: Bucket[] = [];
  for (const [key, count] of metrics) {
    const le = key.startsWith(`${name}_bucket{`) ? /le="([^"]+)"/.exec(key)?.[1] : undefined;
    if (le !== undefined) buckets.push({ le: le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), count });
  }
  return buckets.sort((a, b) => a.le - b.le);
}

/** What was observed between two readings of the same histogram. */
export function bucketsBetween(before: Bucket[], after: Bucket[]): Bucket[] {
  return after.map(({ le, count }) => ({ le, count: count - (before.find((b) => b.le === le)?.count ?? 0) }));
}

/**
 * The bound of the bucket that holds quantile `q`: the quantile is at most this. Histogram buckets
 * say no more than that; interpolating inside a bucket (as `histogram_quantile` does) would invent it.
 */
export function quantileBound(buckets: Bucket[], q: number): number {
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return Number.NaN;
  return buckets.find(({ count }) => count >= q * total)!.le;
}
