import { request } from 'undici';
import { z } from 'zod';
import { byteSize, duration, httpUrl, redactUrl } from '../../core/config-types.ts';
import {
  type HttpTarget,
  httpTargetSchema,
  openHttpTarget,
  readBodyLimited,
} from '../../core/http-target.ts';
import { SHORT_FIELDS } from '../../core/log-query/fields.ts';

export const logSearchSchema = httpTargetSchema.extend({
  /** A request to the collector still running after this is abandoned. */
  timeout: duration().default(30_000),
  /** A larger answer is refused, not buffered. */
  maxResponseBytes: byteSize().default(16 * 1024 * 1024),
  maxConnections: z.number().int().positive().default(4),
  /** Groups one count may have; a rule whose query has more fails its evaluation, saying so. */
  maxGroups: z.number().int().positive().max(10_000).default(1_000),
  /** Matching lines quoted in an alert at most. */
  sampleLines: z.number().int().min(0).max(20).default(3),
  /** Bytes of one quoted line at most (cut on a character boundary). */
  sampleLineBytes: byteSize().default(300),
  /** Alerts of one rule evaluation that get quoted lines at most (each is one search). */
  alertsWithLines: z.number().int().min(0).default(10),
  /** The console whose log search alerts link to; unset: `url`, where the collector serves it. */
  consoleUrl: httpUrl().optional(),
});
export type LogSearchConfig = z.output<typeof logSearchSchema>;

/** One search of the collector's API: a query over a time range, in namespaces, with exact field values. */
export interface LogSearchRequest {
  query: string;
  namespaces: readonly string[];
  fromMs: number;
  toMs: number;
  /** Field (short or dotted name) → the one value it must have. */
  values?: Readonly<Record<string, string>>;
}

export interface LogCount {
  total: number;
  /** Keyed by the group-by names as asked; null where a line has no value. */
  groups: { key: Record<string, string | null>; count: number }[];
  truncated: boolean;
}

export interface LogLine {
  id: string;
  doc: Record<string, unknown>;
}

/** What log rules need of a log search. */
export interface LogSearch {
  count(search: LogSearchRequest, groupBy: readonly string[], signal?: AbortSignal): Promise<LogCount>;
  /** The first `size` matching lines, oldest first. */
  lines(search: LogSearchRequest, size: number, signal?: AbortSignal): Promise<LogLine[]>;
  /** The namespaces the token may read; undefined: every one. */
  namespaces(signal?: AbortSignal): Promise<readonly string[] | undefined>;
}

/** The collector's search parameters of a search, as its API and the console's URLs take them. */
export function searchParams(search: LogSearchRequest): URLSearchParams {
  const params = new URLSearchParams({
    from: new Date(search.fromMs).toISOString(),
    to: new Date(search.toMs).toISOString(),
  });
  if (search.query) params.set('q', search.query);
  const values = { ...search.values };
  if (values.namespace === undefined && search.namespaces.length > 0)
    params.set('namespace', search.namespaces.join(','));
  for (const [field, value] of Object.entries(values))
    params.set(Object.hasOwn(SHORT_FIELDS, field) ? field : `f.${field}`, value);
  return params;
}

/**
 * The collector's search API (`/api/logs/count`, `/api/logs/search`,
 * `/api/whoami`) with a bearer token: the one query engine for both stores,
 * within the namespaces the token may read.
 */
export class LogSearchClient implements LogSearch {
  private readonly config: LogSearchConfig;
  private readonly target: HttpTarget;

  constructor(config: LogSearchConfig) {
    this.config = config;
    this.target = openHttpTarget(config, config.maxConnections);
  }

  async count(search: LogSearchRequest, groupBy: readonly string[], signal?: AbortSignal): Promise<LogCount> {
    const params = searchParams(search);
    for (const name of groupBy) params.append('groupBy', name);
    params.set('maxGroups', String(this.config.maxGroups));
    return (await this.get(`api/logs/count?${params}`, signal)) as LogCount;
  }

  async lines(search: LogSearchRequest, size: number, signal?: AbortSignal): Promise<LogLine[]> {
    const params = searchParams(search);
    params.set('order', 'asc');
    params.set('size', String(size));
    return ((await this.get(`api/logs/search?${params}`, signal)) as { hits: LogLine[] }).hits;
  }

  async namespaces(signal?: AbortSignal): Promise<readonly string[] | undefined> {
    const answer = (await this.get('api/whoami', signal)) as { namespaces: string[] | null };
    return answer.namespaces ?? undefined;
  }

  close(): Promise<void> {
    return this.target.close();
  }

  private async get(path: string, signal?: AbortSignal): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.config.timeout);
    let status: number;
    let body: Buffer;
    try {
      const response = await request(this.target.url(path), {
        dispatcher: this.target.dispatcher,
        headers: await this.target.headers(),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      status = response.statusCode;
      body = await readBodyLimited(response, this.config.maxResponseBytes);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted) throw new Error(`the log search took longer than ${this.config.timeout} ms`);
      throw new Error(`log search ${redactUrl(this.config.url)}: ${(err as Error).message}`);
    }
    let answer: unknown;
    try {
      answer = JSON.parse(body.toString('utf8'));
    } catch {
      throw new Error(`the log search answered HTTP ${status} with a body that is not JSON`);
    }
    if (status !== 200) {
      const reason = (answer as { error?: unknown })?.error;
      throw new Error(
        `the log search refused the query (HTTP ${status}): ${String(reason ?? 'no reason given')}`,
      );
    }
    return answer;
  }
}
