import { join } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../../core/log.ts';
import type { Metrics } from '../../core/metrics.ts';
import type { Alert } from '../rules/alert.ts';
import { alertSchema } from '../rules/alert-state-store.ts';
import { savedAgentsSchema } from './agent-registry.ts';
import { savedHistorySchema } from './history.ts';
import { SavedFile } from './saved-file.ts';
import type { TargetState } from './target-state.ts';

/** Raised when the meaning of a field changes; an older or newer file is then set aside, not misread. */
export const PROBE_FILES_VERSION = 1;

export const PROBE_STATE_FILE = 'probe-state.json';
export const PROBE_HISTORY_FILE = 'probe-history.json';

const targetStateSchema = z.object({
  health: z.enum(['unknown', 'up', 'pending', 'down']),
  healthSinceMs: z.number(),
  consecutiveFailures: z.number().int().nonnegative(),
  consecutiveSuccesses: z.number().int().nonnegative(),
  failingSinceMs: z.number(),
  lastFailure: z.string(),
  lastResultAtMs: z.number(),
  probes: z.number().int().nonnegative(),
  changes: z.array(z.number().int()),
  flappingSinceMs: z.number(),
  certificateExpiresAtMs: z.number(),
}) satisfies z.ZodType<TargetState>;

const stateFileSchema = z.object({
  version: z.literal(PROBE_FILES_VERSION),
  savedAtMs: z.number(),
  /** The probe agents heard from, and their locations' alerts; absent in files of before the agents. */
  agents: savedAgentsSchema
    .extend({ alerts: z.array(z.object({ location: z.string(), alerts: z.array(alertSchema) })) })
    .optional(),
  targets: z.array(
    z.object({
      id: z.string(),
      /** What was probed: the state holds only while the target and module stay the same. */
      target: z.string(),
      module: z.string(),
      state: targetStateSchema,
      alerts: z.array(alertSchema),
      /** A target probed by agents: each location's state, and the state they make together. */
      locations: z.array(z.object({ location: z.string(), state: targetStateSchema })).optional(),
      combined: z
        .object({
          reported: z.enum(['unknown', 'up', 'pending', 'down', 'flapping']),
          sinceMs: z.number(),
        })
        .optional(),
    }),
  ),
});
export type SavedProbeState = z.infer<typeof stateFileSchema>;

const historyFileSchema = z.object({
  version: z.literal(PROBE_FILES_VERSION),
  savedAtMs: z.number(),
  targets: savedHistorySchema,
});
export type SavedProbeHistory = z.infer<typeof historyFileSchema>;

export interface ProbeFilesOptions {
  dataDir: string;
  maxStateBytes: number;
  maxHistoryBytes: number;
  log: Logger;
  metrics: Metrics;
}

/**
 * The two files a restart starts from: the targets' state and alerts (small,
 * saved soon after a change) and their history (larger, saved less often).
 */
export function probeFiles(options: ProbeFilesOptions) {
  const { dataDir, log, metrics } = options;
  return {
    state: new SavedFile({
      path: join(dataDir, PROBE_STATE_FILE),
      name: 'state',
      schema: stateFileSchema,
      maxBytes: options.maxStateBytes,
      log,
      metrics,
    }),
    history: new SavedFile({
      path: join(dataDir, PROBE_HISTORY_FILE),
      name: 'history',
      schema: historyFileSchema,
      maxBytes: options.maxHistoryBytes,
      log,
      metrics,
    }),
  };
}

export function savedAlerts(alerts: readonly Alert[]): SavedProbeState['targets'][number]['alerts'] {
  return alerts.map((alert) => ({ ...alert, value: String(alert.value) }));
}

export function restoredAlerts(saved: SavedProbeState['targets'][number]['alerts']): Alert[] {
  return saved.map((alert) => ({ ...alert, value: Number(alert.value) }));
}
