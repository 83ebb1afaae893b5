import type { Dashboard, Panel, RowPanel, VariableModel } from '@grafana/schema';

/**
 * Grafana's dashboard schema version these boards are written in (the
 * default of @grafana/schema's Dashboard); Grafana migrates older ones on
 * load, not newer ones.
 */
export const SCHEMA_VERSION = 42;

/**
 * Every panel and query names the dashboard's `datasource` variable: file
 * provisioning has no import step that could resolve `${DS_PROMETHEUS}`.
 */
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;

export interface Query {
  expr: string;
  legend?: string;
}

export interface PanelSpec {
  title: string;
  description: string;
  /** A Grafana unit id (`bytes`, `s`, `cps`, `percentunit`, ...). */
  unit: string;
  queries: Query[];
  /** Grid columns of 24; 8 unless given. */
  width?: number;
  min?: number;
  max?: number;
  /** Colours of values: the base colour, then [from value, colour] steps; green throughout unless given. */
  thresholds?: [string, ...[number, string][]];
  /** Texts for values, such as 0 → "down". */
  valueTexts?: Record<string, string>;
}

type Built = Omit<Panel, 'gridPos' | 'id'> & { type: string };

function fieldConfig(spec: PanelSpec): NonNullable<Panel['fieldConfig']> {
  const [base, ...from] = spec.thresholds ?? ['green'];
  const steps = [{ color: base, value: null }, ...from.map(([value, color]) => ({ color, value }))];
  return {
    defaults: {
      unit: spec.unit,
      ...(spec.min !== undefined && { min: spec.min }),
      ...(spec.max !== undefined && { max: spec.max }),
      thresholds: { mode: 'absolute', steps },
      ...(spec.valueTexts && {
        mappings: [
          {
            type: 'value',
            options: Object.fromEntries(
              Object.entries(spec.valueTexts).map(([value, text], index) => [value, { text, index }]),
            ),
          },
        ],
      }),
    },
    overrides: [],
  } as NonNullable<Panel['fieldConfig']>;
}

function targets(queries: Query[], instant: boolean): Record<string, unknown>[] {
  return queries.map((query, i) => ({
    refId: String.fromCharCode(65 + i),
    datasource: DATASOURCE,
    editorMode: 'code',
    expr: query.expr,
    legendFormat: query.legend ?? '__auto',
    range: !instant,
    instant,
  }));
}

/** A graph over time of range queries. */
export function timeseries(spec: PanelSpec): Built & { width: number } {
  return {
    type: 'timeseries',
    title: spec.title,
    description: spec.description,
    datasource: DATASOURCE,
    fieldConfig: fieldConfig(spec),
    options: {
      legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
    targets: targets(spec.queries, false),
    width: spec.width ?? 8,
  };
}

/** The latest value of instant queries, one tile per series. */
export function stat(spec: PanelSpec): Built & { width: number } {
  return {
    type: 'stat',
    title: spec.title,
    description: spec.description,
    datasource: DATASOURCE,
    fieldConfig: fieldConfig(spec),
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'value',
      graphMode: 'none',
      textMode: 'auto',
    },
    targets: targets(spec.queries, true),
    width: spec.width ?? 8,
  };
}

const PANEL_HEIGHT = 8;

/** Rows of panels, laid out left to right and numbered from 1 in order. */
function layout(sections: Section[]): (Panel | RowPanel)[] {
  const panels: (Panel | RowPanel)[] = [];
  let id = 0;
  let y = 0;
  for (const section of sections) {
    panels.push({
      type: 'row',
      id: ++id,
      title: section.title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      panels: [],
    });
    y += 1;
    let x = 0;
    for (const { width, ...panel } of section.panels) {
      if (x + width > 24) {
        x = 0;
        y += PANEL_HEIGHT;
      }
      panels.push({ ...panel, id: ++id, gridPos: { h: PANEL_HEIGHT, w: width, x, y } });
      x += width;
    }
    y += PANEL_HEIGHT;
  }
  return panels;
}

export interface Section {
  title: string;
  panels: (Built & { width: number })[];
}

/** The data source picker every board starts with: any Prometheus-compatible data source. */
const datasourceVariable: VariableModel = {
  type: 'datasource',
  name: 'datasource',
  label: 'Data source',
  query: 'prometheus',
  hide: 0,
  refresh: 1,
  regex: '',
  includeAll: false,
  multi: false,
  options: [],
};

/**
 * A multi-value variable from `label_values(<series>, <label>)`, All by
 * default; All is `.*`, which also matches series without the label (a
 * Prometheus that does not add `namespace` still shows everything).
 */
export function labelVariable(name: string, label: string, query: string): VariableModel {
  return {
    type: 'query',
    name,
    label,
    datasource: DATASOURCE,
    query,
    current: { text: 'All', value: '$__all' },
    includeAll: true,
    allValue: '.*',
    multi: true,
    refresh: 2,
    regex: '',
    sort: 1,
    hide: 0,
    options: [],
  };
}

export interface BoardSpec {
  uid: string;
  title: string;
  description: string;
  variables: VariableModel[];
  sections: Section[];
}

export function board(spec: BoardSpec): Dashboard {
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['lookout'],
    schemaVersion: SCHEMA_VERSION,
    editable: true,
    graphTooltip: 1,
    refresh: '30s',
    time: { from: 'now-3h', to: 'now' },
    timezone: 'browser',
    links: [
      {
        title: 'Lookout dashboards',
        type: 'dashboards',
        tags: ['lookout'],
        asDropdown: true,
        includeVars: false,
        keepTime: true,
        icon: 'external link',
        targetBlank: false,
        tooltip: '',
      },
    ],
    templating: { list: [datasourceVariable, ...spec.variables] },
    annotations: { list: [] },
    panels: layout(spec.sections),
  };
}

/** `rate(<series>[$__rate_interval])`, summed by the labels given. */
export function rate(series: string, by: string[] = []): string {
  return `sum${by.length ? ` by (${by.join(', ')})` : ''} (rate(${series}[$__rate_interval]))`;
}

/** A quantile of a Lookout histogram over the rate interval. */
export function quantile(q: number, histogram: string, selector: string): string {
  return `histogram_quantile(${q}, sum by (le) (rate(${histogram}_bucket{${selector}}[$__rate_interval])))`;
}
