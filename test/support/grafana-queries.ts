import type { Dashboard, Panel, RowPanel } from '@grafana/schema';
import { prometheusApi } from './prometheus-api.ts';

/** One query of a panel, as the dashboard JSON has it. */
export interface PanelQuery {
  panel: string;
  refId: string;
  expr: string;
  instant: boolean;
}

export function panelQueries(dashboard: Dashboard): PanelQuery[] {
  const panels = (dashboard.panels ?? []).flatMap((p: Panel | RowPanel) =>
    p.type === 'row' ? (p as RowPanel).panels : [p as Panel],
  );
  return panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({
      panel: panel.title ?? '',
      refId: String(target.refId),
      expr: String(target.expr),
      instant: target.instant === true,
    })),
  );
}

/** The time range a dashboard is looked at over, and the scrape interval Grafana's data source is set to. */
export interface GrafanaRange {
  fromMs: number;
  toMs: number;
  scrapeSeconds: number;
}

/** What Grafana puts in for its interval variables (Prometheus data source, about 1000 points a graph). */
export function intervals(range: GrafanaRange) {
  const rangeSeconds = Math.round((range.toMs - range.fromMs) / 1000);
  const interval = Math.max(range.scrapeSeconds, Math.ceil(rangeSeconds / 1000));
  const rateInterval = Math.max(interval + range.scrapeSeconds, 4 * range.scrapeSeconds);
  return { interval, rateInterval, rangeSeconds };
}

/** Grafana's escaping of a multi-value variable's values for a Prometheus regex matcher. */
function regexEscape(value: string): string {
  return value.replace(/[\\^$*+?.()|{}[\]]/g, '\\\\$&');
}

/** Replaces the dashboard's variables and Grafana's interval variables as Grafana does for Prometheus. */
export function interpolate(expr: string, values: Record<string, string>, range: GrafanaRange): string {
  const { interval, rateInterval, rangeSeconds } = intervals(range);
  const builtIn: Record<string, string> = {
    __rate_interval: `${rateInterval}s`,
    __interval: `${interval}s`,
    __range: `${rangeSeconds}s`,
  };
  return expr.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => {
    const value = builtIn[name] ?? values[name];
    if (value === undefined) throw new Error(`unknown variable ${whole} in ${expr}`);
    return value;
  });
}

/**
 * Each query variable set to every value Prometheus lists for it (in
 * dashboard order, so a variable sees those before it), as Grafana writes a
 * selection of several values: real label values rather than All's `.*`, so
 * a query must match the labels the series really have.
 */
export async function variableValues(
  prometheusUrl: string,
  dashboard: Dashboard,
  range: GrafanaRange,
): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const [, selector, label] = /^label_values\((.+), (\w+)\)$/.exec(String(variable.query)) ?? [];
    if (!selector || !label)
      throw new Error(`${variable.name}: not label_values(series, label): ${variable.query}`);
    const params = new URLSearchParams({
      'match[]': interpolate(selector, values, range),
      start: String(range.fromMs / 1000),
      end: String(range.toMs / 1000),
    });
    const found = await prometheusApi<string[]>(prometheusUrl, `/api/v1/label/${label}/values?${params}`);
    if (found.length === 0) throw new Error(`$${variable.name}: no value for ${variable.query}`);
    const escaped = found.map(regexEscape);
    values[variable.name] = escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
  }
  return values;
}

interface QueryAnswer {
  resultType: string;
  result: unknown[];
}

/** Runs a panel query as Grafana does (a range query, or an instant one at the end); returns its series count. */
export async function seriesCount(
  prometheusUrl: string,
  expr: string,
  instant: boolean,
  range: GrafanaRange,
): Promise<number> {
  const params = new URLSearchParams({ query: expr });
  if (instant) params.set('time', String(range.toMs / 1000));
  else {
    params.set('start', String(range.fromMs / 1000));
    params.set('end', String(range.toMs / 1000));
    params.set('step', String(intervals(range).interval));
  }
  const answer = await prometheusApi<QueryAnswer>(
    prometheusUrl,
    `/api/v1/${instant ? 'query' : 'query_range'}?${params}`,
  );
  return answer.result.length;
}
