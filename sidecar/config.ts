import { getHeapStatistics } from 'node:v8';
import { z } from 'zod';
import { byteSize, duration } from '../core/config-types.ts';
import { enrichSchema } from './enrich.ts';
import { fileLogsSchema } from './file-logs/config.ts';
import { logMetricsSchema } from './log-metrics/config.ts';
import { pipelineSchema } from './parse/pipeline.ts';
import { elasticsearchSinkSchema, httpSinkSchema, kafkaSinkSchema } from './sinks/config.ts';

/** One group of files read the same way: which files, and how their lines become records. */
const inputSchema = pipelineSchema.extend({
  /** Glob patterns; `**` crosses directories. Relative patterns are relative to the working directory. */
  paths: z.array(z.string().min(1)).min(1),
  exclude: z.array(z.string().min(1)).default([]),
  /** Files already there at the first start, with no checkpoint: from their beginning or only new lines. */
  readFrom: z.enum(['beginning', 'end']).default('beginning'),
});

const queueSchema = z.strictObject({
  /** `disk` survives crashes; `memory` loses what is queued when the process dies. */
  type: z.enum(['disk', 'memory']).default('disk'),
  /** Reading pauses (the files are the buffer) while this much is unacknowledged. */
  maxBytes: byteSize().default(1024 ** 3),
  segmentBytes: byteSize().default(16 * 1024 ** 2),
  /** `always`, or a duration such as `1s` between group fsyncs. */
  fsync: z.union([z.literal('always'), duration()]).default('always'),
});

/**
 * An event takes about four times its size in heap while it becomes a record (its text, its JSON,
 * the record, the bytes written). One that does not fit stops the process for good: after the
 * restart the same line is read again.
 */
const HEAP_PER_EVENT_BYTE = 4;

/** The largest event this process's heap can make a record of. */
function eventRoom(): number {
  return Math.floor(getHeapStatistics().heap_size_limit / HEAP_PER_EVENT_BYTE);
}

const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(bytes < 1024 ** 2 ? 2 : 0)} MiB`;

interface EventLimits {
  maxLineBytes: number;
  inputs: readonly { multiline?: { maxBytes: number } | undefined }[];
  fileLogs: { input: { multiline?: { maxBytes: number } | undefined } };
}

/** Where the configuration bounds the size of one event: a line, and each multiline rule. */
function eventLimits(config: EventLimits): [PropertyKey[], number][] {
  const limits: [PropertyKey[], number][] = [[['maxLineBytes'], config.maxLineBytes]];
  config.inputs.forEach((input, i) => {
    if (input.multiline) limits.push([['inputs', i, 'multiline', 'maxBytes'], input.multiline.maxBytes]);
  });
  const fileLogs = config.fileLogs.input.multiline;
  if (fileLogs) limits.push([['fileLogs', 'input', 'multiline', 'maxBytes'], fileLogs.maxBytes]);
  return limits;
}

export const sidecarSchema = z
  .strictObject({
    /** `sidecar`: next to one pod, Kubernetes fields from the Downward API. `node`: container logs of a node. */
    mode: z.enum(['sidecar', 'node']).default('sidecar'),
    inputs: z.array(inputSchema).min(1),
    kubernetes: enrichSchema.prefault({}),
    fileLogs: fileLogsSchema.prefault({}),
    /** Longer lines keep their first maxLineBytes (cut on a character boundary) and are flagged lookout.truncated. */
    maxLineBytes: byteSize().default(1024 ** 2),
    /** A last line without a newline is sent after the file has been idle this long. */
    partialLineTimeout: duration().default(5_000),
    scanInterval: duration().default(1_000),
    /** A rotated-away or deleted file is closed once it has been idle at its end this long. */
    releaseAfter: duration().default(5_000),
    /** Bytes of records per queue append and per sink delivery. */
    batchBytes: byteSize().default(1024 ** 2),
    queue: queueSchema.prefault({}),
    sinks: z
      .strictObject({
        kafka: kafkaSinkSchema.optional(),
        elasticsearch: elasticsearchSinkSchema.optional(),
        http: httpSinkSchema.optional(),
      })
      .refine((sinks) => Object.values(sinks).some(Boolean), { error: 'configure at least one sink' }),
    retry: z.strictObject({ initial: duration().default(200), max: duration().default(30_000) }).prefault({}),
    deadLetter: z.strictObject({ maxBytes: byteSize().default(100 * 1024 ** 2) }).prefault({}),
    /** Counters of log events served on /metrics: per container and level, and configured ones. */
    metrics: logMetricsSchema.prefault({}),
  })
  .superRefine((config, ctx) => {
    const room = eventRoom();
    for (const [path, bytes] of eventLimits(config)) {
      if (bytes <= room) continue;
      ctx.addIssue({
        code: 'custom',
        path,
        message: `${mib(bytes)} is more than this process's heap (${mib(getHeapStatistics().heap_size_limit)}) can make a record of; at most ${mib(room)} here, or give the sidecar a larger memory limit (docs/sidecar.md, Memory)`,
      });
    }
  });
export type SidecarConfig = z.output<typeof sidecarSchema>;
