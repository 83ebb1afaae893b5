/**
 * What probe agents and alert-rules (the centre) say to each other over
 * HTTP, validated on both ends:
 *
 * - `GET /api/probe-agent/targets?location=` answers an Assignment:
 *   the targets the location probes and their modules as written (blackbox's
 *   format), with an ETag so an unchanged assignment costs a 304.
 * - `POST /api/probe-agent/results` takes a ResultBatch: results numbered by
 *   the agent (`seq`, rising by one), so a batch sent again after a lost
 *   answer is not counted twice, and a gap says the agent dropped results.
 */
import { z } from 'zod';
import { locationName } from './target-config.ts';
import type { ProbeResult } from './types.ts';

/** An agent's id: made once per data directory, so sequence numbers are per agent. */
export const agentId = () =>
  z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_.-]+$/, { error: 'expected letters, digits, "_", "." and "-"' });

const assignedTargetSchema = z.strictObject({
  id: z.string().min(1),
  target: z.string().min(1),
  module: z.string().min(1),
  intervalMs: z.number().int().positive(),
  timeoutMs: z.number().int().positive(),
});
export type AssignedTarget = z.infer<typeof assignedTargetSchema>;

export const assignmentSchema = z.strictObject({
  location: locationName(),
  targets: z.array(assignedTargetSchema),
  /** Modules by name, as their file wrote them. */
  modules: z.record(z.string(), z.record(z.string(), z.unknown())),
});
export type Assignment = z.infer<typeof assignmentSchema>;

/** JSON has no NaN or infinities: they travel as null and come back as NaN. */
const sampleValue = z.union([z.number(), z.null().transform(() => Number.NaN)]);

const reportedResultSchema = z.strictObject({
  seq: z.number().int().positive(),
  /** The target's id, address and module when probed: a result of a target changed since is dropped. */
  probe: z.string().min(1).max(1024),
  target: z.string().min(1).max(65_536),
  module: z.string().min(1).max(1024),
  /** On the agent's clock; the centre moves it to its own by the batch's `sentAtMs`. */
  startedAtMs: z.number().finite(),
  durationMs: z.number().finite().nonnegative(),
  success: z.boolean(),
  failure: z.string().max(4096).optional(),
  certificateExpiresAtMs: z.number().finite().optional(),
  samples: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(256),
        help: z.string().max(1024),
        labels: z.record(z.string(), z.string()).optional(),
        value: sampleValue,
      }),
    )
    .max(1000),
});
export type ReportedResult = z.output<typeof reportedResultSchema>;

export function resultBatchSchema(maxResults: number) {
  return z.strictObject({
    agent: agentId(),
    location: locationName(),
    /** The agent's clock when it sent the batch: how old each result is, whatever the clocks' difference. */
    sentAtMs: z.number().finite(),
    /** In `seq` order; empty: the agent only says it is alive. */
    results: z.array(reportedResultSchema).max(maxResults),
  });
}
export type ResultBatch = z.output<ReturnType<typeof resultBatchSchema>>;

/** What the centre made of a batch. */
export interface BatchReceipt {
  /** Taken into state and history. */
  accepted: number;
  /** Taken into history only: they arrived too long after they were probed. */
  late: number;
  /** Sent before (a batch sent again): ignored. */
  duplicates: number;
  /** Of targets this location does not probe (any more), or probed at an old address or module: ignored. */
  ignored: number;
}

/** A result as the agent reports it, numbered. */
export function reportedResult(
  seq: number,
  target: { id: string; target: string; moduleName: string },
  result: ProbeResult,
): ReportedResult {
  return {
    seq,
    probe: target.id,
    target: target.target,
    module: target.moduleName,
    startedAtMs: result.startedAtMs,
    durationMs: result.durationMs,
    success: result.success,
    ...(result.failure === undefined ? {} : { failure: result.failure.slice(0, 4096) }),
    ...(result.certificateExpiresAtMs === undefined
      ? {}
      : { certificateExpiresAtMs: result.certificateExpiresAtMs }),
    samples: result.samples,
  };
}
