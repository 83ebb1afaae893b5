import { z } from 'zod';
import { duration } from '../core/config-types.ts';
import { kubernetesSchema } from '../core/kube/config.ts';
import { leaderElectionSchema } from '../notify/leader-config.ts';
import { aggregationSchema } from './aggregate/config.ts';
import { archiveSchema } from './archive/config.ts';
import { routingSchema } from './routes/config.ts';

const stateSchema = z
  .union([
    z.strictObject({
      /** A JSON file; relative paths are below the data directory. */
      file: z.string().min(1),
    }),
    z.strictObject({
      /** A ConfigMap, which every replica reads: needed with leader election unless the file is shared. */
      configMap: z.strictObject({ namespace: z.string().min(1).optional(), name: z.string().min(1) }),
    }),
  ])
  .default({ file: 'event-router/state.json' });

export const eventRouterSchema = z
  .strictObject({
    kubernetes: kubernetesSchema,
    /** core/v1 Events, or the newer events.k8s.io/v1 API (same objects, other field names). */
    api: z.enum(['core/v1', 'events.k8s.io/v1']).default('core/v1'),
    /** Namespaces to watch; empty means all. */
    namespaces: z.array(z.string().min(1)).default([]),
    /** The routing tree in a file of its own, reloaded when it changes; or inline as `routing`. */
    routingFile: z.string().min(1).optional(),
    routing: routingSchema.optional(),
    aggregation: aggregationSchema,
    enrich: z
      .strictObject({
        enabled: z.boolean().default(true),
        maxEntries: z.number().int().min(1).default(10_000),
        ttl: duration().default(300_000),
      })
      .prefault({}),
    /** Where the resume point lives, so a restart neither repeats nor skips events. */
    state: stateSchema,
    /** How often the resume point is saved (and always on shutdown). */
    saveInterval: duration().default(5_000),
    leaderElection: leaderElectionSchema('lookout-event-router'),
    /** Every event (routed or not) also into a log store, to be searched next to the logs. */
    archive: archiveSchema.optional(),
    /**
     * V8's optimize-for-size mode for the process: garbage collected sooner, a small young generation.
     * The router's peak memory is about a quarter lower for a few percent more CPU.
     */
    optimizeHeapForSize: z.boolean().default(true),
  })
  .superRefine((config, ctx) => {
    if ((config.routingFile === undefined) === (config.routing === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['routing'],
        message: 'give exactly one of routing and routingFile',
      });
    }
  });
export type EventRouterConfig = z.output<typeof eventRouterSchema>;
