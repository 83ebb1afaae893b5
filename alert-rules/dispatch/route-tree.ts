import { createHash } from 'node:crypto';
import type { Labels } from '../types.ts';
import type { RouteConfig } from './alertmanager-config.ts';
import { type Matcher, matchersToString, matches, sortMatchers } from './matchers.ts';

/** A route an alert goes to, with everything inherited from its parents resolved. */
export interface MatchedRoute {
  /**
   * The route's position ("0" the root, "0.1.2" the root's second child's
   * third child) and a hash of its settings: a route changed by a reload
   * gets a new id, so its old groups are not continued under new settings.
   */
  id: string;
  /** Alertmanager's route key (`{}/{team="db"}`), the first part of its group keys. */
  key: string;
  receiver: string;
  groupBy: readonly string[] | 'all';
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  muteTimeIntervals: readonly string[];
  activeTimeIntervals: readonly string[];
}

interface Node {
  route: MatchedRoute;
  matchers: Matcher[];
  continue: boolean;
  children: Node[];
}

type Inherited = Omit<MatchedRoute, 'id' | 'key' | 'muteTimeIntervals' | 'activeTimeIntervals'>;

const ROOT_FALLBACK: Inherited = {
  receiver: '',
  groupBy: [],
  groupWaitMs: 0,
  groupIntervalMs: 0,
  repeatIntervalMs: 0,
};

function settingsHash(route: Omit<MatchedRoute, 'id'>, config: RouteConfig): string {
  const settings = JSON.stringify([route, matchersToString(config.matchers), config.continue]);
  return createHash('sha256').update(settings).digest('hex').slice(0, 12);
}

function build(config: RouteConfig, parent: Inherited, path: string, parentKey: string | undefined): Node {
  const matchers = sortMatchers(config.matchers);
  const own: Omit<MatchedRoute, 'id'> = {
    key: parentKey === undefined ? matchersToString(matchers) : `${parentKey}/${matchersToString(matchers)}`,
    receiver: config.receiver ?? parent.receiver,
    groupBy: config.groupBy ?? parent.groupBy,
    groupWaitMs: config.groupWaitMs ?? parent.groupWaitMs,
    groupIntervalMs: config.groupIntervalMs ?? parent.groupIntervalMs,
    repeatIntervalMs: config.repeatIntervalMs ?? parent.repeatIntervalMs,
    muteTimeIntervals: config.muteTimeIntervals,
    activeTimeIntervals: config.activeTimeIntervals,
  };
  const route: MatchedRoute = { id: `${path}-${settingsHash(own, config)}`, ...own };
  return {
    route,
    matchers,
    continue: config.continue,
    children: config.routes.map((child, i) => build(child, route, `${path}.${i}`, route.key)),
  };
}

/**
 * Alertmanager's routing: depth-first, children in order; an alert goes to
 * the first matching child (and on to later siblings while the matched one
 * says `continue`), down to the deepest matching routes; when no child
 * matches, the route itself takes it.
 */
export class RouteTree {
  private readonly root: Node;

  /** `root` is the configuration's root route, its defaults filled in (as parseAlertmanagerConfig gives it). */
  constructor(root: RouteConfig) {
    this.root = build(root, ROOT_FALLBACK, '0', undefined);
  }

  /** Every route the labels go to, in order; never empty, since the root takes what no child does. */
  match(labels: Labels): MatchedRoute[] {
    return matchNode(this.root, labels) ?? [this.root.route];
  }

  /** Alertmanager's key of the group the labels belong to on `route` (one of those match gave). */
  groupKey(route: MatchedRoute, labels: Labels): string {
    return groupKey(route, labels);
  }

  /** Every route of the tree, depth first: for listing and for checks of the whole configuration. */
  routes(): MatchedRoute[] {
    const out: MatchedRoute[] = [];
    const walk = (node: Node) => {
      out.push(node.route);
      node.children.forEach(walk);
    };
    walk(this.root);
    return out;
  }
}

function matchNode(node: Node, labels: Labels): MatchedRoute[] | undefined {
  if (!matches(node.matchers, labels)) return undefined;
  const found: MatchedRoute[] = [];
  for (const child of node.children) {
    const matched = matchNode(child, labels);
    if (!matched) continue;
    found.push(...matched);
    if (!child.continue) break;
  }
  return found.length > 0 ? found : [node.route];
}

/** The labels a route groups by, taken from an alert's labels; labels with empty values do not exist. */
export function groupLabels(route: Pick<MatchedRoute, 'groupBy'>, labels: Labels): Labels {
  const out: Labels = {};
  for (const name of Object.keys(labels).sort()) {
    if (labels[name] === '') continue;
    if (route.groupBy === 'all' || route.groupBy.includes(name)) out[name] = labels[name]!;
  }
  return out;
}

/** Prometheus's printing of a label set: sorted, `{a="1", b="2"}`. */
export function labelSetString(labels: Labels): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((name) => `${name}=${JSON.stringify(labels[name])}`);
  return `{${pairs.join(', ')}}`;
}

/**
 * Alertmanager's group key, `{}/{team="db"}:{alertname="DiskFull"}`: the
 * route's key and the group's labels. Two sibling routes with the same
 * matchers have the same key in Alertmanager too, so a group is identified
 * by the route's id together with this key.
 */
export function groupKey(route: Pick<MatchedRoute, 'key' | 'groupBy'>, labels: Labels): string {
  return `${route.key}:${labelSetString(groupLabels(route, labels))}`;
}
