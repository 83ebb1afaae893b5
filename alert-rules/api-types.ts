import type { Labels } from './types.ts';

/**
 * The shapes of alert-rules' HTTP answers, types only: the server writes
 * them and the web console reads them from here.
 */

/** One alert as Prometheus's `/api/v1/alerts` lists it. */
export interface ApiAlert {
  labels: Labels;
  annotations: Labels;
  state: string;
  activeAt: string;
  keepFiringSince?: string;
  value: string;
}

/** A matcher as Alertmanager's API v2 writes it. */
export interface SilenceMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  /** false: `!=` or `!~`. */
  isEqual: boolean;
}

/** Alertmanager's states: pending before startsAt, active until endsAt (excluded), expired after. */
export type SilenceState = 'active' | 'pending' | 'expired';

/** A silence as Alertmanager's API v2 answers it. */
export interface GettableSilence {
  id: string;
  status: { state: SilenceState };
  updatedAt: string;
  matchers: SilenceMatcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

/** An alert of `GET /api/alerts/groups`. */
export interface GroupedAlert extends ApiAlert {
  fingerprint: string;
  status: { state: 'active' | 'suppressed'; silencedBy: string[]; inhibitedBy: string[] };
  /** The labels of the alerts inhibiting this one, of those active now. */
  inhibitors: Labels[];
}

export interface AlertGroup {
  /** Unique in the answer: the route and the group's labels. */
  id: string;
  /** The route's receiver; null without built-in routing. */
  receiver: string | null;
  /** Alertmanager's route key (`{}/{team="db"}`); null without built-in routing. */
  route: string | null;
  groupBy: readonly string[] | 'all';
  labels: Labels;
  alerts: GroupedAlert[];
}

/** `GET /api/alerts/groups`. */
export interface AlertGroupsAnswer {
  /** False when alerts are not routed here: they are then grouped by alert name. */
  routing: boolean;
  groups: AlertGroup[];
  /** Alerts (once in each of their groups) that the query matched, and how many of those the answer holds. */
  total: number;
  shown: number;
}
