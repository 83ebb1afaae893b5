import type { FastifyInstance } from 'fastify';
import type { RecommendationView } from '../capacity/capacity.ts';
import type { alertsData, rulesData } from '../rules/api-shapes.ts';

export interface RulesApiSources {
  /** undefined until the rules are loaded. */
  alerts(): ReturnType<typeof alertsData> | undefined;
  rules(): ReturnType<typeof rulesData> | undefined;
  recommendations(): RecommendationView[];
}

/**
 * The rules' state in the shape of Prometheus's `/api/v1/alerts` and
 * `/api/v1/rules` (a `status` and a `data`), so tools written for Prometheus
 * read it unchanged.
 */
export function registerRulesApi(app: FastifyInstance, sources: RulesApiSources): void {
  app.get(
    '/api/alerts',
    { config: { role: 'viewer', summary: 'active alerts, as Prometheus /api/v1/alerts' } },
    async () => ({ status: 'success', data: sources.alerts() ?? { alerts: [] } }),
  );
  app.get(
    '/api/rules',
    { config: { role: 'viewer', summary: 'rule groups and their state, as Prometheus /api/v1/rules' } },
    async () => ({ status: 'success', data: sources.rules() ?? { groups: [] } }),
  );
  app.get(
    '/api/recommendations',
    { config: { role: 'viewer', summary: 'replicas recommended per workload' } },
    async () => ({ recommendations: sources.recommendations() }),
  );
}
