import { z } from 'zod';
import { duration } from '../../core/config-types.ts';

/** How routed events are gathered into messages; all of it can change on reload. */
export const aggregationSchema = z
  .strictObject({
    /** After a group's message, further occurrences wait this long and then go out as one update. */
    groupInterval: duration().default(5 * 60_000),
    /** More objects than this with the same reason in one route window make one summary instead. */
    stormThreshold: z.number().int().min(1).default(10),
    /** Objects a storm summary names; the rest are counted as "and N more". */
    topObjects: z.number().int().min(1).default(5),
    /** Groups kept at most; beyond it the least recently seen is forgotten (counted). */
    maxGroups: z.number().int().min(1).default(10_000),
  })
  .prefault({});
export type AggregationConfig = z.output<typeof aggregationSchema>;

/** The aggregator's settings, as `new Aggregator(...)` and `configure(...)` take them. */
export interface AggregationSettings {
  groupIntervalMs: number;
  stormThreshold: number;
  topObjects: number;
  maxGroups: number;
}

export function aggregationSettings(config: AggregationConfig): AggregationSettings {
  const { groupInterval, ...rest } = config;
  return { groupIntervalMs: groupInterval, ...rest };
}
