import { z } from 'zod';
import { byteSize } from '../../../core/config-types.ts';

/** Limits that keep a hostile or careless template from stalling rule evaluation. */
export const templateSchema = z
  .strictObject({
    /** Bytes one expansion may produce (Prometheus has no limit; alerts far below this are normal). */
    maxOutputBytes: byteSize()
      .default(1024 * 1024)
      .refine((bytes) => bytes >= 1024, { error: 'expected at least 1KiB' }),
    /** Nodes visited plus range iterations in one expansion. */
    maxSteps: z.number().int().min(100).default(100_000),
    /** Nested {{template}} calls (Go allows 100,000, far more than the JavaScript stack holds). */
    maxTemplateDepth: z.number().int().min(1).max(1000).default(100),
    /** How long `match` or `reReplaceAll` may run a pattern that risks backtracking, like `(a+)+` (milliseconds). */
    regexpTimeoutMs: z.number().int().min(10).default(1000),
    /** How long a receiver's message template may run before the default message is sent instead (milliseconds). */
    messageTimeoutMs: z.number().int().min(100).default(5000),
    /** Parsed templates kept in memory, by name and text. */
    cacheSize: z.number().int().min(1).default(5000),
  })
  .prefault({});

export type TemplateSettings = z.infer<typeof templateSchema>;
