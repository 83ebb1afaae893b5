import { z } from 'zod';
import { byteSize, duration } from '../../core/config-types.ts';
import { httpTargetSchema } from '../../core/http-target.ts';
import { addressGuardSchema } from '../probes/guard-config.ts';
import { locationName } from '../probes/target-config.ts';

/**
 * `probeAgent`: a probe agent at another location. It probes the targets the
 * centre (alert-rules) assigns to its location and reports the results
 * there, keeping them on disk while the centre cannot be reached.
 */
export const probeAgentSchema = z.strictObject({
  /** The location this agent probes from, as targets name it (`hangzhou-outside`). */
  location: locationName(),
  /** alert-rules' API, with a token of the `agent` role (`auth: { bearerTokenFile: … }`). */
  centre: httpTargetSchema,
  /** One request to the centre takes at most this long. */
  requestTimeout: duration().default(10_000),
  /** How often the assignment is asked for again (an unchanged one costs a 304). */
  assignmentInterval: duration()
    .default(30_000)
    .refine((ms) => ms >= 1_000, { error: 'expected at least 1s' }),
  /** The agent reports at least this often, with no results if it has none, so the centre knows it is alive. */
  reportInterval: duration()
    .default(15_000)
    .refine((ms) => ms >= 100, { error: 'expected at least 100ms' }),
  /** Results in one batch at most; keep it within the centre's `agents.maxBatchResults`. */
  maxBatchResults: z.number().int().min(1).max(100_000).default(500),
  /** Results waiting for the centre take at most this much disk; beyond it the oldest are dropped (counted). */
  maxBufferBytes: byteSize()
    .default(64 * 1024 * 1024)
    .refine((bytes) => bytes >= 64 * 1024, { error: 'expected at least 64KiB' }),
  /** Written results are made durable at most this long later (a killed process loses none of them). */
  fsyncInterval: duration().default(1_000),
  /** Waits between failed reports: doubling from `initial` up to `max`, with jitter. */
  retry: z
    .strictObject({
      initial: duration()
        .default(1_000)
        .refine((ms) => ms >= 1, { error: 'expected at least 1ms' }),
      max: duration().default(60_000),
    })
    .prefault({}),
  /** The largest assignment read from the centre; a larger one is refused and the last one kept. */
  maxAssignmentBytes: byteSize().default(64 * 1024 * 1024),
  /** Targets probed at most; an assignment beyond it is cut (logged). */
  maxTargets: z.number().int().min(1).default(20_000),
  /** Probes running at once at most. */
  concurrency: z.number().int().min(1).max(10_000).default(256),
  /** How long past its timeout a probe that does not stop is waited for. */
  abandonAfter: duration().default(1_000),
  /** Which addresses this agent's probes may reach, as `alertRules.probes` says for the centre's. */
  ...addressGuardSchema.shape,
});

export type ProbeAgentConfig = z.output<typeof probeAgentSchema>;
