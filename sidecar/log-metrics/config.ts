import { z } from 'zod';
import { duration, regex } from '../../core/config-types.ts';

/** The labels every log metric has: the identity of the container the file belongs to. */
export const IDENTITY_LABELS = ['namespace', 'pod', 'container'] as const;

/**
 * Names Lookout exports itself: its own, Node's process metrics, and
 * blackbox_exporter's from alert-rules' probes (`lookout all` serves them on
 * the same /metrics).
 */
const RESERVED_PREFIXES = ['lookout_', 'process_', 'nodejs_', 'probe_'];

const field = z
  .string()
  .min(1)
  .refine((path) => !path.split('.').includes(''), {
    error: 'expected a field name such as http.response.status_code',
  });

/** A field name alone takes its value. */
const labelSchema = z.preprocess(
  (label) => (typeof label === 'string' ? { field: label } : label),
  z.strictObject({ field, map: z.enum(['value', 'class']).default('value') }),
);

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const labelsSchema = z.record(z.string(), labelSchema).superRefine((labels, ctx) => {
  for (const name of Object.keys(labels)) {
    let problem: string | undefined;
    if (!LABEL_NAME.test(name)) problem = 'is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)';
    else if (name.startsWith('__')) problem = 'starts with __, which Prometheus reserves';
    else if ((IDENTITY_LABELS as readonly string[]).includes(name)) {
      problem = `is one of the labels every log metric has (${IDENTITY_LABELS.join(', ')})`;
    }
    if (problem)
      ctx.addIssue({ code: 'custom', path: [name], message: `label ${JSON.stringify(name)} ${problem}` });
  }
});

/** A condition on one field: present, and among `values` or matching `pattern` when given. */
const conditionSchema = z.strictObject({
  field,
  values: z
    .array(z.union([z.string(), z.number(), z.boolean()]))
    .min(1)
    .transform((values) => values.map(String))
    .optional(),
  pattern: regex().optional(),
});

const counterSchema = z.strictObject({
  /** Exported as written: a Prometheus counter name ending in _total. */
  name: z
    .string()
    .regex(/^[a-zA-Z_][a-zA-Z0-9_]*_total$/, {
      error: 'expected a Prometheus counter name ([a-zA-Z_][a-zA-Z0-9_]*) ending in _total',
    })
    .refine((name) => !RESERVED_PREFIXES.some((prefix) => name.startsWith(prefix)), {
      error: `names starting with ${RESERVED_PREFIXES.join(', ')} are Lookout's own`,
    }),
  help: z.string().min(1).default('Log events counted by the Lookout sidecar'),
  labels: labelsSchema.default({}),
  /** Only events meeting every condition are counted. */
  filter: z
    .union([conditionSchema, z.array(conditionSchema)])
    .transform((filter) => (Array.isArray(filter) ? filter : [filter]))
    .default([]),
});
export type LogCounterConfig = z.output<typeof counterSchema>;

export const logMetricsSchema = z.strictObject({
  /** lookout_sidecar_log_events_total: events per container and log.level. */
  levels: z.boolean().default(true),
  counters: z
    .array(counterSchema)
    .default([])
    .superRefine((counters, ctx) => {
      const seen = new Set<string>();
      counters.forEach((counter, i) => {
        if (seen.has(counter.name)) {
          ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `${counter.name} is defined twice` });
        }
        seen.add(counter.name);
      });
    }),
  /** Series of one metric; an event that would make one more counts in the series whose labels are all `other`. */
  maxSeries: z.number().int().min(1).default(2000),
  /** Values one label of one metric takes (the first seen since start); later values count as `other`. */
  maxLabelValues: z.number().int().min(1).default(100),
  /** Longer label values count as `other`. */
  maxLabelValueLength: z.number().int().min(1).default(128),
  /** The series of a container none of whose files has been open for this long are dropped. */
  expireAfter: duration().default(5 * 60_000),
});
export type LogMetricsConfig = z.output<typeof logMetricsSchema>;
