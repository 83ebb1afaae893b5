import { z } from 'zod';
import { duration } from '../../core/config-types.ts';
import { templateSource } from '../../notify/config.ts';
import { valueMatcherSchema } from './matcher.ts';

/** Conditions on an event; all that are given must hold. */
export const eventMatchSchema = z.strictObject({
  namespace: valueMatcherSchema.optional(),
  kind: valueMatcherSchema.optional(),
  name: valueMatcherSchema.optional(),
  reason: valueMatcherSchema.optional(),
  type: valueMatcherSchema.optional(),
  message: valueMatcherSchema.optional(),
  source: valueMatcherSchema.optional(),
  /** The involved object's labels: label key → value test. */
  labels: z.record(z.string().min(1), valueMatcherSchema).optional(),
});
export type EventMatchConfig = z.output<typeof eventMatchSchema>;

export interface RouteConfig {
  match?: EventMatchConfig;
  robots?: string[];
  template?: string;
  /** How long events of one object and reason are gathered into one message. */
  groupWait?: number;
  /** After a match, go on to the next sibling too (Alertmanager's `continue`). */
  continue?: boolean;
  routes?: RouteConfig[];
}

export const routeSchema: z.ZodType<RouteConfig> = z.lazy(() =>
  z.strictObject({
    match: eventMatchSchema.optional(),
    robots: z.array(z.string().min(1)).min(1).optional(),
    /** Text template in the robots' template syntax; the title stays the router's. */
    template: templateSource().optional(),
    groupWait: duration().optional(),
    continue: z.boolean().optional(),
    routes: z.array(routeSchema).optional(),
  }),
);

export const routingSchema = z
  .strictObject({
    /** Events matching any of these are never routed (they may still be archived). */
    drop: z.array(eventMatchSchema).default([]),
    /** The root route matches every event that was not dropped; its settings are the children's defaults. */
    route: routeSchema,
  })
  .superRefine((routing, ctx) => {
    if (routing.route.match) {
      ctx.addIssue({
        code: 'custom',
        path: ['route', 'match'],
        message: 'the root route takes every event; put conditions on its child routes',
      });
    }
  });
export type RoutingConfig = z.output<typeof routingSchema>;
