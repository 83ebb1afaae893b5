import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultDashboard, type Panel, type RowPanel } from '@grafana/schema';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BOARDS } from './src/boards.ts';
import { SCHEMA_VERSION } from './src/panels.ts';

/**
 * The dashboard JSON shipped in this folder: built from src/ (where tsc
 * checks it against @grafana/schema's Dashboard), and held to the rules a
 * provisioned Lookout board keeps.
 */

const read = (file: string) => readFileSync(join(import.meta.dirname, file), 'utf8');

/** Every metric docs/metrics.md lists, histograms with their series' suffixes. */
function documentedMetrics(): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of read('../../docs/metrics.md').matchAll(/^\| `(lookout_\w+)` *\| (\w+)/gm)) {
    const suffixes = type === 'histogram' ? ['_bucket', '_sum', '_count'] : [''];
    for (const suffix of suffixes) names.add(`${name}${suffix}`);
  }
  return names;
}

/**
 * Series from outside Lookout's catalogue: the Node.js process metrics every
 * Lookout process exports, blackbox_exporter's names of the probes' results,
 * and kube-state-metrics' container requests and limits.
 */
const EXTERNAL = new Set([
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'process_start_time_seconds',
  'probe_success',
  'probe_duration_seconds',
  'probe_http_duration_seconds',
  'probe_http_status_code',
  'probe_ssl_earliest_cert_expiry',
  'kube_pod_container_resource_requests',
  'kube_pod_container_resource_limits',
]);

const GRAFANA_VARIABLES = new Set(['__rate_interval', '__interval', '__range']);

describe('Grafana dashboards', () => {
  const metrics = documentedMetrics();

  it('writes its boards in the schema version of the Grafana it is typed against', () => {
    expect(SCHEMA_VERSION).toBe(defaultDashboard.schemaVersion);
  });

  it('has a provisioning file of a file provider', () => {
    const { apiVersion, providers } = parse(read('provisioning/lookout-dashboards.yaml'));
    expect(apiVersion).toBe(1);
    expect(providers).toMatchObject([{ type: 'file', options: { path: expect.any(String) } }]);
  });

  for (const [file, built] of Object.entries(BOARDS)) {
    describe(file, () => {
      const text = read(file);
      const dashboard = JSON.parse(text);
      const all: (Panel | RowPanel)[] = dashboard.panels;
      const panels = all.filter((p): p is Panel => p.type !== 'row');
      const variables: { name: string; type: string; query?: string }[] = dashboard.templating.list;
      const names = new Set(variables.map((v) => v.name));

      it('is what src/ builds (node dashboards/grafana/src/write.ts writes it)', () => {
        expect(dashboard).toEqual(JSON.parse(JSON.stringify(built)));
      });

      it('picks its data source with a `datasource` variable of Prometheus data sources, and never ${DS_…}', () => {
        expect(variables.filter((v) => v.type === 'datasource')).toMatchObject([
          { name: 'datasource', query: 'prometheus' },
        ]);
        expect(text).not.toContain('${DS_');
      });

      it('numbers its panels and rows each with an id of their own', () => {
        const ids = all.map((p) => p.id);
        expect(new Set(ids).size).toBe(ids.length);
      });

      it.each(panels.map((p) => [p.title, p] as const))(
        '%s: has a title, a unit and queries on ${datasource}',
        (_, panel) => {
          expect(panel.title).toBeTruthy();
          expect(panel.description).toBeTruthy();
          expect(panel.fieldConfig?.defaults.unit).toBeTruthy();
          expect(panel.datasource?.uid).toBe('${datasource}');
          expect(panel.targets?.length).toBeGreaterThan(0);
          for (const target of panel.targets ?? []) expect(target.datasource).toEqual(panel.datasource);
        },
      );

      it('queries only metrics that exist, with variables the board defines', () => {
        const queries = [
          ...panels.flatMap((p) => (p.targets ?? []).map((t) => String(t.expr))),
          ...variables.filter((v) => v.type === 'query').map((v) => String(v.query)),
        ];
        for (const query of queries) {
          for (const [name] of query.matchAll(/\b(?:lookout|process|probe|kube)_\w+/g))
            expect(metrics.has(name) || EXTERNAL.has(name), `${name} in ${query}`).toBe(true);
          for (const [, name = ''] of query.matchAll(/\$\{?(\w+)/g))
            expect(names.has(name) || GRAFANA_VARIABLES.has(name), `$${name} in ${query}`).toBe(true);
        }
      });
    });
  }
});
