import type { Dashboard } from '@grafana/schema';
import { alerts } from './alerts.ts';
import { eventRouter } from './event-router.ts';
import { pipeline } from './pipeline.ts';
import { probes } from './probes.ts';

/** Each board under the name of its JSON file in dashboards/grafana/. */
export const BOARDS: Record<string, Dashboard> = {
  'lookout-pipeline.json': pipeline,
  'lookout-event-router.json': eventRouter,
  'lookout-alerts.json': alerts,
  'lookout-probes.json': probes,
};
