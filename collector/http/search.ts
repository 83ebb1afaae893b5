import type { FastifyInstance } from 'fastify';
import { HttpError } from '../../core/auth.ts';
import { encodeCursor, type QueryParams, type SearchLimits, searchQueryOf } from '../query/request.ts';
import type { LogHit, LogStore } from '../store/store.ts';

const MAX_CONTEXT_LINES = 1_000;

/** A hit as the API returns it: its id, its cursor, and the document. */
export function hitView(hit: LogHit) {
  return { id: hit.id, cursor: encodeCursor(hit.sort), doc: hit.doc };
}

function count(value: string | undefined, name: string, fallback: number): number {
  const n = Number(value ?? fallback);
  if (!Number.isInteger(n) || n < 0 || n > MAX_CONTEXT_LINES) {
    throw new HttpError(400, `${name} must be a whole number from 0 to ${MAX_CONTEXT_LINES}`);
  }
  return n;
}

/** `GET /api/logs/search` and `GET /api/logs/context/:id`. */
export function registerSearch(app: FastifyInstance, store: LogStore, limits: SearchLimits): void {
  app.get('/api/logs/search', { config: { role: 'viewer' } }, async (request) => {
    const query = searchQueryOf(request.query as QueryParams, request.principal, limits);
    const result = await store.search(query);
    return {
      hits: result.hits.map(hitView),
      total: result.total,
      next: result.next && encodeCursor(result.next),
      histogram: result.histogram,
    };
  });

  app.get('/api/logs/context/:id', { config: { role: 'viewer' } }, async (request) => {
    const { id } = request.params as { id: string };
    const params = request.query as Record<string, string | undefined>;
    const result = await store.context({
      id,
      before: count(params.before, 'before', 20),
      after: count(params.after, 'after', 20),
      namespaces: request.principal.namespaces,
    });
    if (!result) throw new HttpError(404, `no line with id "${id}" that this token may read`);
    return {
      lines: [
        ...result.before.map(hitView),
        { ...hitView(result.anchor), anchor: true },
        ...result.after.map(hitView),
      ],
    };
  });
}
