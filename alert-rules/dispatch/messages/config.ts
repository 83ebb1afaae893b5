import { z } from 'zod';
import { duration, httpUrl } from '../../../core/config-types.ts';
import { timeZone } from '../../../notify/config.ts';

/** How the default alert messages are written; the same for every robot kind. */
export const alertMessagesSchema = z.strictObject({
  /** Times are shown in this IANA time zone. */
  timeZone: timeZone().default('UTC'),
  /**
   * Lookout's address as people reach it (console or API): alerts on a
   * workload (namespace plus pod or container labels) link to its logs there.
   * Unset: no log link.
   */
  logSearchUrl: httpUrl().optional(),
  /** The log link starts this long before the alert started. */
  logsBefore: duration().default(15 * 60_000),
  /** A resolved alert's log link ends this long after it resolved; a firing alert's ends now. */
  logsAfter: duration().default(5 * 60_000),
  /** A label or annotation whose value names people to mention: mobiles and user ids, comma or space separated. */
  mentionsFrom: z.string().min(1).default('mentions'),
  /** Alerts listed in one message at most; the others are counted in a last line. */
  maxAlerts: z.number().int().min(1).default(10),
});

export type AlertMessagesConfig = z.output<typeof alertMessagesSchema>;

export const DEFAULT_ALERT_MESSAGES: AlertMessagesConfig = alertMessagesSchema.parse({});
