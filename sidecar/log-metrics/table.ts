import type { LogMetricsConfig } from './config.ts';

// The series of one metric, each a plain number that the pipeline adds to and
// /metrics reads.

const OTHER = 'other';
export const SEPARATOR = '\u0000';

/** The container a file belongs to; its series go when none of its files has been open for a while. */
export interface Identity {
  readonly key: string;
  readonly labels: readonly string[];
  lastSeen: number;
  expired: boolean;
}

/** The owner of the all-`other` series, which never expires. */
const NO_IDENTITY: Identity = { key: '', labels: [], lastSeen: 0, expired: false };

export interface Series {
  readonly identity: Identity;
  readonly labels: readonly string[];
  count: number;
  /** A label value was replaced by `other` (too many values, or too long). */
  readonly replaced: boolean;
}

/** One exported series: its labels by name and its value. */
export interface LogSeries {
  labels: Record<string, string>;
  value: number;
}

export type Limits = Pick<LogMetricsConfig, 'maxSeries' | 'maxLabelValues' | 'maxLabelValueLength'>;

/** The values one label of one metric has taken: the first `maxLabelValues`, then `other`. */
class LabelValues {
  private readonly seen = new Set<string>();
  private readonly limits: Limits;

  constructor(limits: Limits) {
    this.limits = limits;
  }

  /** The value to export, or undefined past a limit (the value then counts as `other`). */
  admit(value: string): string | undefined {
    if (value.length > this.limits.maxLabelValueLength) return undefined;
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.limits.maxLabelValues) return undefined;
    this.seen.add(value);
    return value;
  }
}

/** The series of one metric. */
export class CounterTable {
  readonly name: string;
  readonly help: string;
  /** Identity labels first, then the metric's own. */
  readonly labelNames: readonly string[];
  private readonly values: LabelValues[];
  private readonly series = new Map<string, Series>();
  private readonly maxSeries: number;
  private other: Series | undefined;
  /** Events of expired series that had a label replaced. */
  private retiredReplaced = 0;

  constructor(name: string, help: string, own: readonly string[], limits: Limits) {
    this.name = name;
    this.help = help;
    this.labelNames = ['namespace', 'pod', 'container', ...own];
    this.values = own.map(() => new LabelValues(limits));
    this.maxSeries = limits.maxSeries;
  }

  /** The series of an identity and the metric's own label values, within the limits. */
  resolve(identity: Identity, raw: readonly string[]): Series {
    let replaced = false;
    const labels = raw.map((value, i) => {
      const admitted = this.values[i]!.admit(value);
      if (admitted === undefined) replaced = true;
      return admitted ?? OTHER;
    });
    const key = identity.key + SEPARATOR + labels.join(SEPARATOR);
    let series = this.series.get(key);
    if (series) return series;
    if (this.series.size >= this.maxSeries) {
      this.other ??= {
        identity: NO_IDENTITY,
        labels: this.labelNames.map(() => OTHER),
        count: 0,
        replaced: false,
      };
      return this.other;
    }
    series = { identity, labels: [...identity.labels, ...labels], count: 0, replaced };
    this.series.set(key, series);
    return series;
  }

  drop(identity: Identity): void {
    for (const [key, series] of this.series) {
      if (series.identity !== identity) continue;
      if (series.replaced) this.retiredReplaced += series.count;
      this.series.delete(key);
    }
  }

  *exported(): Iterable<LogSeries> {
    const all = this.other ? [...this.series.values(), this.other] : this.series.values();
    for (const series of all) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, i) => {
        labels[name] = series.labels[i]!;
      });
      yield { labels, value: series.count };
    }
  }

  /** Events counted with a label value replaced by `other`, and in the all-`other` series. */
  overflow(): { value: number; series: number } {
    let value = this.retiredReplaced;
    for (const series of this.series.values()) if (series.replaced) value += series.count;
    return { value, series: this.other?.count ?? 0 };
  }
}
