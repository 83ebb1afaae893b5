import type { FastifyInstance } from 'fastify';
import { HttpError } from '../../core/auth.ts';
import type { CollectorConfig } from '../config.ts';
import { facetQuery, facetsOf, groupByOf, type QueryParams, searchQueryOf } from '../query/request.ts';
import type { FacetResult, LogStore } from '../store/store.ts';
import { boundedContext, boundedPage } from './bounded-page.ts';

const MAX_CONTEXT_LINES = 1_000;

function count(value: string | undefined, name: string, fallback: number): number {
  const n = Number(value ?? fallback);
  if (!Number.isInteger(n) || n < 0 || n > MAX_CONTEXT_LINES) {
    throw new HttpError(400, `${name} must be a whole number from 0 to ${MAX_CONTEXT_LINES}`);
  }
  return n;
}

/** `GET /api/logs/search` and `GET /api/logs/context/:id`. */
export function registerSearch(
  app: FastifyInstance,
  store: LogStore,
  settings: () => CollectorConfig['search'],
): void {
  const summary = 'log lines matching q, filters and a time range, newest first; next pages with cursor';
  app.get('/api/logs/search', { config: { role: 'viewer', summary } }, async (request, reply) => {
    const limits = settings();
    const query = searchQueryOf(request.query as QueryParams, request.principal, limits);
    const json = await boundedPage(store, query, limits.maxPageBytes);
    return reply.type('application/json; charset=utf-8').send(json);
  });

  const facets =
    'the most frequent values of fields among the matching lines (?field=namespace&field=level&top=20)';
  app.get('/api/logs/facets', { config: { role: 'viewer', summary: facets } }, async (request) => {
    const params = request.query as QueryParams;
    const query = searchQueryOf(params, request.principal, settings());
    const { fields, top } = facetsOf(params);
    const answer: Record<string, FacetResult> = {};
    for (const { name, field } of fields) {
      answer[name] = await store.facet(facetQuery(query, field, request.principal), field, top);
    }
    return { facets: answer };
  });

  const counts =
    'how many lines match, in all and per group of field values (?groupBy=namespace&groupBy=pod)';
  app.get('/api/logs/count', { config: { role: 'viewer', summary: counts } }, async (request) => {
    const params = request.query as QueryParams;
    const limits = settings();
    const query = searchQueryOf(params, request.principal, limits);
    const { fields, maxGroups } = groupByOf(params, limits.maxCountGroups);
    const result = await store.count(
      query,
      fields.map((f) => f.field),
      maxGroups,
    );
    return {
      total: result.total,
      groups: result.groups.map((group) => ({
        key: Object.fromEntries(fields.map((f, i) => [f.name, group.values[i]])),
        count: group.count,
      })),
      truncated: result.truncated,
    };
  });

  const around = 'the lines written before and after one line (?before=20&after=20)';
  app.get(
    '/api/logs/context/:id',
    { config: { role: 'viewer', summary: around } },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const params = request.query as Record<string, string | undefined>;
      const result = await store.context({
        id,
        before: count(params.before, 'before', 20),
        after: count(params.after, 'after', 20),
        namespaces: request.principal.namespaces,
      });
      if (!result) throw new HttpError(404, `no line with id "${id}" that this token may read`);
      return reply
        .type('application/json; charset=utf-8')
        .send(boundedContext(result, settings().maxPageBytes));
    },
  );
}
