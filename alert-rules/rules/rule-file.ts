import YAML, { LineCounter } from 'yaml';
import { describeValue as describe, yamlDocumentValue } from '../../core/config.ts';
import { FIELD_NAME, SHORT_FIELDS } from '../../core/log-query/fields.ts';
import { parseTextQuery } from '../../core/log-query/text-query.ts';
import { parsePrometheusDuration } from '../duration.ts';
import {
  type Labels,
  LOG_RULE_TYPES,
  type LogRuleSpec,
  type LogRuleType,
  type RuleGroupSpec,
  type RuleSpec,
} from '../types.ts';
import { isLabelName, isMetricName, METRIC_NAME_LABEL } from './names.ts';
import { promqlError } from './promql-check.ts';

/** Parse check of one template: the reason it does not parse, or undefined. */
export type TemplateChecker = (name: string, text: string) => string | undefined;

/** Where operators configure the remote-write target that recording rules need. */
export const REMOTE_WRITE_SETTING = 'alertRules.remoteWrite';

export interface RuleFileOptions {
  /** Whether recording rules' results have somewhere to go; without it a recording rule is refused. */
  remoteWrite: boolean;
  /** Checks the label and annotation templates of alerting rules; without one they are not checked at load. */
  checkTemplate?: TemplateChecker;
  /**
   * Whether log rules have a log search to query; without it a log group is refused. With
   * `namespaces`, the namespaces its token may read: a log rule over any other is refused.
   */
  logs?: { namespaces?: readonly string[] };
}

/** Where operators configure the log search that log rules query. */
export const LOGS_SETTING = 'alertRules.logs';

/** One reason a rule file is refused, with where it is. */
export interface RuleFileProblem {
  file: string;
  line?: number;
  group?: string;
  /** 1-based, as Prometheus counts; name is the alert or record name, '' when there is none. */
  rule?: { index: number; name: string };
  message: string;
}

export function formatRuleFileProblem(problem: RuleFileProblem): string {
  let where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}`;
  if (problem.group !== undefined) where += `: group ${JSON.stringify(problem.group)}`;
  if (problem.rule) {
    where += `, rule ${problem.rule.index}`;
    if (problem.rule.name) where += ` (${JSON.stringify(problem.rule.name)})`;
  }
  return `${where}: ${problem.message}`;
}

export interface ParsedRuleFile {
  groups: RuleGroupSpec[];
  problems: RuleFileProblem[];
}

type Path = readonly (string | number)[];
type Where = Pick<RuleFileProblem, 'group' | 'rule'>;
type Fields = Record<string, unknown>;

const FILE_KEYS = ['groups'];
const RESOURCE_KEYS = ['apiVersion', 'kind', 'metadata', 'spec'];
const RESOURCE_API_VERSION = 'monitoring.coreos.com/v1';
const RESOURCE_KIND = 'PrometheusRule';
const GROUP_KEYS = ['name', 'interval', 'query_offset', 'limit', 'labels', 'rules'];
/** prometheus-operator passes this Thanos setting through; Prometheus itself has no use for it. */
const RESOURCE_GROUP_KEYS = [...GROUP_KEYS, 'partial_response_strategy'];
const RULE_KEYS = ['record', 'alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations'];
/** The one group kind Prometheus does not have: its rules are log rules. */
const LOG_GROUP_KIND = 'logs';
const LOG_RULE_KEYS = [
  'alert',
  'type',
  'query',
  'total',
  'namespaces',
  'window',
  'above',
  'below',
  'min_count',
  'group_by',
  'max_alerts',
  'for',
  'keep_firing_for',
  'labels',
  'annotations',
];
const DEFAULT_MAX_ALERTS = 10;
/** Which of `above` and `below` each log rule type takes: one of them, or neither. */
const THRESHOLDS: Record<LogRuleType, readonly ('above' | 'below')[]> = {
  count: ['above', 'below'],
  ratio: ['above', 'below'],
  spike: ['above'],
  flatline: [],
  any: [],
};

/**
 * Reads one rule file as Prometheus does: a `groups:` document, or a
 * PrometheusRule resource; a file may hold several documents. Every problem
 * is reported, not only the first; groups are returned only for a file
 * without problems.
 */
export function parseRuleFile(file: string, text: string, options: RuleFileOptions): ParsedRuleFile {
  const lineCounter = new LineCounter();
  const reader = new RuleFileReader(file, lineCounter, options);
  for (const doc of YAML.parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: true })) {
    reader.readDocument(doc);
  }
  reader.requireRemoteWrite();
  return reader.problems.length > 0
    ? { groups: [], problems: reader.problems }
    : { groups: reader.groups, problems: [] };
}

class RuleFileReader {
  readonly groups: RuleGroupSpec[] = [];
  readonly problems: RuleFileProblem[] = [];
  private readonly groupNames = new Set<string>();
  private doc: YAML.Document.Parsed | undefined;
  private firstRecordingRule: Pick<RuleFileProblem, 'line' | 'group' | 'rule'> | undefined;
  private recordingRules = 0;

  private readonly file: string;
  private readonly lineCounter: LineCounter;
  private readonly options: RuleFileOptions;

  constructor(file: string, lineCounter: LineCounter, options: RuleFileOptions) {
    this.file = file;
    this.lineCounter = lineCounter;
    this.options = options;
  }

  readDocument(doc: YAML.Document.Parsed): void {
    this.doc = doc;
    const parsed = yamlDocumentValue(doc);
    if (!parsed.ok) {
      for (const error of parsed.errors)
        this.problems.push({ file: this.file, message: `${error.path}: ${error.message}` });
      return;
    }
    const value = parsed.value;
    if (value === null || value === undefined) return;
    if (!isFields(value)) {
      this.report([], {}, `expected a map with "groups", got ${describe(value)}`);
      return;
    }
    if (value.kind === undefined && value.apiVersion === undefined) {
      this.checkKeys(value, FILE_KEYS, [], {});
      this.readGroups(value.groups, ['groups'], GROUP_KEYS);
      return;
    }
    if (value.apiVersion !== RESOURCE_API_VERSION || value.kind !== RESOURCE_KIND) {
      this.report(
        [],
        {},
        `a Kubernetes resource here must be apiVersion ${RESOURCE_API_VERSION}, kind ${RESOURCE_KIND}; got ${String(value.apiVersion)}, ${String(value.kind)}`,
      );
      return;
    }
    this.checkKeys(value, RESOURCE_KEYS, [], {});
    const spec = this.fields(value.spec, ['spec'], {}, 'spec');
    if (!spec) return;
    this.checkKeys(spec, FILE_KEYS, ['spec'], {});
    this.readGroups(spec.groups, ['spec', 'groups'], RESOURCE_GROUP_KEYS);
  }

  requireRemoteWrite(): void {
    if (this.options.remoteWrite || !this.firstRecordingRule) return;
    const subject =
      this.recordingRules === 1
        ? 'this recording rule needs'
        : `${this.recordingRules} recording rules (this is the first) need`;
    this.problems.push({
      file: this.file,
      ...this.firstRecordingRule,
      message: `${subject} a remote-write target to store results in, and none is configured: configure remote write for alert-rules (${REMOTE_WRITE_SETTING}) or remove the recording rules`,
    });
  }

  private readGroups(value: unknown, path: Path, allowedKeys: readonly string[]): void {
    for (const [index, group] of this.list(value, path, {}, 'groups').entries()) {
      const spec = this.readGroup(group, [...path, index], index, allowedKeys);
      if (spec) this.groups.push(spec);
    }
  }

  private readGroup(
    value: unknown,
    path: Path,
    index: number,
    allowedKeys: readonly string[],
  ): RuleGroupSpec | undefined {
    const fields = this.fields(value, path, {}, `group ${index + 1}`);
    if (!fields) return undefined;
    const name = this.string(fields.name, [...path, 'name'], {}, 'name') ?? '';
    const where: Where = { group: name };
    const logs = fields.kind === LOG_GROUP_KIND;
    if (fields.kind !== undefined && !logs) {
      this.report(
        [...path, 'kind'],
        where,
        `unknown group kind ${JSON.stringify(fields.kind)}: a group is a Prometheus group (no kind) or "${LOG_GROUP_KIND}"`,
      );
    }
    if (logs && !this.options.logs) {
      this.report(
        [...path, 'kind'],
        where,
        `log rules need a log search to query, and none is configured: configure it (${LOGS_SETTING}) or remove the group`,
      );
    }
    this.checkKeys(fields, fields.kind === undefined ? allowedKeys : [...allowedKeys, 'kind'], path, where);
    if (name === '') this.report(path, where, 'group name must not be empty');
    else if (this.groupNames.has(name)) this.report(path, where, 'group name is repeated in the same file');
    this.groupNames.add(name);
    const interval = this.duration(fields.interval, [...path, 'interval'], where, 'interval');
    const limit = this.integer(fields.limit, [...path, 'limit'], where, 'limit');
    const rules = this.list(fields.rules, [...path, 'rules'], where, 'rules').map((rule, i) => {
      const at: Path = [...path, 'rules', i];
      const ruleWhere = { group: name, rule: { index: i + 1, name: '' } };
      return logs ? this.readLogRule(rule, at, ruleWhere) : this.readRule(rule, at, ruleWhere);
    });
    return {
      file: this.file,
      name,
      // Prometheus takes a zero interval for "the global one".
      intervalMs: interval || undefined,
      // Prometheus treats a negative limit as no limit.
      limit: Math.max(0, limit ?? 0),
      queryOffsetMs: this.duration(fields.query_offset, [...path, 'query_offset'], where, 'query_offset'),
      labels: this.labels(fields.labels, [...path, 'labels'], where, 'labels'),
      rules: rules.filter((rule) => rule !== undefined),
    };
  }

  private readRule(
    value: unknown,
    path: Path,
    where: Where & { rule: { index: number; name: string } },
  ): RuleSpec | undefined {
    const fields = this.fields(value, path, where, 'rule');
    if (!fields) return undefined;
    const alert = this.string(fields.alert, [...path, 'alert'], where, 'alert') ?? '';
    const record = this.string(fields.record, [...path, 'record'], where, 'record') ?? '';
    where.rule.name = alert || record;
    this.checkKeys(fields, RULE_KEYS, path, where);
    if (alert && record) this.report(path, where, "only one of 'record' and 'alert' may be set");
    if (!alert && !record) this.report(path, where, "one of 'record' or 'alert' must be set");
    const expr = this.expr(fields.expr, [...path, 'expr'], where);
    const forMs = this.duration(fields.for, [...path, 'for'], where, 'for') ?? 0;
    const keepFiringForMs =
      this.duration(fields.keep_firing_for, [...path, 'keep_firing_for'], where, 'keep_firing_for') ?? 0;
    const labels = this.labels(fields.labels, [...path, 'labels'], where, 'labels');
    const annotations = this.stringMap(fields.annotations, [...path, 'annotations'], where, 'annotations');
    for (const name of Object.keys(annotations)) {
      if (!isLabelName(name))
        this.report(
          [...path, 'annotations', name],
          where,
          `invalid annotation name: ${JSON.stringify(name)}`,
        );
    }
    if (record) {
      if (Object.keys(annotations).length > 0)
        this.report(path, where, "invalid field 'annotations' in recording rule");
      if (forMs !== 0) this.report(path, where, "invalid field 'for' in recording rule");
      if (keepFiringForMs !== 0)
        this.report(path, where, "invalid field 'keep_firing_for' in recording rule");
      if (!isMetricName(record)) {
        const hint = /[{}]/.test(record) ? ' (braces belong in expr)' : '';
        this.report(
          [...path, 'record'],
          where,
          `invalid recording rule name: ${JSON.stringify(record)}${hint}`,
        );
      }
      if (alert) return undefined;
      this.recordingRules++;
      this.firstRecordingRule ??= { line: this.lineOf(path), group: where.group, rule: { ...where.rule } };
      return { kind: 'recording', record, expr, labels };
    }
    this.checkTemplates(alert, labels, 'label', [...path, 'labels'], where);
    this.checkTemplates(alert, annotations, 'annotation', [...path, 'annotations'], where);
    return { kind: 'alerting', alert, expr, forMs, keepFiringForMs, labels, annotations };
  }

  private readLogRule(
    value: unknown,
    path: Path,
    where: Where & { rule: { index: number; name: string } },
  ): LogRuleSpec | undefined {
    const fields = this.fields(value, path, where, 'rule');
    if (!fields) return undefined;
    const alert = this.string(fields.alert, [...path, 'alert'], where, 'alert') ?? '';
    where.rule.name = alert;
    this.checkKeys(fields, LOG_RULE_KEYS, path, where);
    if (!alert) this.report(path, where, "field 'alert' must be set in a log rule");
    const type = this.string(fields.type, [...path, 'type'], where, 'type') ?? '';
    if (!(LOG_RULE_TYPES as readonly string[]).includes(type)) {
      this.report(
        [...path, 'type'],
        where,
        `unknown log rule type ${JSON.stringify(type)}: one of ${LOG_RULE_TYPES.join(', ')}`,
      );
      return undefined;
    }
    const logType = type as LogRuleType;
    const query = this.logQuery(fields.query, [...path, 'query'], where, 'query');
    const total = this.logQuery(fields.total, [...path, 'total'], where, 'total');
    if ((logType === 'ratio') !== (fields.total !== undefined)) {
      const message =
        logType === 'ratio'
          ? "a ratio needs 'total', the search it is a ratio of"
          : `a ${logType} rule has no 'total'`;
      this.report(path, where, message);
    }
    const windowMs = this.duration(fields.window, [...path, 'window'], where, 'window') ?? 0;
    if (windowMs <= 0) this.report(path, where, "field 'window' must be set to a duration above 0");
    const thresholds = this.thresholds(fields, logType, path, where);
    const minCount = this.integer(fields.min_count, [...path, 'min_count'], where, 'min_count') ?? 1;
    const maxAlerts =
      this.integer(fields.max_alerts, [...path, 'max_alerts'], where, 'max_alerts') ?? DEFAULT_MAX_ALERTS;
    if (fields.min_count !== undefined && logType !== 'spike')
      this.report(path, where, "only a spike has 'min_count'");
    if (fields.max_alerts !== undefined && logType !== 'any')
      this.report(path, where, "only an any rule has 'max_alerts'");
    if (maxAlerts < 1) this.report([...path, 'max_alerts'], where, 'max_alerts must be at least 1');
    const namespaces = this.strings(fields.namespaces, [...path, 'namespaces'], where, 'namespaces');
    this.checkNamespaces(namespaces, [...path, 'namespaces'], where);
    const groupBy = this.strings(fields.group_by, [...path, 'group_by'], where, 'group_by');
    for (const name of groupBy) {
      if (!FIELD_NAME.test(SHORT_FIELDS[name] ?? name))
        this.report([...path, 'group_by'], where, `group_by: ${JSON.stringify(name)} is not a field name`);
    }
    const labels = this.labels(fields.labels, [...path, 'labels'], where, 'labels');
    const annotations = this.stringMap(fields.annotations, [...path, 'annotations'], where, 'annotations');
    this.checkTemplates(alert, labels, 'label', [...path, 'labels'], where);
    this.checkTemplates(alert, annotations, 'annotation', [...path, 'annotations'], where);
    return {
      kind: 'log',
      alert,
      type: logType,
      query,
      ...(fields.total !== undefined ? { total } : {}),
      namespaces,
      windowMs,
      ...thresholds,
      minCount,
      groupBy,
      maxAlerts,
      forMs: this.duration(fields.for, [...path, 'for'], where, 'for') ?? 0,
      keepFiringForMs:
        this.duration(fields.keep_firing_for, [...path, 'keep_firing_for'], where, 'keep_firing_for') ?? 0,
      labels,
      annotations,
    };
  }

  /** A log search, checked with the search API's own parser so a broken one is a load error. */
  private logQuery(value: unknown, path: Path, where: Where, field: string): string {
    const text = this.string(value, path, where, field) ?? '';
    try {
      parseTextQuery(text);
    } catch (err) {
      this.report(path, where, `${field}: ${(err as Error).message}`);
    }
    return text;
  }

  private thresholds(
    fields: Fields,
    type: LogRuleType,
    path: Path,
    where: Where,
  ): { above?: number; below?: number } {
    const allowed = THRESHOLDS[type];
    const out: { above?: number; below?: number } = {};
    for (const name of ['above', 'below'] as const) {
      if (fields[name] === undefined) continue;
      if (!allowed.includes(name)) this.report([...path, name], where, `a ${type} rule has no '${name}'`);
      else if (typeof fields[name] !== 'number' || !Number.isFinite(fields[name]))
        this.report([...path, name], where, `${name}: expected a number, got ${describe(fields[name])}`);
      else out[name] = fields[name];
    }
    const set = Object.keys(out).length;
    if (allowed.length > 0 && set !== 1)
      this.report(
        path,
        where,
        `a ${type} rule needs exactly one of ${allowed.map((a) => `'${a}'`).join(' and ')}`,
      );
    return out;
  }

  /** Namespaces the log search's token may not read are refused here, when they are known at load. */
  private checkNamespaces(namespaces: string[], path: Path, where: Where): void {
    const allowed = this.options.logs?.namespaces;
    if (!allowed) return;
    const forbidden = namespaces.filter((ns) => !allowed.includes(ns));
    if (forbidden.length > 0)
      this.report(path, where, `the log search's token may not read namespace(s): ${forbidden.join(', ')}`);
  }

  private strings(value: unknown, path: Path, where: Where, field: string): string[] {
    return this.list(value, path, where, field).flatMap((item, i) => {
      const text = this.string(item, [...path, i], where, `${field}[${i}]`);
      return text ? [text] : [];
    });
  }

  private expr(value: unknown, path: Path, where: Where): string {
    const expr = this.string(value, path, where, 'expr') ?? '';
    if (expr === '') {
      this.report(path, where, "field 'expr' must be set in rule");
      return expr;
    }
    const error = promqlError(expr);
    if (error) this.report(path, where, `expr: ${error}`);
    return expr;
  }

  private checkTemplates(alert: string, texts: Labels, kind: string, path: Path, where: Where): void {
    const check = this.options.checkTemplate;
    if (!check) return;
    for (const [name, text] of Object.entries(texts)) {
      const error = check(`__alert_${alert}`, text);
      if (error) this.report([...path, name], where, `${kind} ${JSON.stringify(name)}: ${error}`);
    }
  }

  private labels(value: unknown, path: Path, where: Where, field: string): Labels {
    const labels = this.stringMap(value, path, where, field);
    for (const name of Object.keys(labels)) {
      if (!isLabelName(name) || name === METRIC_NAME_LABEL) {
        this.report([...path, name], where, `invalid label name: ${JSON.stringify(name)}`);
      }
    }
    return labels;
  }

  private stringMap(value: unknown, path: Path, where: Where, field: string): Labels {
    if (value === null || value === undefined) return {};
    const fields = this.fields(value, path, where, field);
    const out: Labels = {};
    for (const [key, item] of Object.entries(fields ?? {})) {
      out[key] = this.string(item, [...path, key], where, `${field}.${key}`) ?? '';
    }
    return out;
  }

  /** A text field; like Prometheus's YAML decoder, a plain number or boolean counts as its text. */
  private string(value: unknown, path: Path, where: Where, field: string): string | undefined {
    if (value === null || value === undefined) return undefined;
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean')
      return this.scalarSource(path) ?? String(value);
    this.report(path, where, `${field}: expected a string, got ${describe(value)}`);
    return undefined;
  }

  private duration(value: unknown, path: Path, where: Where, field: string): number | undefined {
    const text = this.string(value, path, where, field);
    if (text === undefined) return undefined;
    try {
      return parsePrometheusDuration(text);
    } catch (err) {
      this.report(path, where, `${field}: ${(err as Error).message}`);
      return undefined;
    }
  }

  private integer(value: unknown, path: Path, where: Where, field: string): number | undefined {
    if (value === null || value === undefined) return undefined;
    if (Number.isSafeInteger(value)) return value as number;
    this.report(path, where, `${field}: expected an integer, got ${describe(value)}`);
    return undefined;
  }

  private list(value: unknown, path: Path, where: Where, field: string): unknown[] {
    if (value === null || value === undefined) return [];
    if (Array.isArray(value)) return value;
    this.report(path, where, `${field}: expected a list, got ${describe(value)}`);
    return [];
  }

  private fields(value: unknown, path: Path, where: Where, what: string): Fields | undefined {
    if (isFields(value)) return value;
    this.report(path, where, `${what}: expected a map, got ${describe(value)}`);
    return undefined;
  }

  private checkKeys(fields: Fields, allowed: readonly string[], path: Path, where: Where): void {
    for (const key of Object.keys(fields)) {
      if (!allowed.includes(key)) this.report([...path, key], where, `unknown field ${JSON.stringify(key)}`);
    }
  }

  private report(path: Path, where: Where, message: string): void {
    this.problems.push({
      file: this.file,
      line: this.lineOf(path),
      ...where,
      rule: where.rule && { ...where.rule },
      message,
    });
  }

  /** The line of the deepest node on the path that exists in the document (aliases are not followed). */
  private lineOf(path: Path): number | undefined {
    for (let depth = path.length; depth >= 0; depth--) {
      const offset = this.offsetOf(path.slice(0, depth));
      if (offset !== undefined) return this.lineCounter.linePos(offset).line;
    }
    return undefined;
  }

  /** Where a node starts; for a map entry, where its key does, which is where a reader looks. */
  private offsetOf(path: Path): number | undefined {
    if (path.length === 0) return this.doc?.contents?.range?.[0];
    const parent = this.doc?.getIn(path.slice(0, -1), true);
    const last = path.at(-1);
    if (YAML.isMap(parent)) {
      const pair = parent.items.find(
        (item) => YAML.isScalar(item.key) && String(item.key.value) === String(last),
      );
      return YAML.isNode(pair?.key) ? pair.key.range?.[0] : undefined;
    }
    if (YAML.isSeq(parent) && typeof last === 'number') {
      const item = parent.items[last];
      return YAML.isNode(item) ? item.range?.[0] : undefined;
    }
    return undefined;
  }

  /** The text a plain scalar was written as (`1.50` stays `1.50`), as Prometheus's decoder reads it into a string. */
  private scalarSource(path: Path): string | undefined {
    const node = this.doc?.getIn(path, true);
    return YAML.isScalar(node) && typeof node.source === 'string' ? node.source : undefined;
  }
}

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
