import { HttpError } from '../../core/auth.ts';
import type { AlertGroup, AlertGroupsAnswer, ApiAlert, GroupedAlert } from '../api-types.ts';
import { labelsFingerprint } from '../dispatch/fingerprint.ts';
import { type Matcher, MatcherError, matches, parseMatchers } from '../dispatch/matchers.ts';
import {
  groupKey,
  groupLabels,
  labelSetString,
  type MatchedRoute,
  type RouteTree,
} from '../dispatch/route-tree.ts';
import type { Labels } from '../types.ts';

/** Alerts in one answer at most, unless `limit` asks for fewer: the console draws every one. */
export const MAX_GROUPED_ALERTS = 2_000;

const STATES = ['firing', 'pending'] as const;
type AlertState = (typeof STATES)[number];

export interface AlertGroupsQuery {
  /** Every matcher must accept the alert's labels. */
  matchers: Matcher[];
  states: ReadonlySet<AlertState>;
  /** Whether silenced alerts, and inhibited ones, are listed. */
  silenced: boolean;
  inhibited: boolean;
  limit: number;
}

type QueryValue = string | string[] | undefined;

function values(value: QueryValue): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function single(name: string, value: QueryValue): string | undefined {
  const all = values(value);
  if (all.length > 1) throw new HttpError(400, `${name} is given more than once`);
  return all[0];
}

function flag(name: string, value: QueryValue): boolean {
  const text = single(name, value);
  if (text === undefined) return true;
  if (text !== 'true' && text !== 'false') throw new HttpError(400, `${name} is "true" or "false"`);
  return text === 'true';
}

/** Reads the query string of `GET /api/alerts/groups`; anything it cannot read is a 400 saying why. */
export function alertGroupsQuery(query: Record<string, QueryValue>): AlertGroupsQuery {
  const known = new Set(['filter', 'state', 'silenced', 'inhibited', 'limit']);
  const unknown = Object.keys(query).filter((name) => !known.has(name));
  if (unknown.length > 0) throw new HttpError(400, `unknown parameter(s): ${unknown.join(', ')}`);
  let matchers: Matcher[];
  try {
    matchers = values(query.filter).flatMap((text) => parseMatchers(text));
  } catch (err) {
    if (err instanceof MatcherError) throw new HttpError(400, `filter: ${err.message}`);
    throw err;
  }
  const states = values(query.state).flatMap((text) => text.split(','));
  const wrong = states.filter((s) => !(STATES as readonly string[]).includes(s));
  if (wrong.length > 0) throw new HttpError(400, `state is "firing" or "pending", not ${wrong.join(', ')}`);
  const limitText = single('limit', query.limit);
  const limit = limitText === undefined ? MAX_GROUPED_ALERTS : Number(limitText);
  if (!/^\d+$/.test(limitText ?? '0') || limit < 1 || limit > MAX_GROUPED_ALERTS) {
    throw new HttpError(400, `limit must be a whole number from 1 to ${MAX_GROUPED_ALERTS}`);
  }
  return {
    matchers,
    states: new Set(states.length > 0 ? (states as AlertState[]) : STATES),
    silenced: flag('silenced', query.silenced),
    inhibited: flag('inhibited', query.inhibited),
    limit,
  };
}

/** Where the grouping comes from: the routing's tree, or none. */
export interface GroupingSources {
  /** The routing's tree; undefined without built-in routing. */
  tree(): Pick<RouteTree, 'match'> | undefined;
  /** The labels alerts are sent with (external labels added), which routes and silences see. */
  sentLabels(labels: Labels): Labels;
  mutedBy(labels: Labels): { silencedBy: string[]; inhibitedBy: string[] };
}

type Grouping = Pick<MatchedRoute, 'key' | 'groupBy'> & Partial<Pick<MatchedRoute, 'id' | 'receiver'>>;

/** Without routing, an on-call engineer still sees the alerts of one rule together. */
const BY_ALERT_NAME: Grouping = { key: '', groupBy: ['alertname'] };

interface Entry {
  /** The route and the group key: unique across routes, as the dispatcher's groups. */
  groupId: string;
  route: Grouping;
  groupLabels: Labels;
  alert: GroupedAlert;
}

const byGroupThenFiringFirst = (a: Entry, b: Entry) =>
  labelSetString(a.groupLabels).localeCompare(labelSetString(b.groupLabels)) ||
  a.groupId.localeCompare(b.groupId) ||
  Number(a.alert.state !== 'firing') - Number(b.alert.state !== 'firing') ||
  Date.parse(a.alert.activeAt) - Date.parse(b.alert.activeAt);

/**
 * The active alerts grouped as the routing groups them (route and group_by
 * labels; an alert is in every group its routes give), each with what mutes
 * it; groups ordered by their labels, firing alerts first, oldest first.
 */
export function alertGroups(
  alerts: readonly ApiAlert[],
  sources: GroupingSources,
  query: AlertGroupsQuery,
): AlertGroupsAnswer {
  const tree = sources.tree();
  const sent = alerts.map((alert) => ({ ...alert, labels: sources.sentLabels(alert.labels) }));
  const byFingerprint = new Map(sent.map((alert) => [labelsFingerprint(alert.labels), alert.labels]));
  const entries: Entry[] = [];
  for (const alert of sent) {
    if (!query.states.has(alert.state as AlertState) || !matches(query.matchers, alert.labels)) continue;
    const { silencedBy, inhibitedBy } = sources.mutedBy(alert.labels);
    if (!query.silenced && silencedBy.length > 0) continue;
    if (!query.inhibited && inhibitedBy.length > 0) continue;
    const grouped: GroupedAlert = {
      ...alert,
      fingerprint: labelsFingerprint(alert.labels),
      status: {
        state: silencedBy.length + inhibitedBy.length > 0 ? 'suppressed' : 'active',
        silencedBy,
        inhibitedBy,
      },
      inhibitors: inhibitedBy.flatMap((id) => {
        const labels = byFingerprint.get(id);
        return labels ? [labels] : [];
      }),
    };
    for (const route of tree?.match(alert.labels) ?? [BY_ALERT_NAME]) {
      const groupId = JSON.stringify([route.id ?? '', groupKey(route, alert.labels)]);
      entries.push({ groupId, route, groupLabels: groupLabels(route, alert.labels), alert: grouped });
    }
  }
  entries.sort(byGroupThenFiringFirst);
  const groups = new Map<string, AlertGroup>();
  for (const entry of entries.slice(0, query.limit)) {
    let group = groups.get(entry.groupId);
    if (!group) {
      group = {
        id: entry.groupId,
        receiver: entry.route.receiver ?? null,
        route: tree ? entry.route.key : null,
        groupBy: entry.route.groupBy,
        labels: entry.groupLabels,
        alerts: [],
      };
      groups.set(entry.groupId, group);
    }
    group.alerts.push(entry.alert);
  }
  return {
    routing: tree !== undefined,
    groups: [...groups.values()],
    total: entries.length,
    shown: Math.min(entries.length, query.limit),
  };
}
