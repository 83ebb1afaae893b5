import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

const PREFIX = 'lookout_';

function named(name: string): string {
  return name.startsWith(PREFIX) ? name : PREFIX + name;
}

/**
 * One registry per process. Default Node.js metrics keep their standard names
 * (process_*, nodejs_*) so stock dashboards work; every Lookout metric is
 * prefixed `lookout_`. Asking twice for the same name returns the same metric,
 * so services started again on reload do not collide.
 */
export class Metrics {
  readonly registry = new Registry();

  constructor(options: { defaults?: boolean } = {}) {
    if (options.defaults !== false) collectDefaultMetrics({ register: this.registry });
  }

  private existing<T>(name: string): T | undefined {
    return this.registry.getSingleMetric(name) as T | undefined;
  }

  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    const full = named(name);
    return (
      this.existing<Counter<L>>(full) ??
      new Counter({ name: full, help, labelNames: [...labelNames], registers: [this.registry] })
    );
  }

  gauge<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    collect?: (this: Gauge<L>) => void | Promise<void>,
  ): Gauge<L> {
    const full = named(name);
    return (
      this.existing<Gauge<L>>(full) ??
      new Gauge({ name: full, help, labelNames: [...labelNames], registers: [this.registry], collect })
    );
  }

  histogram<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    buckets?: number[],
  ): Histogram<L> {
    const full = named(name);
    return (
      this.existing<Histogram<L>>(full) ??
      new Histogram({
        name: full,
        help,
        labelNames: [...labelNames],
        ...(buckets && { buckets }),
        registers: [this.registry],
      })
    );
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
