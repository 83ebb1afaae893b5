import { z } from 'zod';
import { duration } from '../core/config-types.ts';

/**
 * Two replicas of a component that sends to chat: only the holder of the
 * Lease sends, and the robots' outbox lives where the next leader finds it.
 * `name` is the component's: the Lease is `<name>` and the outbox `<name>-outbox`.
 */
export function leaderElectionSchema(name: string) {
  return z
    .strictObject({
      /** Run two replicas with this on: only the holder of the Lease sends. */
      enabled: z.boolean().default(false),
      /** The Lease's namespace; unset means the pod's own namespace (or `default` outside a cluster). */
      namespace: z.string().min(1).optional(),
      name: z.string().min(1).default(name),
      leaseDuration: duration().default(15_000),
      renewDeadline: duration().default(10_000),
      retryPeriod: duration().default(2_000),
      /**
       * Where the leader keeps the robots' outboxes and send logs, so the next
       * leader sends what it left and respects the minute it used. Only the
       * leader writes it.
       */
      outbox: z
        .strictObject({
          /** Unset means the Lease's namespace. */
          namespace: z.string().min(1).optional(),
          name: z.string().min(1).default(`${name}-outbox`),
          /** Bytes of waiting messages kept, shared by the robots; a ConfigMap holds at most 1 MiB. */
          maxBytes: z.number().int().min(10_000).max(1_000_000).default(900_000),
        })
        .prefault({}),
    })
    .prefault({})
    .refine((l) => l.renewDeadline < l.leaseDuration && l.retryPeriod < l.renewDeadline, {
      error: 'expected retryPeriod < renewDeadline < leaseDuration',
    });
}
export type LeaderElectionConfig = z.output<ReturnType<typeof leaderElectionSchema>>;
