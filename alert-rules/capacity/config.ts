import { z } from 'zod';
import { duration } from '../../core/config-types.ts';

import { labelSet, METRIC_NAME } from '../config-types.ts';
import { checkTemplate } from '../rules/template/expand.ts';

/** Go templates, checked when the configuration loads as the rule files' are. */
const templates = labelSet()
  .superRefine((texts, ctx) => {
    for (const [name, text] of Object.entries(texts)) {
      const error = checkTemplate('capacity', text);
      if (error) ctx.addIssue({ code: 'custom', path: [name], message: error });
    }
  })
  .default({});

const offRecommendationAlertSchema = z.strictObject({
  /** The alert's `alertname`. */
  name: z.string().regex(METRIC_NAME).default('LookoutReplicasOffRecommendation'),
  /** How long the running replicas must stay off the recommendation before the alert fires. */
  for: duration().default(1_800_000),
  /**
   * As a rule's, with the workload labels and `recommendation` as `$labels`
   * and the recommended count as `$value`; the annotations are merged over
   * the default ones.
   */
  labels: templates,
  annotations: templates,
});

const recommendationSchema = z
  .strictObject({
    /** Names the recommendation in the gauge's `recommendation` label, the alert and the API. */
    name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.:-]*$/, {
      error: 'expected a name of letters, digits, _ . : and -',
    }),
    /** PromQL giving the total demand per workload; its labels name the workload. */
    expr: z.string().min(1),
    /** The demand one replica handles, in the expression's unit. */
    perReplica: z.number().positive(),
    min: z.number().int().nonnegative().default(1),
    max: z.number().int().positive(),
    /**
     * As the HorizontalPodAutoscaler's: the running count is kept while
     * |demand / (running × perReplica) − 1| ≤ tolerance, so the recommendation
     * does not flap around a boundary.
     */
    tolerance: z.number().min(0).max(1).default(0.1),
    interval: duration()
      .default(60_000)
      .refine((ms) => ms >= 1_000, { error: 'expected at least 1s' }),
    /**
     * PromQL giving the running (or desired) replicas; a series belongs to the
     * workload whose labels it carries with the same values.
     */
    replicasExpr: z.string().min(1).default('kube_deployment_spec_replicas'),
    /** An alert while the running replicas stay off the recommendation. */
    alert: offRecommendationAlertSchema.optional(),
  })
  .refine((r) => r.min <= r.max, { error: 'expected min ≤ max', path: ['min'] });

/** Replica recommendations: demand per workload divided by what one replica handles. */
export const capacitySchema = z
  .array(recommendationSchema)
  .default([])
  .superRefine((recommendations, ctx) => {
    const seen = new Set<string>();
    recommendations.forEach((r, index) => {
      if (seen.has(r.name)) {
        ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `the name ${r.name} is used twice` });
      }
      seen.add(r.name);
    });
  });

export type CapacityConfig = z.output<typeof capacitySchema>;
export type RecommendationConfig = z.output<typeof recommendationSchema>;
export type OffRecommendationAlertConfig = z.output<typeof offRecommendationAlertSchema>;
