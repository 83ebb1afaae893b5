import { scrubSecrets } from '../../core/log.ts';
import { SHORT_FIELDS } from '../../core/log-query/fields.ts';
import { utf8Prefix } from '../../core/utf8.ts';
import type { Labels, LogRuleSpec } from '../types.ts';
import { AlertingRule, type AlertingRuleOptions, type RuleSample } from './alerting-rule.ts';
import type { LogCount, LogSearch, LogSearchRequest } from './log-search-client.ts';
import { searchParams } from './log-search-client.ts';
import type { RuleEvaluation } from './rule.ts';

/** How log rules reach the log search and how much of it an alert quotes. */
export interface LogRuleServices {
  search: LogSearch;
  /** The console's base URL; alerts link to its log search (`/logs?…`). */
  consoleUrl: string;
  sampleLines: number;
  sampleLineBytes: number;
  alertsWithLines: number;
}

/** Annotations every log alert gets (a rule's own annotations of the same name win). */
export const LOG_LINES_ANNOTATION = 'log_lines';
export const LOGS_URL_ANNOTATION = 'logs_url';
/** The label of an `any` rule's alert that stands for more matching lines than it may alert on one by one. */
export const DIGEST_LABEL = 'digest';

/** A count of one group: its label values (null where its lines have none) and lines. */
interface GroupCount {
  key: Record<string, string | null>;
  count: number;
}

/** A group whose value passes; `quote` when it has lines to show why (silence has none). */
interface PassingGroup {
  key: Record<string, string | null>;
  value: number;
  quote: boolean;
}

/** A label name for a field: `service.name` is `service_name`. */
const labelName = (field: string) => field.replace(/[^A-Za-z0-9_]/g, '_');

/**
 * An alerting rule whose result is a log search counted over a window ending
 * at the evaluation time, rather than a PromQL expression: each group (of
 * `group_by` values) whose value passes the threshold is a sample, and
 * Prometheus's state machine, templates, state file and sending apply as to
 * any alerting rule.
 */
export class LogAlertingRule extends AlertingRule {
  private readonly spec: LogRuleSpec;
  private readonly services: LogRuleServices;
  /** The window of the last evaluation, which alerts link to. */
  private lastWindow = { fromMs: 0, toMs: 0 };

  constructor(
    spec: LogRuleSpec,
    groupLabels: Labels,
    options: AlertingRuleOptions,
    services: LogRuleServices,
  ) {
    super(
      {
        kind: 'alerting',
        alert: spec.alert,
        expr: spec.query,
        forMs: spec.forMs,
        keepFiringForMs: spec.keepFiringForMs,
        labels: spec.labels,
        annotations: spec.annotations,
      },
      groupLabels,
      options,
    );
    this.spec = spec;
    this.services = services;
  }

  /** The log search as written: it is not PromQL. */
  override get query(): string {
    return this.expr;
  }

  /** The console's log search for the query over the last window evaluated. */
  override generatorLink(): string {
    return this.consoleLink(this.search(this.spec.query, this.lastWindow.fromMs, this.lastWindow.toMs));
  }

  protected override async samples(evaluation: RuleEvaluation): Promise<RuleSample[]> {
    const toMs = evaluation.timeMs - evaluation.queryOffsetMs;
    const fromMs = toMs - this.spec.windowMs;
    this.lastWindow = { fromMs, toMs };
    const { signal } = evaluation;
    const passing = await this.passingGroups(fromMs, toMs, signal);
    const samples: RuleSample[] = [];
    for (const [index, { key, value, quote }] of passing.entries()) {
      const search = this.search(this.spec.query, fromMs, toMs, key);
      const quoted =
        quote && index < this.services.alertsWithLines ? await this.quotedLines(search, signal) : undefined;
      samples.push({ labels: this.labelsOf(key), value, annotations: this.annotationsOf(search, quoted) });
    }
    return samples;
  }

  private async passingGroups(fromMs: number, toMs: number, signal: AbortSignal): Promise<PassingGroup[]> {
    const { type, query, windowMs } = this.spec;
    const passes = (value: number) =>
      (this.spec.above === undefined || value > this.spec.above) &&
      (this.spec.below === undefined || value < this.spec.below);
    switch (type) {
      case 'count':
        return (await this.counts(query, fromMs, toMs, signal))
          .filter((g) => passes(g.count))
          .map((g) => ({ key: g.key, value: g.count, quote: true }));
      case 'ratio': {
        const [part, whole] = await Promise.all([
          this.counts(query, fromMs, toMs, signal),
          this.counts(this.spec.total ?? '', fromMs, toMs, signal),
        ]);
        const parts = byKey(part);
        return whole
          .filter((g) => g.count > 0)
          .map((g) => ({
            key: g.key,
            value: (parts.get(keyText(g.key))?.count ?? 0) / g.count,
            quote: true,
          }))
          .filter((g) => passes(g.value));
      }
      case 'spike': {
        const [now, before] = await Promise.all([
          this.counts(query, fromMs, toMs, signal),
          this.counts(query, fromMs - windowMs, fromMs, signal),
        ]);
        const previous = byKey(before);
        // A group that logged nothing before counts as one line, so a first burst can be a spike.
        return now
          .filter((g) => g.count >= this.spec.minCount)
          .map((g) => ({
            key: g.key,
            value: g.count / Math.max(1, previous.get(keyText(g.key))?.count ?? 0),
            quote: true,
          }))
          .filter((g) => passes(g.value));
      }
      case 'flatline': {
        if (this.spec.groupBy.length === 0) {
          const [all] = await this.counts(query, fromMs, toMs, signal);
          return all!.count === 0 ? [{ key: {}, value: 0, quote: false }] : [];
        }
        // Silent groups are those that logged in the window before and not in this one.
        const [now, before] = await Promise.all([
          this.counts(query, fromMs, toMs, signal),
          this.counts(query, fromMs - windowMs, fromMs, signal),
        ]);
        const current = byKey(now);
        return before
          .filter((g) => !current.has(keyText(g.key)))
          .map((g) => ({ key: g.key, value: 0, quote: false }));
      }
      case 'any':
        return this.matches(fromMs, toMs, signal);
    }
  }

  /**
   * `any`: each matching line is a sample of its own, labelled with its id (`event_id`); more than `max_alerts`
   * lines are one digest sample counting them, so a flood is one alert, not hundreds.
   */
  private async matches(fromMs: number, toMs: number, signal: AbortSignal): Promise<PassingGroup[]> {
    const search = this.search(this.spec.query, fromMs, toMs);
    const { total } = await this.services.search.count(search, [], signal);
    if (total === 0) return [];
    if (total > this.spec.maxAlerts) return [{ key: { [DIGEST_LABEL]: 'true' }, value: total, quote: true }];
    const lines = await this.services.search.lines(search, this.spec.maxAlerts, signal);
    return lines.map((line) => ({
      key: {
        // The line's id is a field the search filters on: its link and quote are that line.
        'event.id': line.id,
        ...Object.fromEntries(this.spec.groupBy.map((field) => [field, fieldText(line.doc, field)])),
      },
      value: 1,
      quote: true,
    }));
  }

  /** Counts per group; without group_by, one group holding every line (also when there are none). */
  private async counts(
    query: string,
    fromMs: number,
    toMs: number,
    signal: AbortSignal,
  ): Promise<GroupCount[]> {
    const { groupBy } = this.spec;
    const answer: LogCount = await this.services.search.count(
      this.search(query, fromMs, toMs),
      groupBy,
      signal,
    );
    if (answer.truncated) {
      throw new Error(
        `the query has more groups of ${groupBy.join(', ')} than the log search counts at once (alertRules.logs.maxGroups): narrow it or group by fewer fields`,
      );
    }
    return groupBy.length === 0 ? [{ key: {}, count: answer.total }] : answer.groups;
  }

  private search(
    query: string,
    fromMs: number,
    toMs: number,
    key: Record<string, string | null> = {},
  ): LogSearchRequest {
    const values: Record<string, string> = {};
    for (const [field, value] of Object.entries(key)) {
      if (value !== null && field !== DIGEST_LABEL) values[field] = value;
    }
    return { query, namespaces: this.spec.namespaces, fromMs, toMs, values };
  }

  private labelsOf(key: Record<string, string | null>): Labels {
    const labels: Labels = {};
    for (const [field, value] of Object.entries(key)) if (value) labels[labelName(field)] = value;
    return labels;
  }

  private annotationsOf(search: LogSearchRequest, quoted: string | undefined): Labels {
    const annotations: Labels = { [LOGS_URL_ANNOTATION]: this.consoleLink(search) };
    if (quoted) annotations[LOG_LINES_ANNOTATION] = quoted;
    return annotations;
  }

  /** The first few matching lines, each cut to its byte bound and with secrets redacted. */
  private async quotedLines(search: LogSearchRequest, signal: AbortSignal): Promise<string | undefined> {
    const { sampleLines, sampleLineBytes } = this.services;
    if (sampleLines === 0) return undefined;
    const lines = await this.services.search.lines(search, sampleLines, signal);
    return lines
      .map((line) => {
        const message = scrubSecrets(String(line.doc.message ?? '').replace(/\s+/g, ' '));
        const cut = utf8Prefix(message, sampleLineBytes);
        return cut.length < message.length ? `${cut}…` : cut;
      })
      .join('\n');
  }

  private consoleLink(search: LogSearchRequest): string {
    return `${this.services.consoleUrl.replace(/\/+$/, '')}/logs?${searchParams(search)}`;
  }
}

const keyText = (key: Record<string, string | null>) => JSON.stringify(key);

function byKey(groups: readonly GroupCount[]): Map<string, GroupCount> {
  return new Map(groups.map((g) => [keyText(g.key), g]));
}

/** A field's value in a found document, by dotted or short name; null when it has none. */
function fieldText(doc: Record<string, unknown>, field: string): string | null {
  const path = (SHORT_FIELDS[field] ?? field).split('.');
  let value: unknown = doc;
  for (const part of path)
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  return value === undefined || value === null || typeof value === 'object' ? null : String(value);
}
