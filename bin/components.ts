import type { ComponentContext } from '../core/component.ts';
import type { HttpApp } from '../core/http.ts';
import type { Service } from '../core/lifecycle.ts';
import type { ChatRobots } from '../notify/chat-robots.ts';
import type { RootConfig, Section } from './config.ts';

/** A component as the CLI runs it: built from its section of the root configuration. */
export interface ComponentEntry {
  /** The section's key in the configuration file. */
  section: Exclude<Section, 'robots'>;
  /** Serves API routes of its own: the process then serves HTTP with Fastify rather than Node's bare server. */
  routes?: boolean;
  /** Sends to DingTalk and WeCom robots: the process then loads and validates them. */
  chat?: boolean;
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
    create: async (config, ctx) => {
      const { Sidecar } = await import('../sidecar/main.ts');
      return scoped('sidecar', new Sidecar(config.sidecar!, ctx), ctx);
    },
  },
  collector: {
    section: 'collector',
    routes: true,
    create: async (config, ctx) => {
      const { Collector } = await import('../collector/main.ts');
      return scoped('collector', new Collector(config.collector!, withRoutes(ctx)), ctx);
    },
  },
  'event-router': {
    section: 'eventRouter',
    chat: true,
    create: async (config, ctx, chatRobots) => {
      const { EventRouter } = await import('../event-router/main.ts');
      return scoped('eventRouter', new EventRouter(config.eventRouter!, ctx, robots(chatRobots)), ctx);
    },
  },
  'alert-rules': {
    section: 'alertRules',
    routes: true,
    chat: true,
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
    create: async (config, ctx) => {
      const { ProbeAgent } = await import('../alert-rules/probe-agent/main.ts');
      return scoped('probeAgent', new ProbeAgent(config.probeAgent!, ctx), ctx);
    },
  },
};
