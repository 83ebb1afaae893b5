import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dashboard } from '@grafana/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type GrafanaRange,
  interpolate,
  panelQueries,
  seriesCount,
  variableValues,
} from './support/grafana-queries.ts';
import { type Pipeline, startPipeline } from './support/lookout-pipeline.ts';
import { eventually } from './support/lookout-process.ts';

/**
 * The Grafana dashboards in dashboards/grafana/ against a real Prometheus
 * scraping a real pipeline: every query of every panel, its variables set to
 * values Prometheus lists and Grafana's intervals put in, parses and returns
 * at least one series.
 *
 * kube-state-metrics is not running here: the pipeline serves its series
 * for the Lookout containers (requests and limits) from a scripted exporter,
 * labelled as kube-state-metrics labels them, so what is proven for those
 * queries is that they join the processes on namespace, pod and container.
 */

const DIR = join(import.meta.dirname, '..', 'dashboards', 'grafana');
const BOARDS = [
  'lookout-pipeline.json',
  'lookout-event-router.json',
  'lookout-alerts.json',
  'lookout-probes.json',
];

let pipeline: Pipeline;
let startedAt: number;

beforeAll(async () => {
  startedAt = Date.now();
  pipeline = await startPipeline();
  pipeline.refuseNextMessages();
  await pipeline.log([
    '{"msg":"checkout started","level":"info"}',
    'a line that is not JSON',
    `{"msg":"${'long '.repeat(400)}"}`,
    '{"msg":"a field named both ways","order.id":1,"order":{"id":2}}',
  ]);
  await pipeline.event('web-0', 'BackOff');
  await pipeline.event('web-1', 'Unhealthy');
  await pipeline.silence('LookoutCollectorScraped');
}, 120_000);

afterAll(async () => {
  await pipeline?.close();
});

/** Every query of the board that fails or returns no series, with the reason. */
async function emptyQueries(dashboard: Dashboard): Promise<string[]> {
  const range: GrafanaRange = { fromMs: startedAt, toMs: Date.now(), scrapeSeconds: 1 };
  const url = pipeline.prometheus.url;
  const values = await variableValues(url, dashboard, range);
  const problems: string[] = [];
  for (const query of panelQueries(dashboard)) {
    const expr = interpolate(query.expr, values, range);
    const found = await seriesCount(url, expr, query.instant, range).catch((err: Error) => err.message);
    if (found === 0 || typeof found === 'string')
      problems.push(`${query.panel} (${query.refId}): ${found === 0 ? 'no series' : found}: ${expr}`);
  }
  return problems;
}

describe('Grafana dashboards against the real Prometheus', () => {
  for (const file of BOARDS) {
    it(`${file}: every query returns series`, async () => {
      const dashboard = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Dashboard;
      const problems = await eventually(
        () => emptyQueries(dashboard).catch((err: Error) => [err.message]),
        (found) => found.length === 0,
        `every query of ${file} to return series`,
        40_000,
        1_000,
      ).catch((err: Error) => [err.message]);
      expect(problems).toEqual([]);
    });
  }
});
