import { PROBE_AGENT_METRICS, PROBE_SCHEDULER_METRICS } from '../alert-rules/probes/metrics.ts';
import { COLLECTOR_METRICS } from '../collector/metrics.ts';
import type { ComponentContext } from '../core/component.ts';
import type { HttpApp } from '../core/http.ts';
import type { Service } from '../core/lifecycle.ts';
import type { CounterDefinition, GaugeDefinition } from '../core/metrics.ts';
import { SHARED_METRICS } from '../core/shared-metrics.ts';
import { EVENT_ROUTER_METRICS } from '../event-router/metrics.ts';
import type { ChatRobots } from '../notify/chat-robots.ts';
import { SIDECAR_METRICS } from '../sidecar/metrics.ts';
import type { RootConfig, Section } from './config.ts';

/** A component as the CLI runs it: built from its section of the root configuration. */
export interface ComponentEntry {
  /** The section's key in the configuration file. */
  section: Exclude<Section, 'robots'>;
  /** Serves API routes of its own: the process then serves HTTP with Fastify rather than Node's bare server. */
  routes?: boolean;
  /** Sends to DingTalk and WeCom robots: the process then loads and validates them. */
  chat?: boolean;
  /** What the status page shows of it: where it is documented, and the measures that tell whether it keeps up. */
  status: { doc: string; metrics: readonly (GaugeDefinition | CounterDefinition)[] };
  /** Loads the component's code only when it runs: the Kubernetes client alone takes most of a second. */
  create(
    config: RootConfig,
    ctx: ComponentContext,
    chatRobots: ChatRobots | undefined,
  ): Promise<Service<RootConfig>>;
}

/** The context of a component with `routes`, which the CLI runs on the Fastify server. */
function withRoutes(ctx: ComponentContext): ComponentContext<HttpApp> {
  if (!('app' in ctx.http)) throw new Error('this component serves routes, but the server has none');
  return ctx as ComponentContext<HttpApp>;
}

function robots(chatRobots: ChatRobots | undefined): ChatRobots {
  if (!chatRobots) throw new Error('this component sends to robots, but none were loaded');
  return chatRobots;
}

/** Runs a component's service against its own section, so it never sees the rest of the file. */
function scoped<K extends keyof RootConfig>(
  section: K,
  service: Service<NonNullable<RootConfig[K]>>,
  ctx: ComponentContext,
): Service<RootConfig> {
  return {
    name: service.name,
    start: () => service.start(),
    stop: (deadline) => service.stop(deadline),
    reload: async (next, deadline) => {
      const value = next[section];
      if (value === undefined) {
        ctx.log.warn({ section }, 'removing a component section takes effect at the next restart');
        return;
      }
      await service.reload?.(value as NonNullable<RootConfig[K]>, deadline);
    },
  };
}

/** The components this build has; the CLI names the others as not built yet. */
export const COMPONENTS: Record<string, ComponentEntry | undefined> = {
  sidecar: {
    section: 'sidecar',
    status: {
      doc: 'docs/sidecar.md',
      metrics: [
        SIDECAR_METRICS.tailerUp,
        SIDECAR_METRICS.filesOpen,
        SIDECAR_METRICS.queueBytes,
        SIDECAR_METRICS.queueOldestUnackedAge,
        SIDECAR_METRICS.backpressure,
        SIDECAR_METRICS.fileLogReaderUp,
      ],
    },
    create: async (config, ctx) => {
      const { Sidecar } = await import('../sidecar/main.ts');
      return scoped('sidecar', new Sidecar(config.sidecar!, ctx), ctx);
    },
  },
  collector: {
    section: 'collector',
    routes: true,
    status: {
      doc: 'docs/collector.md',
      metrics: [
        COLLECTOR_METRICS.ingestLines,
        COLLECTOR_METRICS.records,
        COLLECTOR_METRICS.kafkaLag,
        COLLECTOR_METRICS.bytesInFlight,
        COLLECTOR_METRICS.storeFailures,
      ],
    },
    create: async (config, ctx) => {
      const { Collector } = await import('../collector/main.ts');
      return scoped('collector', new Collector(config.collector!, withRoutes(ctx)), ctx);
    },
  },
  'event-router': {
    section: 'eventRouter',
    chat: true,
    status: {
      doc: 'docs/event-router.md',
      metrics: [
        SHARED_METRICS.leader,
        EVENT_ROUTER_METRICS.groups,
        EVENT_ROUTER_METRICS.archiveBuffered,
        EVENT_ROUTER_METRICS.archiveUp,
      ],
    },
    create: async (config, ctx, chatRobots) => {
      const { EventRouter } = await import('../event-router/main.ts');
      return scoped('eventRouter', new EventRouter(config.eventRouter!, ctx, robots(chatRobots)), ctx);
    },
  },
  'alert-rules': {
    section: 'alertRules',
    routes: true,
    chat: true,
    status: {
      doc: 'docs/alert-rules.md',
      metrics: [
        SHARED_METRICS.leader,
        PROBE_SCHEDULER_METRICS.targets,
        PROBE_SCHEDULER_METRICS.running,
        PROBE_SCHEDULER_METRICS.waiting,
        PROBE_AGENT_METRICS.up,
      ],
    },
    create: async (config, ctx, chatRobots) => {
      const { AlertRules } = await import('../alert-rules/main.ts');
      return scoped(
        'alertRules',
        new AlertRules(config.alertRules!, withRoutes(ctx), robots(chatRobots)),
        ctx,
      );
    },
  },
  'probe-agent': {
    section: 'probeAgent',
    status: {
      doc: 'docs/probes.md',
      metrics: [
        PROBE_AGENT_METRICS.targets,
        PROBE_AGENT_METRICS.buffered,
        PROBE_AGENT_METRICS.bufferBytes,
        PROBE_AGENT_METRICS.lastDelivery,
      ],
    },
    create: async (config, ctx) => {
      const { ProbeAgent } = await import('../alert-rules/probe-agent/main.ts');
      return scoped('probeAgent', new ProbeAgent(config.probeAgent!, ctx), ctx);
    },
  },
};
