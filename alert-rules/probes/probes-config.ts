import { z } from 'zod';
import { byteSize } from '../../core/config-types.ts';
import { agentsSchema } from './agents-config.ts';
import { addressGuardSchema } from './guard-config.ts';
import { probeModulesSchema } from './module-config.ts';
import { probeSchedulerSchema, probeTargetSchema } from './target-config.ts';

/**
 * `alertRules.probes`: the modules (a blackbox_exporter file, unchanged, and
 * modules written here), the targets of the file (read-only in the API),
 * which addresses they may reach, and the scheduler's limits.
 */
export const probesSchema = z
  .strictObject({
    /** A blackbox_exporter configuration file; its `modules` are used unchanged. */
    modulesFile: z.string().min(1).optional(),
    /** Largest modules file read. */
    maxModulesFileBytes: byteSize().default(4 * 1024 * 1024),
    /** Modules written here, in blackbox's format; a name here wins over the file's. */
    modules: probeModulesSchema.default({}),
    /** Targets of the configuration; each needs a `name`, its id. */
    targets: z
      .array(probeTargetSchema().refine((target) => target.name !== undefined, { error: 'expected a name' }))
      .default([]),
    ...addressGuardSchema.shape,
    ...probeSchedulerSchema.shape,
    /** Bytes of a target posted to the API at most. */
    maxTargetBytes: byteSize().default(64 * 1024),
    /** Probe agents at other locations. */
    agents: agentsSchema,
  })
  .refine((probes) => new Set(probes.targets.map((t) => t.name)).size === probes.targets.length, {
    error: 'two targets have the same name',
    path: ['targets'],
  })
  .refine((probes) => probes.targets.length <= probes.maxTargets, {
    error: 'more targets than maxTargets allows',
    path: ['targets'],
  })
  .prefault({});

export type ProbesConfig = z.output<typeof probesSchema>;
