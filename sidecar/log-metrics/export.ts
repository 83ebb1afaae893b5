import type { Metrics } from '../../core/metrics.ts';
import { Counter } from '../../core/prom-client.ts';
import { SIDECAR_METRICS } from '../metrics.ts';
import type { LogMetrics } from './counters.ts';
import type { LogSeries } from './table.ts';

function fill(counter: Counter<string>, series: Iterable<LogSeries> | undefined): void {
  counter.reset();
  for (const { labels, value } of series ?? []) counter.inc(labels, value);
}

/**
 * Hands the log metrics' counts to prom-client when /metrics is scraped, and
 * only then. A reload brings new counts (the counters start again from zero,
 * which Prometheus reads as a reset); configured counters it no longer has
 * stop being exported.
 */
export class LogMetricsExport {
  private readonly metrics: Metrics;
  private current: LogMetrics | undefined;
  /** The configured counters in the registry, with the help and label names they were made with. */
  private readonly configured = new Map<string, string>();

  constructor(metrics: Metrics) {
    this.metrics = metrics;
    const current = () => this.current;
    metrics.counter(SIDECAR_METRICS.logEvents, function () {
      const logMetrics = current();
      logMetrics?.expire();
      fill(this, logMetrics?.levels?.exported());
    });
    metrics.counter(SIDECAR_METRICS.logMetricOverflow, function () {
      fill(this, current()?.overflow());
    });
  }

  /** Exports `logMetrics` from now on; throws when a configured name is already another metric of this process. */
  use(logMetrics: LogMetrics): void {
    const { registry } = this.metrics;
    const wanted = new Map(logMetrics.counters.map((table) => [table.name, table]));
    const shape = (table: { help: string; labelNames: readonly string[] }) =>
      `${table.help}\n${table.labelNames}`;
    for (const [name, made] of this.configured) {
      const table = wanted.get(name);
      if (table && made === shape(table)) continue;
      registry.removeSingleMetric(name);
      this.configured.delete(name);
    }
    for (const [name, table] of wanted) {
      if (this.configured.has(name)) continue;
      if (registry.getSingleMetric(name)) {
        throw new Error(
          `sidecar.metrics.counters: ${name} is already a metric of this process; choose another name`,
        );
      }
      const current = () => this.current;
      new Counter({
        name,
        help: table.help,
        labelNames: [...table.labelNames],
        registers: [registry],
        collect() {
          const logMetrics = current();
          logMetrics?.expire();
          fill(this, logMetrics?.counters.find((t) => t.name === name)?.exported());
        },
      });
      this.configured.set(name, shape(table));
    }
    this.current = logMetrics;
  }
}
