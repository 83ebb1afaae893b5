import type { FastifyInstance } from 'fastify';
import type { RecommendationView } from '../capacity/capacity.ts';
import type { alertsData, rulesData } from '../rules/api-shapes.ts';
import { alertGroups, alertGroupsQuery, type GroupingSources } from './alert-groups.ts';

export interface RulesApiSources extends GroupingSources {
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
    async () => {
      const alerts = (sources.alerts()?.alerts ?? []).map((alert) => {
        const { silencedBy, inhibitedBy } = sources.mutedBy(sources.sentLabels(alert.labels));
        // Alertmanager's status, beside Prometheus's fields: a silenced alert stays listed with what mutes it.
        const state = silencedBy.length + inhibitedBy.length > 0 ? 'suppressed' : 'active';
        return { ...alert, status: { state, silencedBy, inhibitedBy } };
      });
      return { status: 'success', data: { alerts } };
    },
  );
  app.get(
    '/api/alerts/groups',
    {
      config: {
        role: 'viewer',
        summary:
          'active alerts grouped as the routing groups them, with what silences or inhibits each (?filter=matchers&state=firing|pending&silenced=&inhibited=&limit=)',
      },
    },
    async (request) => {
      const query = alertGroupsQuery(request.query as Record<string, string | string[] | undefined>);
      return alertGroups(sources.alerts()?.alerts ?? [], sources, query);
    },
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
