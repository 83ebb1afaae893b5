import { request } from 'undici';
import { z } from 'zod';
import { byteSize, duration, redactUrl } from '../../core/config-types.ts';
import {
  type HttpTarget,
  httpTargetSchema,
  openHttpTarget,
  readBodyLimited,
} from '../../core/http-target.ts';
import type { QueryApi, Sample } from '../types.ts';

export const prometheusQuerySchema = httpTargetSchema.extend({
  /** A query still running after this is abandoned, and Prometheus is told the same limit. */
  queryTimeout: duration().default(30_000),
  /** A larger answer is refused, not buffered. */
  maxResponseBytes: byteSize().default(64 * 1024 * 1024),
  /** Connections kept to Prometheus: as many as queries run at once. */
  maxConnections: z.number().int().positive().default(16),
});
export type PrometheusQueryConfig = z.output<typeof prometheusQuerySchema>;

/**
 * A query that failed. `errorType` is Prometheus's (`bad_data`, `execution`,
 * `timeout`, ...) when it answered one, else `timeout`, `http`, `transport` or `bad_response`.
 */
export class QueryError extends Error {
  readonly errorType: string;
  constructor(errorType: string, message: string) {
    super(message);
    this.name = 'QueryError';
    this.errorType = errorType;
  }
}

/** Instant queries with `POST /api/v1/query`, as Prometheus's rule manager makes them. */
export class PrometheusQueryClient implements QueryApi {
  private readonly config: PrometheusQueryConfig;
  private readonly target: HttpTarget;

  constructor(config: PrometheusQueryConfig) {
    this.config = config;
    this.target = openHttpTarget(config, config.maxConnections);
  }

  async query(expr: string, timeMs: number, signal?: AbortSignal): Promise<Sample[]> {
    const timeout = AbortSignal.timeout(this.config.queryTimeout);
    const body = new URLSearchParams({
      query: expr,
      time: (timeMs / 1000).toFixed(3),
      timeout: `${this.config.queryTimeout}ms`,
    }).toString();
    let status: number;
    let answer: Buffer;
    try {
      const response = await request(this.target.url('api/v1/query'), {
        method: 'POST',
        dispatcher: this.target.dispatcher,
        headers: { ...(await this.target.headers()), 'content-type': 'application/x-www-form-urlencoded' },
        body,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      status = response.statusCode;
      answer = await readBodyLimited(response, this.config.maxResponseBytes);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted) {
        throw new QueryError('timeout', `the query took longer than ${this.config.queryTimeout} ms`);
      }
      throw new QueryError('transport', `${redactUrl(this.config.url)}: ${(err as Error).message}`);
    }
    return parseQueryAnswer(status, answer);
  }

  close(): Promise<void> {
    return this.target.close();
  }
}

interface ApiAnswer {
  status?: string;
  errorType?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

/** Samples of an instant query's answer; a scalar is one sample without labels. */
export function parseQueryAnswer(status: number, body: Buffer): Sample[] {
  let answer: ApiAnswer;
  try {
    answer = JSON.parse(body.toString('utf8')) as ApiAnswer;
  } catch {
    // A proxy's error page, most likely; its text is not repeated, it may echo what was sent.
    if (status >= 300) throw new QueryError('http', `Prometheus answered HTTP ${status}`);
    throw new QueryError('bad_response', 'the answer is not JSON');
  }
  if (answer?.status === 'error') {
    throw new QueryError(answer.errorType ?? 'unknown', answer.error ?? `HTTP ${status}`);
  }
  if (status !== 200 || answer?.status !== 'success') {
    throw new QueryError('http', `Prometheus answered HTTP ${status} without a result`);
  }
  const { resultType, result } = answer.data ?? {};
  if (resultType === 'scalar') return [{ labels: {}, value: sampleValue(result) }];
  if (resultType !== 'vector') {
    throw new QueryError(
      'bad_data',
      `the expression gives a ${resultType}, not an instant vector or a scalar`,
    );
  }
  if (!Array.isArray(result)) throw new QueryError('bad_response', 'the vector is not a list');
  return result.map((element: { metric?: Record<string, string>; value?: unknown; histogram?: unknown }) => {
    if (element.histogram !== undefined) {
      throw new QueryError(
        'bad_data',
        'the expression gives native histogram samples, which rules cannot use',
      );
    }
    return { labels: element.metric ?? {}, value: sampleValue(element.value) };
  });
}

const SPECIAL_VALUES: Record<string, number> = { NaN: Number.NaN, '+Inf': Infinity, '-Inf': -Infinity };

/** `[time, "value"]`; Prometheus writes values as text so that NaN and infinities survive JSON. */
function sampleValue(pair: unknown): number {
  const text = Array.isArray(pair) ? pair[1] : undefined;
  if (typeof text !== 'string') throw new QueryError('bad_response', 'a sample has no value');
  const value = SPECIAL_VALUES[text] ?? Number(text);
  if (Number.isNaN(value) && text !== 'NaN') {
    throw new QueryError('bad_response', `a sample value is not a number: ${JSON.stringify(text)}`);
  }
  return value;
}
