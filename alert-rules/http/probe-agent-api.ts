import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { HttpError, type Principal } from '../../core/auth.ts';
import type { Probes } from '../probes/probes.ts';
import { locationName } from '../probes/target-config.ts';

/** A strong ETag of an answer's JSON: an agent whose assignment did not change gets a 304, not the targets again. */
function etagOf(json: string): string {
  return `"${createHash('sha256').update(json).digest('base64url').slice(0, 27)}"`;
}

/** A token limited to some locations reports only for them. */
function checkLocation(principal: Principal, location: string): void {
  if (principal.locations && !principal.locations.includes(location))
    throw new HttpError(403, `token "${principal.name}" may not report for location ${location}`);
}

/**
 * What probe agents at other locations call, with a token of the `agent`
 * role: their assignment, and their results; and the agents' locations as
 * people see them.
 */
export function registerProbeAgentApi(
  app: FastifyInstance,
  probes: () => Probes,
  maxBatchBytes: number,
): void {
  const location = locationName();
  app.get(
    '/api/probe-agent/targets',
    { config: { role: 'agent', summary: "the targets a probe agent's location probes (ETag)" } },
    async (request, reply) => {
      const query = request.query as { location?: unknown };
      const parsed = location.safeParse(query.location);
      if (!parsed.success) throw new HttpError(400, 'location: expected a location name');
      checkLocation(request.principal, parsed.data);
      const json = JSON.stringify(probes().assignment(parsed.data));
      const etag = etagOf(json);
      reply.header('etag', etag);
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.type('application/json; charset=utf-8').send(json);
    },
  );
  app.post(
    '/api/probe-agent/results',
    { bodyLimit: maxBatchBytes, config: { role: 'agent', summary: "a probe agent's results" } },
    async (request) => {
      const { location: named } = (request.body ?? {}) as { location?: unknown };
      if (typeof named === 'string') checkLocation(request.principal, named);
      return probes().report(request.body);
    },
  );
  app.get(
    '/api/probe-agents',
    { config: { role: 'viewer', summary: 'probe agents by location: reporting or not, since when' } },
    async () => ({ locations: probes().agentLocations() }),
  );
}
