import type { RoutedEvent } from '../event.ts';
import type { EventMatchConfig, RouteConfig, RoutingConfig } from './config.ts';
import { compileValueMatcher } from './matcher.ts';

const DEFAULT_GROUP_WAIT_MS = 30_000;

/** Where a routed event goes: the route's path in the tree (for logs and metrics) and its settings. */
export interface RouteTarget {
  /** `root`, `root.0`, `root.0.2`: stable while the file does not change. */
  id: string;
  robots: readonly string[];
  template: string | undefined;
  groupWaitMs: number;
}

type EventTest = (event: RoutedEvent) => boolean;

interface CompiledRoute {
  target: RouteTarget;
  test: EventTest;
  continue: boolean;
  children: CompiledRoute[];
}

const FIELDS = ['namespace', 'kind', 'name', 'reason', 'type', 'message', 'source'] as const;

export function compileMatch(match: EventMatchConfig | undefined): EventTest {
  const tests: EventTest[] = [];
  for (const field of FIELDS) {
    const config = match?.[field];
    if (config === undefined) continue;
    const test = compileValueMatcher(config);
    tests.push((event) => test(event[field]));
  }
  for (const [key, config] of Object.entries(match?.labels ?? {})) {
    const test = compileValueMatcher(config);
    tests.push((event) => test(event.labels[key]));
  }
  return (event) => tests.every((test) => test(event));
}

function compileRoute(config: RouteConfig, id: string, parent: RouteTarget | undefined): CompiledRoute {
  const target: RouteTarget = {
    id,
    robots: config.robots ?? parent?.robots ?? [],
    template: config.template ?? parent?.template,
    groupWaitMs: config.groupWait ?? parent?.groupWaitMs ?? DEFAULT_GROUP_WAIT_MS,
  };
  return {
    target,
    test: compileMatch(config.match),
    continue: config.continue ?? false,
    children: (config.routes ?? []).map((child, i) => compileRoute(child, `${id}.${i}`, target)),
  };
}

/**
 * The routing tree, Alertmanager style: drop rules first; then from the root,
 * the first matching child takes the event (and its children, recursively),
 * unless it says `continue`, in which case later siblings are tried too. A
 * route none of whose children match handles the event itself.
 */
export class RoutingTree {
  private readonly drops: EventTest[];
  private readonly root: CompiledRoute;
  /** Some drop rule or route matches on the involved object's labels, which only enrichment knows. */
  readonly matchesLabels: boolean;

  constructor(config: RoutingConfig) {
    this.drops = config.drop.map(compileMatch);
    this.root = compileRoute(config.route, 'root', undefined);
    const onLabels = (match: EventMatchConfig | undefined) => Object.keys(match?.labels ?? {}).length > 0;
    const routeOnLabels = (route: RouteConfig): boolean =>
      onLabels(route.match) || (route.routes ?? []).some(routeOnLabels);
    this.matchesLabels = config.drop.some(onLabels) || routeOnLabels(config.route);
  }

  /** The routes that take the event; empty when it is dropped or no route names a robot. */
  route(event: RoutedEvent): RouteTarget[] {
    if (this.drops.some((drop) => drop(event))) return [];
    return walk(this.root, event).filter((target) => target.robots.length > 0);
  }
}

function walk(route: CompiledRoute, event: RoutedEvent): RouteTarget[] {
  const found: RouteTarget[] = [];
  for (const child of route.children) {
    if (!child.test(event)) continue;
    found.push(...walk(child, event));
    if (!child.continue) break;
  }
  return found.length > 0 ? found : [route.target];
}
