import type { FastifyInstance } from 'fastify';
import { HttpError } from '../../core/auth.ts';
import type { Probes } from '../probes/probes.ts';

/**
 * The probes' API: targets listed, created, changed and deleted (an
 * editor's token; those of the configuration file are read-only), their
 * results and uptime, and `/probe`, answering as blackbox_exporter's does,
 * so a Prometheus scrape configuration written for blackbox works unchanged.
 */
export function registerProbesApi(app: FastifyInstance, probes: () => Probes, maxBodyBytes: number): void {
  const id = (request: { params: unknown }) => (request.params as { id: string }).id;
  app.get(
    '/api/probes',
    { config: { role: 'viewer', summary: 'probe targets and their state' } },
    async () => ({
      probes: probes().list(),
      modules: probes().moduleNames(),
    }),
  );
  app.post(
    '/api/probes',
    { bodyLimit: maxBodyBytes, config: { role: 'editor', summary: 'create a probe target' } },
    async (request, reply) => reply.code(201).send(await probes().create(request.body)),
  );
  app.get('/api/probes/:id', { config: { role: 'viewer', summary: 'one probe target' } }, async (request) =>
    probes().get(id(request)),
  );
  app.put(
    '/api/probes/:id',
    {
      bodyLimit: maxBodyBytes,
      config: { role: 'editor', summary: 'replace a probe target created through the API' },
    },
    async (request) => probes().replace(id(request), request.body),
  );
  app.delete(
    '/api/probes/:id',
    { config: { role: 'editor', summary: 'delete a probe target created through the API' } },
    async (request, reply) => {
      await probes().remove(id(request));
      return reply.code(204).send();
    },
  );
  app.get(
    '/api/probes/:id/results',
    { config: { role: 'viewer', summary: 'recent results and uptime over 24h, 7d and 30d' } },
    async (request) => probes().results(id(request)),
  );
  app.get(
    '/probe',
    { config: { role: 'viewer', summary: "one probe now, answered as blackbox_exporter's /probe" } },
    async (request, reply) => {
      const { target, module } = request.query as { target?: unknown; module?: unknown };
      if (typeof target !== 'string' || target === '')
        throw new HttpError(400, 'Target parameter is missing');
      const name = typeof module === 'string' && module !== '' ? module : 'http_2xx';
      const aborted = new AbortController();
      // 'close' follows every answer too; aborting then would only cost an AbortError and its stack.
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) aborted.abort();
      });
      const text = await probes().probeOnce(target, name, aborted.signal);
      return reply.type('text/plain; version=0.0.4; charset=utf-8').send(text);
    },
  );
}
