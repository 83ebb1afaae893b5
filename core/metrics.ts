import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from './prom-client.ts';

const PREFIX = 'lookout_';

function named(name: string): string {
  return name.startsWith(PREFIX) ? name : PREFIX + name;
}

interface Definition<L extends string> {
  /** Without the `lookout_` prefix, which every Lookout metric gets. */
  name: string;
  help: string;
  labels?: readonly L[];
}

export interface CounterDefinition<L extends string = string> extends Definition<L> {
  type: 'counter';
}

export interface GaugeDefinition<L extends string = string> extends Definition<L> {
  type: 'gauge';
}

export interface HistogramDefinition<L extends string = string> extends Definition<L> {
  type: 'histogram';
  buckets: readonly number[];
}

export type MetricDefinition = CounterDefinition | GaugeDefinition | HistogramDefinition;

/** One series of a gauge whose label names come from data, such as the labels of query results; they must be valid Prometheus label names. */
export interface GaugeSeries {
  labels: Readonly<Record<string, string>>;
  value: number;
}

/**
 * A gauge that reads all its series from a source at each scrape: their label
 * names need not be declared, and series that are gone need no deleting.
 */
class SeriesGauge extends Gauge<string> {
  source: () => Iterable<GaugeSeries> = () => [];

  override async get() {
    const metric = await super.get();
    return {
      ...metric,
      values: Array.from(this.source(), (s) => ({ labels: { ...s.labels }, value: s.value })),
    };
  }
}

/**
 * The metrics one component exports, each declared once: the code creates its
 * metrics from these definitions and docs/metrics.md is checked against them.
 */
export type MetricCatalogue = Readonly<Record<string, MetricDefinition>>;

/** The full name under which a definition is exported, prefix included. */
export function exportedName(definition: MetricDefinition): string {
  return named(definition.name);
}

/**
 * One registry per process. Default Node.js metrics keep their standard names
 * (process_*, nodejs_*) so stock dashboards work; every Lookout metric is
 * prefixed `lookout_`. Asking twice for the same name returns the same metric,
 * so services started again on reload do not collide.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly expositions = new Map<string, () => string>();

  constructor(options: { defaults?: boolean } = {}) {
    if (options.defaults !== false) collectDefaultMetrics({ register: this.registry });
  }

  private existing<T>(name: string): T | undefined {
    return this.registry.getSingleMetric(name) as T | undefined;
  }

  /** `collect` runs at each scrape, for counters whose values are kept elsewhere until then. */
  counter<L extends string = never>(
    d: CounterDefinition<L>,
    collect?: (this: Counter<L>) => void | Promise<void>,
  ): Counter<L> {
    const full = named(d.name);
    return (
      this.existing<Counter<L>>(full) ??
      new Counter({
        name: full,
        help: d.help,
        labelNames: [...(d.labels ?? [])],
        registers: [this.registry],
        collect,
      })
    );
  }

  gauge<L extends string = never>(
    d: GaugeDefinition<L>,
    collect?: (this: Gauge<L>) => void | Promise<void>,
  ): Gauge<L> {
    const full = named(d.name);
    return (
      this.existing<Gauge<L>>(full) ??
      new Gauge({
        name: full,
        help: d.help,
        labelNames: [...(d.labels ?? [])],
        registers: [this.registry],
        collect,
      })
    );
  }

  /**
   * A gauge whose series are those `source` returns when scraped; the
   * definition's labels are the ones every series has, besides any others.
   * Asking again for the same name hands the gauge the new source (a reload's).
   */
  seriesGauge(d: GaugeDefinition, source: () => Iterable<GaugeSeries>): Gauge<string> {
    const full = named(d.name);
    const gauge =
      this.existing<Gauge<string>>(full) ??
      new SeriesGauge({ name: full, help: d.help, registers: [this.registry] });
    if (!(gauge instanceof SeriesGauge)) throw new Error(`metric ${full} exists and is not a series gauge`);
    gauge.source = source;
    return gauge;
  }

  histogram<L extends string = never>(d: HistogramDefinition<L>): Histogram<L> {
    const full = named(d.name);
    return (
      this.existing<Histogram<L>>(full) ??
      new Histogram({
        name: full,
        help: d.help,
        labelNames: [...(d.labels ?? [])],
        buckets: [...d.buckets],
        registers: [this.registry],
      })
    );
  }

  /**
   * Series in another exporter's names and text format, added after Lookout's
   * own (probes show blackbox_exporter's `probe_*`, so its dashboards work);
   * the same key again replaces the source (a reload's).
   */
  exposition(key: string, source: () => string): void {
    this.expositions.set(key, source);
  }

  async text(): Promise<string> {
    const own = await this.registry.metrics();
    return [own, ...Array.from(this.expositions.values(), (source) => source())].join('');
  }
}
