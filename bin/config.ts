import { z } from 'zod';
import type { AlertRulesConfig } from '../alert-rules/config.ts';
import type { ProbeAgentConfig } from '../alert-rules/probe-agent/config.ts';
import type { CollectorConfig } from '../collector/config.ts';
import { duration } from '../core/config-types.ts';
import { httpSchema } from '../core/http-config.ts';
import type { EventRouterConfig } from '../event-router/config.ts';
import type { RobotsConfig } from '../notify/config.ts';
import type { SidecarConfig } from '../sidecar/config.ts';

/** The settings every command shares. `lookout all` runs every section present; `lookout <component>` only its own. */
const sharedSchema = z.strictObject({
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
    })
    .prefault({}),
  http: httpSchema.prefault({}),
  shutdown: z
    .strictObject({
      /** How long SIGTERM may take to drain and flush before the process exits anyway. */
      timeout: duration().default(30_000),
      /**
       * After the timeout, how long components still get to save what they hold (the robots' outboxes and
       * send logs) before the process exits anyway.
       */
      grace: duration().default(5_000),
    })
    .prefault({}),
  /** Where components keep checkpoints, queues and the embedded store. */
  dataDir: z.string().min(1).default('.data'),
});

/** The sections beside the shared settings, each validated by its component's own schema. */
export interface Sections {
  /** DingTalk and WeCom robots, by name; routes and rules refer to them. */
  robots: RobotsConfig;
  sidecar?: SidecarConfig;
  collector?: CollectorConfig;
  eventRouter?: EventRouterConfig;
  alertRules?: AlertRulesConfig;
  /** A probe agent at another location, reporting to alert-rules. */
  probeAgent?: ProbeAgentConfig;
}
export type Section = keyof Sections;
export type RootConfig = z.output<typeof sharedSchema> & Sections;

// Loaded only for the sections a command runs: the schemas pull in their components' code, and a
// sidecar that validated the alert rules' section would carry their parser in every pod.
const SECTION_SCHEMAS: Record<Section, () => Promise<z.ZodType>> = {
  robots: async () => (await import('../notify/config.ts')).robotsSchema,
  sidecar: async () => (await import('../sidecar/config.ts')).sidecarSchema.optional(),
  collector: async () => (await import('../collector/config.ts')).collectorSchema.optional(),
  eventRouter: async () => (await import('../event-router/config.ts')).eventRouterSchema.optional(),
  alertRules: async () => (await import('../alert-rules/config.ts')).alertRulesSchema.optional(),
  probeAgent: async () => (await import('../alert-rules/probe-agent/config.ts')).probeAgentSchema.optional(),
};

/**
 * The one configuration file shape for every command: shared settings at the top, one section per
 * component. The sections given are validated; the others are accepted as they are, for the command
 * that runs them to check (`lookout check-config` and `lookout all` check every one).
 */
export async function rootSchema(sections: readonly Section[]): Promise<z.ZodType<RootConfig>> {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, schema] of Object.entries(SECTION_SCHEMAS)) {
    shape[name] = sections.includes(name as Section) ? await schema() : z.unknown().optional();
  }
  return sharedSchema.extend(shape) as unknown as z.ZodType<RootConfig>;
}

export const ALL_SECTIONS = Object.keys(SECTION_SCHEMAS) as Section[];
