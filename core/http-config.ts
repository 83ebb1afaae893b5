import { z } from 'zod';
import { authSchema } from './auth.ts';
import { duration, hostPort } from './config-types.ts';

export const httpSchema = z.strictObject({
  listen: hostPort().default('127.0.0.1:8080'),
  auth: authSchema.default({ enabled: true, tokens: [], openHealth: true, openMetrics: false }),
  /** Largest request body accepted (ingest batches). */
  bodyLimit: z
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
  /** Headers and body must have arrived within this (408 after); a client trickling a byte every few seconds is cut off. 0 turns it off. */
  requestTimeout: duration().default(60_000),
  /** The headers alone must have arrived within this (at most requestTimeout). */
  headersTimeout: duration().default(20_000),
});
export type HttpConfig = z.output<typeof httpSchema>;
