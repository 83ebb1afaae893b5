import { exportedName } from '../../core/metrics.ts';
import { OWNED_FIELDS } from '../../core/record/log-record.ts';
import { SIDECAR_METRICS } from '../metrics.ts';
import { find, keys } from '../parse/parsers.ts';
import type { LogEvent, SourceFields } from '../types.ts';
import type { LogCounterConfig, LogMetricsConfig } from './config.ts';
import { CounterTable, type Identity, type LogSeries, SEPARATOR, type Series } from './table.ts';

// Counting sits on the sidecar's hot path: an event adds one to a plain
// number found through a per-file cache, and prom-client sees the numbers only
// when /metrics is scraped. Labels are capped per label and per metric.

/** Raw label values a file remembers the series of; beyond, lookups go to the metric's table. */
const FILE_CACHE = 256;
/** Levels a file counts without a lookup: the six canonical ones, none, and one more. */
const LEVEL_CACHE = 8;

/** Reads a field of an event: its level, its message, or a parsed field. */
type Getter = (event: LogEvent) => unknown;

/** A field of the file's source (Kubernetes fields, host, service, static fields) is the same for every event. */
type Field = { static: true; value: unknown } | { static: false; get: Getter };

function field(path: string, source: SourceFields): Field {
  if (path === 'log.level') return { static: false, get: (event) => event.level };
  if (path === 'message') return { static: false, get: (event) => event.message };
  const key = keys([path]);
  const root = path.split('.')[0]!;
  // What the sidecar sets wins over a parsed field of the same name in the record, so here too.
  if (OWNED_FIELDS.includes(root) || Object.hasOwn(source, root))
    return { static: true, value: find(source, key) };
  return { static: false, get: (event) => (event.fields ? find(event.fields, key) : undefined) };
}

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];

/** A label value: the field's text (numbers and booleans written out), or its HTTP status class; '' when absent. */
function labelValue(value: unknown, map: 'value' | 'class'): string {
  if (map === 'class') {
    const code = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
    return Number.isInteger(code) && code >= 100 && code <= 599
      ? STATUS_CLASSES[Math.floor(code / 100) - 1]!
      : '';
  }
  if (typeof value === 'string') return value;
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

/** A filter condition ready to test: `values` and `pattern` when given. */
interface Test {
  values: readonly string[] | undefined;
  pattern: RegExp | undefined;
}

function holds(test: Test, value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (!test.values && !test.pattern) return true;
  if (typeof value === 'object') return false;
  const text = String(value);
  return (!test.values || test.values.includes(text)) && (!test.pattern || test.pattern.test(text));
}

/** Series of one table as one file sees them: its identity, and the series of values it met. */
class FileSeries {
  private readonly table: CounterTable;
  private readonly owner: FileLogMetrics;
  private cache = new Map<string, Series>();
  private identity: Identity | undefined;

  constructor(table: CounterTable, owner: FileLogMetrics) {
    this.table = table;
    this.owner = owner;
  }

  get(key: string, raw: readonly string[]): Series {
    const identity = this.owner.identity;
    if (identity !== this.identity) {
      this.identity = identity;
      this.cache = new Map();
    }
    let series = this.cache.get(key);
    if (series === undefined) {
      series = this.table.resolve(identity, raw);
      if (this.cache.size < FILE_CACHE) this.cache.set(key, series);
    }
    return series;
  }
}

/** A configured counter as one file counts it: conditions and labels of the source already decided. */
class FileCounter {
  private readonly series: FileSeries;
  private readonly conditions: ((event: LogEvent) => boolean)[] = [];
  private readonly labels: ((event: LogEvent) => string)[] = [];
  private readonly raw: string[];

  private constructor(series: FileSeries, width: number) {
    this.series = series;
    this.raw = new Array<string>(width).fill('');
  }

  /** Undefined when the file's source fails the filter: none of its events counts. */
  static make(config: LogCounterConfig, table: CounterTable, owner: FileLogMetrics, source: SourceFields) {
    const labels = Object.values(config.labels);
    const counter = new FileCounter(new FileSeries(table, owner), labels.length);
    for (const condition of config.filter) {
      const f = field(condition.field, source);
      const test: Test = {
        values: condition.values,
        pattern: condition.pattern === undefined ? undefined : new RegExp(condition.pattern),
      };
      if (f.static) {
        if (!holds(test, f.value)) return undefined;
      } else counter.conditions.push((event) => holds(test, f.get(event)));
    }
    for (const label of labels) {
      const f = field(label.field, source);
      if (f.static) {
        const value = labelValue(f.value, label.map);
        counter.labels.push(() => value);
      } else counter.labels.push((event) => labelValue(f.get(event), label.map));
    }
    return counter;
  }

  count(event: LogEvent): void {
    for (const condition of this.conditions) if (!condition(event)) return;
    const raw = this.raw;
    let key = '';
    for (let i = 0; i < this.labels.length; i++) {
      const value = this.labels[i]!(event);
      raw[i] = value;
      key = i === 0 ? value : key + SEPARATOR + value;
    }
    this.series.get(key, raw).count++;
  }
}

/** The log metrics of one file: its level counts and the configured counters its source passes. */
export class FileLogMetrics {
  identity: Identity;
  private readonly metrics: LogMetrics;
  private readonly identityLabels: readonly string[];
  private readonly levels: FileSeries | undefined;
  private readonly counters: FileCounter[] = [];
  /** The levels met most (a file has a handful): a short scan by identity beats hashing the string. */
  private readonly levelNames: string[] = [];
  private readonly levelSeries: Series[] = [];

  constructor(
    metrics: LogMetrics,
    source: SourceFields,
    tables: { levels?: CounterTable; counters: CounterTable[] },
  ) {
    this.metrics = metrics;
    const kubernetes = (source.kubernetes ?? {}) as {
      namespace?: unknown;
      pod?: { name?: unknown };
      container?: { name?: unknown };
    };
    this.identityLabels = [kubernetes.namespace, kubernetes.pod?.name, kubernetes.container?.name].map((v) =>
      typeof v === 'string' ? v : '',
    );
    this.identity = metrics.identity(this.identityLabels);
    if (tables.levels) this.levels = new FileSeries(tables.levels, this);
    metrics.config.counters.forEach((config, i) => {
      const counter = FileCounter.make(config, tables.counters[i]!, this, source);
      if (counter) this.counters.push(counter);
    });
  }

  /** Whether anything is counted for this file at all. */
  get counting(): boolean {
    return this.levels !== undefined || this.counters.length > 0;
  }

  count(event: LogEvent): void {
    if (this.identity.expired) this.renew();
    if (this.levels) {
      const level = event.level ?? '';
      const names = this.levelNames;
      let i = 0;
      while (i < names.length && names[i] !== level) i++;
      if (i < names.length) this.levelSeries[i]!.count++;
      else this.countLevel(this.levels, level);
    }
    const counters = this.counters;
    for (let i = 0; i < counters.length; i++) counters[i]!.count(event);
  }

  private countLevel(levels: FileSeries, level: string): void {
    const series = levels.get(level, [level]);
    series.count++;
    if (this.levelNames.length >= LEVEL_CACHE) return;
    this.levelNames.push(level);
    this.levelSeries.push(series);
  }

  /** The file is still open: its container's series stay. */
  alive(now: number): void {
    if (this.identity.expired) this.renew();
    this.identity.lastSeen = now;
  }

  /** The identity expired while this file was busy elsewhere (a long wait for the queue): take it up again. */
  private renew(): void {
    this.identity = this.metrics.identity(this.identityLabels);
    this.levelNames.length = 0;
    this.levelSeries.length = 0;
  }
}

/**
 * Log-derived counters of one sidecar: events per container and level, and the
 * counters the configuration defines.
 */
export class LogMetrics {
  readonly config: LogMetricsConfig;
  readonly levels: CounterTable | undefined;
  readonly counters: CounterTable[];
  private readonly identities = new Map<string, Identity>();
  private readonly now: () => number;

  constructor(config: LogMetricsConfig, now: () => number = Date.now) {
    this.config = config;
    this.now = now;
    this.levels = config.levels
      ? new CounterTable(
          exportedName(SIDECAR_METRICS.logEvents),
          SIDECAR_METRICS.logEvents.help,
          ['level'],
          config,
        )
      : undefined;
    this.counters = config.counters.map(
      (c) => new CounterTable(c.name, c.help, Object.keys(c.labels), config),
    );
  }

  /** What one file counts; undefined when it counts nothing, so the pipeline pays nothing. */
  forFile(source: SourceFields): FileLogMetrics | undefined {
    const file = new FileLogMetrics(this, source, { levels: this.levels, counters: this.counters });
    return file.counting ? file : undefined;
  }

  identity(labels: readonly string[]): Identity {
    const key = labels.join(SEPARATOR);
    let identity = this.identities.get(key);
    if (!identity) {
      identity = { key, labels, lastSeen: this.now(), expired: false };
      this.identities.set(key, identity);
    }
    return identity;
  }

  /** Drops the series of containers none of whose files has been open for `expireAfter`. */
  expire(): void {
    const before = this.now() - this.config.expireAfter;
    for (const [key, identity] of this.identities) {
      if (identity.lastSeen >= before) continue;
      identity.expired = true;
      this.identities.delete(key);
      this.levels?.drop(identity);
      for (const table of this.counters) table.drop(identity);
    }
  }

  /** Per metric, the events counted with a label replaced by `other` (`value`) or in the all-`other` series (`series`). */
  *overflow(): Iterable<LogSeries> {
    for (const table of this.levels ? [this.levels, ...this.counters] : this.counters) {
      const { value, series } = table.overflow();
      yield { labels: { metric: table.name, reason: 'value' }, value };
      yield { labels: { metric: table.name, reason: 'series' }, value: series };
    }
  }
}
