import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError, type Principal } from '../../core/auth.ts';
import { sleep } from '../../core/backoff.ts';
import { describeError } from '../../core/errors.ts';
import type { CollectorConfig } from '../config.ts';
import { decodeCursor, type QueryParams, type SearchLimits, searchQueryOf } from '../query/request.ts';
import { parseTime, TimeError } from '../query/time.ts';
import type { SearchQuery, SortKey } from '../query/types.ts';
import type { LogStore } from '../store/store.ts';
import { hitView } from './bounded-page.ts';
import { TailSlots } from './tail-slots.ts';

const PAGE = 500;
const HEARTBEAT_MS = 15_000;
/** Ids remembered to drop repeats; a tail this busy is better served by search. */
const MAX_SEEN = 200_000;
/** Lines with times a little in the future (clock skew between nodes) still reach the tail. */
const FUTURE_MS = 5 * 60_000;

function compare(a: SortKey, b: SortKey): number {
  return a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** The filter of a tail for a principal, without its time range (the tail moves that itself). */
function baseQuery(params: QueryParams, principal: Principal, limits: SearchLimits): SearchQuery {
  return searchQueryOf(
    { ...params, from: undefined, to: undefined, cursor: undefined, histogram: undefined },
    principal,
    limits,
  );
}

/** Where the tail starts: `from` (at most `maxFrom` back), else after `Last-Event-ID`, else now. */
function startOf(params: QueryParams, resume: SortKey | undefined, maxFrom: number, now: number): number {
  const oldest = now - maxFrom;
  if (typeof params.from !== 'string') return Math.max(resume?.[0] ?? now, oldest);
  let from: number;
  try {
    from = parseTime(params.from, now);
  } catch (err) {
    if (err instanceof TimeError) throw new HttpError(400, err.message);
    throw err;
  }
  if (from < oldest) {
    throw new HttpError(
      400,
      `a live tail reaches back at most ${seconds(maxFrom)} (collector.tail.maxFrom); search older lines instead`,
    );
  }
  return from;
}

/**
 * `GET /api/logs/tail`: Server-Sent Events of the lines matching a filter, from
 * `from` (default now) on. Each poll asks for everything since the last
 * `lookback` of event time, oldest first, and drops ids already sent: a line
 * that arrives late (a sidecar catching up, an index refresh) is still sent,
 * and none is sent twice. `Last-Event-ID` resumes after a reconnect.
 *
 * Tails are few (per token and in all), end after a lifetime, and check their
 * token again at every poll: a reload that removes the token ends the tail, one
 * that changes its namespaces re-scopes it (or ends it when what it asked for
 * is no longer allowed). Each end is an `end` event with the reason.
 */
export function registerTail(
  app: FastifyInstance,
  store: LogStore,
  settings: () => { limits: SearchLimits; tail: CollectorConfig['tail'] },
): void {
  const slots = new TailSlots();
  const summary =
    'Server-Sent Events of new lines matching q and filters, from ?from= (at most tail.maxFrom back)';
  app.get('/api/logs/tail', { config: { role: 'viewer', summary } }, async (request, reply) => {
    const { limits, tail } = settings();
    const params = request.query as QueryParams;
    let principal = request.principal;
    let base = baseQuery(params, principal, limits);
    const resume = lastEventId(request);
    const started = Date.now();
    const from = startOf(params, resume, tail.maxFrom, started);
    const release = slots.take(principal.name, tail);
    try {
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
      let windowFrom = from;
      let ended: string | undefined;
      while (!closed.signal.aborted) {
        const now = Date.now();
        if (now - started >= tail.maxLifetime) {
          ended = `the tail reached its longest life of ${seconds(tail.maxLifetime)} (collector.tail.maxLifetime); reconnect to go on`;
          break;
        }
        const current = request.reauthorize();
        if (!current) {
          ended = 'the token of this tail was removed or lost its role';
          break;
        }
        if (JSON.stringify(current.namespaces) !== JSON.stringify(principal.namespaces)) {
          try {
            base = baseQuery(params, current, limits);
          } catch (err) {
            ended = `the token may no longer read what this tail asked for: ${(err as Error).message}`;
            break;
          }
          principal = current;
        }
        try {
          for (const [id, time] of seen) if (time < windowFrom) seen.delete(id);
          const query: SearchQuery = {
            ...base,
            from: windowFrom,
            to: now + FUTURE_MS,
            order: 'asc',
            size: PAGE,
          };
          for (;;) {
            const page = await store.search(query, closed.signal);
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
          // The first poll reads from `from`; later ones only the late-arrival window.
          windowFrom = Math.max(from, now - tail.lookback);
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
        const left = tail.maxLifetime - (Date.now() - started);
        await sleep(Math.max(0, Math.min(tail.interval, left)), closed.signal).catch(() => {});
      }
      if (ended) out.write(`event: end\ndata: ${JSON.stringify({ reason: ended })}\n\n`);
      out.end();
    } finally {
      release();
    }
  });
}

function lastEventId(request: FastifyRequest): SortKey | undefined {
  const header = request.headers['last-event-id'];
  if (typeof header !== 'string' || header === '') return undefined;
  return decodeCursor(header);
}
