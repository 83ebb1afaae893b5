/**
 * The shapes alert-rules' parts agree on: rule files become specs, specs are
 * evaluated against a query API, and the alerts that need sending go to a
 * notifier (an Alertmanager, or the built-in routing to chat robots).
 */

/** Label name → value, as Prometheus has them; a label with an empty value does not exist. */
export type Labels = Record<string, string>;

/** One element of an instant query's answer; a scalar answer is one sample without labels. */
export interface Sample {
  labels: Labels;
  value: number;
}

/** Instant queries against a Prometheus-compatible HTTP API (`/api/v1/query`). */
export interface QueryApi {
  /**
   * Evaluates `expr` at `timeMs`. Rejects on a transport error, an HTTP or
   * PromQL error, a string result, or the configured timeout.
   */
  query(expr: string, timeMs: number, signal?: AbortSignal): Promise<Sample[]>;
}

/** Samples written back to Prometheus (recording rules, capacity recommendations) through remote write. */
export interface RemoteWriter {
  write(samples: readonly TimedSample[]): Promise<void>;
}

export interface TimedSample extends Sample {
  timeMs: number;
  /**
   * A staleness marker: the series ended at `timeMs` (its value is NaN and
   * is written as Prometheus's StaleNaN), so queries stop seeing it at once
   * instead of for the lookback window.
   */
  stale?: boolean;
}

export interface AlertingRuleSpec {
  kind: 'alerting';
  alert: string;
  expr: string;
  forMs: number;
  keepFiringForMs: number;
  labels: Labels;
  annotations: Labels;
}

export interface RecordingRuleSpec {
  kind: 'recording';
  record: string;
  expr: string;
  labels: Labels;
}

export const LOG_RULE_TYPES = ['count', 'ratio', 'spike', 'flatline', 'any'] as const;
export type LogRuleType = (typeof LOG_RULE_TYPES)[number];

/**
 * An alerting rule over log lines (a group of `kind: logs`): its query is a
 * log search, counted over a window that ends at the evaluation time.
 */
export interface LogRuleSpec {
  kind: 'log';
  alert: string;
  type: LogRuleType;
  /** A log search as the collector's `q` reads it; empty: every line. The ratio's numerator. */
  query: string;
  /** The ratio's denominator search. */
  total?: string;
  /** The namespaces searched; empty: every namespace the token may read. */
  namespaces: string[];
  windowMs: number;
  /** The threshold (count, ratio) or factor over the previous window (spike) the value must pass. */
  above?: number;
  below?: number;
  /** A spike needs at least this many lines in its window. */
  minCount: number;
  /** Fields (the search filters' short names or dotted names) whose values make one alert each. */
  groupBy: string[];
  /** `any`: the lines that are alerts of their own at most; beyond it one digest alert stands for them all. */
  maxAlerts: number;
  forMs: number;
  keepFiringForMs: number;
  labels: Labels;
  annotations: Labels;
}

export type RuleSpec = AlertingRuleSpec | RecordingRuleSpec | LogRuleSpec;

export interface RuleGroupSpec {
  /** The file it came from, as given in the configuration. */
  file: string;
  name: string;
  /** undefined: the configured evaluation interval. */
  intervalMs: number | undefined;
  /** 0: no limit. */
  limit: number;
  /** undefined: the configured query offset. */
  queryOffsetMs: number | undefined;
  labels: Labels;
  rules: RuleSpec[];
}

/** An alert as Prometheus posts it to Alertmanager (`POST /api/v2/alerts`); times are RFC 3339. */
export interface PostableAlert {
  labels: Labels;
  annotations: Labels;
  startsAt: string;
  /** Firing alerts carry a time a few evaluations ahead (Prometheus's ValidUntil); resolved ones their resolve time. */
  endsAt: string;
  generatorURL: string;
}

/** Where evaluated alerts go: called after each group evaluation with the alerts that need sending. */
export interface AlertNotifier {
  send(alerts: readonly PostableAlert[]): void;
}
