import { z } from 'zod';
import { alertRulesSchema } from '../alert-rules/config.ts';
import { probeAgentSchema } from '../alert-rules/probe-agent/config.ts';
import { collectorSchema } from '../collector/config.ts';
import { duration } from '../core/config-types.ts';
import { httpSchema } from '../core/http.ts';
import { eventRouterSchema } from '../event-router/config.ts';
import { robotsSchema } from '../notify/config.ts';
import { sidecarSchema } from '../sidecar/config.ts';

/**
 * The one configuration file shape for every command: shared settings at the
 * top, one section per component. `lookout all` runs every section present;
 * `lookout <component>` runs only its own.
 */
export const rootSchema = z.strictObject({
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
  /** DingTalk and WeCom robots, by name; routes and rules refer to them. */
  robots: robotsSchema.default({}),
  sidecar: sidecarSchema.optional(),
  collector: collectorSchema.optional(),
  eventRouter: eventRouterSchema.optional(),
  alertRules: alertRulesSchema.optional(),
  /** A probe agent at another location, reporting to alert-rules. */
  probeAgent: probeAgentSchema.optional(),
});
export type RootConfig = z.output<typeof rootSchema>;
