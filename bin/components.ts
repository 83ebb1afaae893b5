import type { ComponentContext } from '../core/component.ts';
import type { Service } from '../core/lifecycle.ts';
import type { ChatRobots } from '../notify/chat-robots.ts';
import type { RootConfig } from './config.ts';

/** A component as the CLI runs it: built from its section of the root configuration. */
export interface ComponentEntry {
  /** The section's key in the configuration file. */
  section: keyof RootConfig;
  /** Loads the component's code only when it runs: the Kubernetes client alone takes most of a second. */
  create(config: RootConfig, ctx: ComponentContext, chatRobots: ChatRobots): Promise<Service<RootConfig>>;
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
    create: async (config, ctx) => {
      const { Sidecar } = await import('../sidecar/main.ts');
      return scoped('sidecar', new Sidecar(config.sidecar!, ctx), ctx);
    },
  },
  collector: {
    section: 'collector',
    create: async (config, ctx) => {
      const { Collector } = await import('../collector/main.ts');
      return scoped('collector', new Collector(config.collector!, ctx), ctx);
    },
  },
  'event-router': {
    section: 'eventRouter',
    create: async (config, ctx, chatRobots) => {
      const { EventRouter } = await import('../event-router/main.ts');
      return scoped('eventRouter', new EventRouter(config.eventRouter!, ctx, chatRobots), ctx);
    },
  },
  'alert-rules': {
    section: 'alertRules',
    create: async (config, ctx, chatRobots) => {
      const { AlertRules } = await import('../alert-rules/main.ts');
      return scoped('alertRules', new AlertRules(config.alertRules!, ctx, chatRobots), ctx);
    },
  },
  'probe-agent': {
    section: 'probeAgent',
    create: async (config, ctx) => {
      const { ProbeAgent } = await import('../alert-rules/probe-agent/main.ts');
      return scoped('probeAgent', new ProbeAgent(config.probeAgent!, ctx), ctx);
    },
  },
};
