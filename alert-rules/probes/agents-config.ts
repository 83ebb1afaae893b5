import { z } from 'zod';
import { byteSize, duration } from '../../core/config-types.ts';
import { labelSet } from '../config-types.ts';

/** `alertRules.probes.agents`: how alert-rules takes the results of probe agents at other locations. */
export const agentsSchema = z
  .strictObject({
    /**
     * A location whose agents have not reported for this long is down:
     * ProbeAgentDown fires and its results stop counting. Keep it well above
     * the agents' `reportInterval`.
     */
    downAfter: duration()
      .default(2 * 60_000)
      .refine((ms) => ms >= 1_000, { error: 'expected at least 1s' }),
    /** A result that arrives more than this many of its target's intervals after it was taken is late. */
    lateAfterIntervals: z.number().min(1).max(10_000).default(2),
    /** Agents whose sequence numbers are remembered at most; the longest silent is forgotten first. */
    maxAgents: z.number().int().min(1).default(1_000),
    /** Results one batch may carry at most. */
    maxBatchResults: z.number().int().min(1).max(100_000).default(1_000),
    /** Bytes of one batch at most. */
    maxBatchBytes: byteSize().default(8 * 1024 * 1024),
    /** Added to ProbeAgentDown alerts (a `severity`, a `team` for the routing). */
    labels: labelSet().default({}),
  })
  .prefault({});

export type AgentsConfig = z.output<typeof agentsSchema>;
