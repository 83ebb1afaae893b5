import type { Labels, QueryApi } from '../types.ts';

/** What a rule's label and annotation templates see (Prometheus's alert template data). */
export interface TemplateContext {
  /** The sample's labels, metric name included, as `$labels`. */
  labels: Labels;
  externalLabels: Labels;
  externalURL: string;
  /** `$value`. */
  value: number;
  /** The evaluation time, at which the template's own queries run. */
  timeMs: number;
  query: QueryApi['query'];
}

/**
 * Expands one Go template. On a template error it resolves to the text
 * Prometheus puts in its place ("<error expanding template: …>"), so one
 * broken annotation never stops a rule.
 */
export type TemplateRenderer = (
  name: string,
  text: string,
  context: TemplateContext,
  signal?: AbortSignal,
) => Promise<string>;
