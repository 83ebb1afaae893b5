import type { QueryApi } from '../../alert-rules/types.ts';
import { eventually } from './lookout-process.ts';

const QUERY_TIMEOUT_MS = 10_000;
/** Often enough to time phases of a one-second evaluation interval. */
export const POLL_MS = 50;

interface ApiAnswer<T> {
  status: 'success' | 'error';
  data: T;
  errorType?: string;
  error?: string;
}

/** GET of a Prometheus HTTP API path (`/api/v1/alerts`); rejects on an error answer. */
export async function prometheusApi<T>(baseUrl: string, pathAndQuery: string): Promise<T> {
  const response = await fetch(new URL(pathAndQuery, baseUrl), {
    signal: AbortSignal.timeout(QUERY_TIMEOUT_MS),
  });
  const answer = (await response.json()) as ApiAnswer<T>;
  if (answer.status !== 'success') throw new Error(`${answer.errorType}: ${answer.error}`);
  return answer.data;
}

type QueryData =
  | { resultType: 'vector'; result: { metric: Record<string, string>; value: [number, string] }[] }
  | { resultType: 'scalar'; result: [number, string] }
  | { resultType: 'matrix' | 'string'; result: unknown };

/** Prometheus writes infinities as "+Inf" and "-Inf", which Number() does not read. */
function sampleValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

/** A bare instant-query client, enough for tests until Lookout has its own. */
export function prometheusQueries(baseUrl: string): QueryApi {
  return {
    async query(expr, timeMs, signal) {
      const params = new URLSearchParams({ query: expr, time: String(timeMs / 1000) });
      const timeout = AbortSignal.timeout(QUERY_TIMEOUT_MS);
      const response = await fetch(new URL(`/api/v1/query?${params}`, baseUrl), {
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      const answer = (await response.json()) as ApiAnswer<QueryData>;
      if (answer.status !== 'success') throw new Error(`${answer.errorType}: ${answer.error}`);
      const { data } = answer;
      if (data.resultType === 'scalar') return [{ labels: {}, value: sampleValue(data.result[1]) }];
      if (data.resultType !== 'vector')
        throw new Error(`expected a vector or scalar, got a ${data.resultType}`);
      return data.result.map(({ metric, value }) => ({ labels: metric, value: sampleValue(value[1]) }));
    },
  };
}

/**
 * Queries `expr` until its only sample has `expected` as value (undefined:
 * until it has none), so a test knows Prometheus has scraped what an exporter
 * serves. Returns how long that took.
 */
export async function untilQueried(
  baseUrl: string,
  expr: string,
  expected: number | undefined,
  timeoutMs = 15_000,
): Promise<number> {
  const queries = prometheusQueries(baseUrl);
  const started = Date.now();
  await eventually(
    () => queries.query(expr, Date.now()),
    (samples) =>
      expected === undefined
        ? samples.length === 0
        : samples.length === 1 && Object.is(samples[0]?.value, expected),
    `${expr} to be ${expected ?? 'empty'}`,
    timeoutMs,
    POLL_MS,
  );
  return Date.now() - started;
}
