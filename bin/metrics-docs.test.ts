import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CAPACITY_METRICS } from '../alert-rules/capacity/metrics.ts';
import { DISPATCH_METRICS } from '../alert-rules/dispatch/metrics.ts';
import { SILENCE_METRICS } from '../alert-rules/dispatch/silences-metrics.ts';
import { ALERT_RULES_METRICS } from '../alert-rules/metrics.ts';
import { PROBE_AGENT_METRICS, PROBE_SCHEDULER_METRICS } from '../alert-rules/probes/metrics.ts';
import { COLLECTOR_METRICS } from '../collector/metrics.ts';
import { exportedName, type MetricCatalogue } from '../core/metrics.ts';
import { SHARED_METRICS } from '../core/shared-metrics.ts';
import { EVENT_ROUTER_METRICS } from '../event-router/metrics.ts';
import { NOTIFY_METRICS } from '../notify/metrics.ts';
import { SIDECAR_METRICS } from '../sidecar/metrics.ts';

/** Each section of docs/metrics.md and the catalogue its table documents. */
const SECTIONS: Record<string, MetricCatalogue> = {
  Shared: SHARED_METRICS,
  Sidecar: SIDECAR_METRICS,
  Collector: COLLECTOR_METRICS,
  'Event router': EVENT_ROUTER_METRICS,
  'Chat robots (notify)': NOTIFY_METRICS,
  'Alert rules': ALERT_RULES_METRICS,
  Silences: SILENCE_METRICS,
  'Capacity recommendations': CAPACITY_METRICS,
  'Alert dispatch': DISPATCH_METRICS,
  Probes: PROBE_SCHEDULER_METRICS,
  'Probe agents': PROBE_AGENT_METRICS,
};

interface Row {
  name: string;
  type: string;
  labels: string[];
}

function cells(line: string): string[] {
  return line
    .split('|')
    .slice(1, -1)
    .map((cell) => cell.trim());
}

function quoted(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');
}

/** The metric rows of each `##` section's table. */
function documented(markdown: string): Record<string, Row[]> {
  const sections: Record<string, Row[]> = {};
  let rows: Row[] | undefined;
  for (const line of markdown.split('\n')) {
    const heading = /^## (.+)$/.exec(line);
    if (heading?.[1]) {
      rows = [];
      sections[heading[1]] = rows;
      continue;
    }
    if (!line.startsWith('| `')) continue;
    const [metric = '', type = '', labels = ''] = cells(line);
    rows?.push({ name: quoted(metric)[0] ?? metric, type, labels: quoted(labels).sort() });
  }
  return sections;
}

function declared(catalogue: MetricCatalogue): Row[] {
  return Object.values(catalogue).map((d) => ({
    name: exportedName(d),
    type: d.type,
    labels: [...(d.labels ?? [])].sort(),
  }));
}

const byName = (a: Row, b: Row) => a.name.localeCompare(b.name);

describe('docs/metrics.md', () => {
  const docs = documented(readFileSync(join(import.meta.dirname, '..', 'docs', 'metrics.md'), 'utf8'));

  it('has one table for each component and nothing else', () => {
    expect(Object.keys(docs).sort()).toEqual(Object.keys(SECTIONS).sort());
  });

  for (const [section, catalogue] of Object.entries(SECTIONS)) {
    it(`lists exactly the metrics ${section} declares, with their type and labels`, () => {
      expect([...(docs[section] ?? [])].sort(byName)).toEqual(declared(catalogue).sort(byName));
    });
  }

  it('names every metric once', () => {
    const names = Object.values(SECTIONS).flatMap((c) => declared(c).map((r) => r.name));
    expect(new Set(names).size).toBe(names.length);
  });
});
