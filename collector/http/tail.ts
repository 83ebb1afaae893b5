import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sleep } from '../../core/backoff.ts';
import { describeError } from '../../core/errors.ts';
import { decodeCursor, type QueryParams, type SearchLimits, searchQueryOf } from '../query/request.ts';
import { parseTime } from '../query/time.ts';
import type { SearchQuery, SortKey } from '../query/types.ts';
import type { LogStore } from '../store/store.ts';
import { hitView } from './search.ts';

export interface TailOptions {
  store: LogStore;
  limits: SearchLimits;
  intervalMs: number;
  lookbackMs: number;
}

const PAGE = 500;
const HEARTBEAT_MS = 15_000;
/** Ids remembered to drop repeats; a tail this busy is better served by search. */
const MAX_SEEN = 200_000;
/** Lines with times a little in the future (clock skew between nodes) still reach the tail. */
const FUTURE_MS = 5 * 60_000;

function compare(a: SortKey, b: SortKey): number {
  return a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);
}

/**
 * `GET /api/logs/tail`: Server-Sent Events of the lines matching a filter, from
 * `from` (default now) on. Each poll asks for everything in the last
 * `lookback` of event time, oldest first, and drops ids already sent: a line
 * that arrives late (a sidecar catching up, an index refresh) is still sent,
 * and none is sent twice. `Last-Event-ID` resumes after a reconnect.
 */
export function registerTail(app: FastifyInstance, opts: TailOptions): void {
  app.get('/api/logs/tail', { config: { role: 'viewer' } }, async (request, reply) => {
    const params = request.query as QueryParams;
    const now = Date.now();
    const base = searchQueryOf(
      { ...params, from: undefined, to: undefined, cursor: undefined, histogram: undefined },
      request.principal,
      opts.limits,
      now,
    );
    const resume = lastEventId(request);
    const from = typeof params.from === 'string' ? parseTime(params.from, now) : (resume?.[0] ?? now);
    reply.hijack();
    const out = reply.raw;
    out.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    out.write('retry: 2000\n\n');
    const closed = new AbortController();
    request.raw.on('close', () => closed.abort());
    const seen = new Map<string, number>();
    let lastWrite = Date.now();
    while (!closed.signal.aborted) {
      try {
        const windowFrom = Math.max(from, Date.now() - opts.lookbackMs);
        for (const [id, time] of seen) if (time < windowFrom) seen.delete(id);
        const query: SearchQuery = {
          ...base,
          from: windowFrom,
          to: Date.now() + FUTURE_MS,
          order: 'asc',
          size: PAGE,
        };
        for (;;) {
          const page = await opts.store.search(query, closed.signal);
          for (const hit of page.hits) {
            if (seen.has(hit.id) || (resume && compare(hit.sort, resume) <= 0)) continue;
            if (seen.size >= MAX_SEEN) seen.delete(seen.keys().next().value!);
            seen.set(hit.id, hit.sort[0]);
            const view = hitView(hit);
            out.write(`event: log\nid: ${view.cursor}\ndata: ${JSON.stringify(view)}\n\n`);
            lastWrite = Date.now();
          }
          if (!page.next || page.hits.length < PAGE) break;
          query.after = page.next;
        }
      } catch (err) {
        if (closed.signal.aborted) break;
        request.log.warn({ err: describeError(err) }, 'tail: search failed; retrying');
        out.write(
          `event: error\ndata: ${JSON.stringify({ error: 'the log store did not answer; retrying' })}\n\n`,
        );
      }
      if (Date.now() - lastWrite >= HEARTBEAT_MS) {
        out.write(': keep-alive\n\n');
        lastWrite = Date.now();
      }
      await sleep(opts.intervalMs, closed.signal).catch(() => {});
    }
    out.end();
  });
}

function lastEventId(request: FastifyRequest): SortKey | undefined {
  const header = request.headers['last-event-id'];
  if (typeof header !== 'string' || header === '') return undefined;
  return decodeCursor(header);
}
