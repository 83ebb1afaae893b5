import type { FastifyInstance } from 'fastify';
import { HttpError } from '../core/auth.ts';
import type { Readiness } from '../core/http-server.ts';
import { type CounterDefinition, exportedName, type GaugeDefinition, type Metrics } from '../core/metrics.ts';
import type { RobotStatus } from '../notify/robot.ts';

/** A measure's series shown at most (Kafka partitions, rule groups, agents' locations): the answer stays small. */
export const MAX_SERIES_PER_METRIC = 50;

export interface StatusComponent {
  name: string;
  /** Its section of the configuration file, which runs it under `lookout all`. */
  section: string;
  running: boolean;
  doc: string;
  /** The gauges and counters that tell whether it keeps up: queues, lag, sinks and readers up, lines taken. */
  metrics: readonly (GaugeDefinition | CounterDefinition)[];
}

export interface StatusSources {
  components: StatusComponent[];
  readiness: Readiness;
  metrics: Metrics;
  /** Undefined when no component of the process sends to chat robots. */
  robots?: () => { sending: boolean; robots: RobotStatus[] };
}

interface MetricJson {
  name: string;
  help: string;
  series: { labels: Partial<Record<string, string | number>>; value: number }[];
  /** Series left out past MAX_SERIES_PER_METRIC. */
  more?: number;
}

async function metricJson(
  metrics: Metrics,
  definition: GaugeDefinition | CounterDefinition,
): Promise<MetricJson | undefined> {
  const name = exportedName(definition);
  const metric = metrics.registry.getSingleMetric(name);
  // Created when the component first uses it: one that has not yet has nothing to say.
  if (!metric) return undefined;
  const { help, values } = await metric.get();
  const series = values.slice(0, MAX_SERIES_PER_METRIC).map(({ labels, value }) => ({ labels, value }));
  const more = values.length - series.length;
  return { name, help, series, ...(more > 0 && { more }) };
}

async function componentJson(component: StatusComponent, metrics: Metrics) {
  const { name, section, running, doc } = component;
  if (!running)
    return {
      name,
      running,
      doc,
      enable: `add a "${section}" section to the configuration and start lookout all (see ${doc})`,
    };
  const shown = await Promise.all(component.metrics.map((m) => metricJson(metrics, m)));
  return { name, running, doc, metrics: shown.filter((m) => m !== undefined) };
}

/**
 * What `GET /api/status` answers: which components this process runs (and
 * how to enable the others), its readiness checks, each running component's
 * metrics, and the chat robots' queues and latest refusals. `titles` false
 * leaves the refused messages' titles out, which may name any namespace.
 */
export async function pipelineStatus(sources: StatusSources, titles: boolean) {
  const [readiness, components] = await Promise.all([
    sources.readiness.evaluate(),
    Promise.all(sources.components.map((c) => componentJson(c, sources.metrics))),
  ]);
  const robots = sources.robots?.();
  return {
    ready: readiness.ready,
    checks: readiness.checks,
    components,
    robots: robots
      ? {
          sending: robots.sending,
          robots: robots.robots.map((robot) => ({
            ...robot,
            refusals: titles ? robot.refusals : robot.refusals.map(({ title: _, ...untitled }) => untitled),
          })),
        }
      : null,
  };
}

export function registerStatusApi(app: FastifyInstance, sources: StatusSources): void {
  app.get(
    '/api/status',
    { config: { role: 'viewer', summary: 'the components this process runs, their queues, lag and robots' } },
    async (request) => {
      const names = Object.keys(request.query as object);
      if (names.length > 0)
        throw new HttpError(400, `GET /api/status takes no parameters, got ${names.join(', ')}`);
      return pipelineStatus(sources, request.principal.namespaces === undefined);
    },
  );
}
