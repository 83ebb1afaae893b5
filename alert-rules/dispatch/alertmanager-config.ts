import { z } from 'zod';
import { type ConfigError, ConfigInvalidError, parseYaml, validate } from '../../core/config.ts';
import { parsePrometheusDuration } from '../duration.ts';
import { type Matcher, MatcherError, matchersFromMaps, parseMatchers } from './matchers.ts';
import {
  namedTimeIntervalSchema,
  parseTimeInterval,
  type TimeInterval,
  type TimeIntervals,
} from './time-intervals.ts';

/**
 * The parts of an Alertmanager configuration file that Lookout's built-in
 * routing implements (`route`, `inhibit_rules`, `time_intervals` and the
 * older `mute_time_intervals`), read unchanged from a team's existing file.
 * Receivers are Lookout's chat robots, found by the receiver's name; a
 * `receivers:` section is read for its names only. Defaults and checks are
 * Alertmanager's.
 */

export interface RouteConfig {
  /** undefined: the parent's. */
  receiver: string | undefined;
  /** undefined: the parent's; 'all': every label (`group_by: ['...']`). */
  groupBy: string[] | 'all' | undefined;
  continue: boolean;
  matchers: Matcher[];
  groupWaitMs: number | undefined;
  groupIntervalMs: number | undefined;
  repeatIntervalMs: number | undefined;
  /** Not inherited, as in Alertmanager. */
  muteTimeIntervals: string[];
  activeTimeIntervals: string[];
  routes: RouteConfig[];
}

export interface InhibitRuleConfig {
  sourceMatchers: Matcher[];
  targetMatchers: Matcher[];
  equal: string[];
}

export interface AlertmanagerConfig {
  /** The root route, with Alertmanager's defaults filled in where it left them out. */
  route: RouteConfig;
  inhibitRules: InhibitRuleConfig[];
  timeIntervals: TimeIntervals;
  /** Names from `receivers:`; undefined when the file has none (any receiver name is then a robot's name). */
  receivers: string[] | undefined;
  /** Things worth a log line that do not stop the configuration from working. */
  warnings: string[];
}

/** Alertmanager's defaults for the root route. */
export const ROUTE_DEFAULTS = {
  groupWaitMs: 30_000,
  groupIntervalMs: 5 * 60_000,
  repeatIntervalMs: 4 * 3_600_000,
} as const;

const GROUP_BY_ALL = '...';

const stringMap = z.record(z.string(), z.string());

interface RawRoute {
  receiver?: string;
  group_by?: string[];
  continue?: boolean;
  match?: Record<string, string>;
  match_re?: Record<string, string>;
  matchers?: string[];
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  mute_time_intervals?: string[];
  active_time_intervals?: string[];
  routes?: RawRoute[];
}

const routeSchema: z.ZodType<RawRoute> = z.lazy(() =>
  z.strictObject({
    receiver: z.string().optional(),
    group_by: z.array(z.string()).optional(),
    continue: z.boolean().optional(),
    match: stringMap.optional(),
    match_re: stringMap.optional(),
    matchers: z.array(z.string()).optional(),
    group_wait: z.string().optional(),
    group_interval: z.string().optional(),
    repeat_interval: z.string().optional(),
    mute_time_intervals: z.array(z.string()).optional(),
    active_time_intervals: z.array(z.string()).optional(),
    routes: z.array(routeSchema).optional(),
  }),
);

const inhibitRuleSchema = z.strictObject({
  source_match: stringMap.optional(),
  source_match_re: stringMap.optional(),
  source_matchers: z.array(z.string()).optional(),
  target_match: stringMap.optional(),
  target_match_re: stringMap.optional(),
  target_matchers: z.array(z.string()).optional(),
  equal: z.array(z.string()).optional(),
});

/** A receiver's notifier settings belong to Alertmanager; here the name picks a chat robot. */
const receiverSchema = z.looseObject({ name: z.string() });

const fileSchema = z.strictObject({
  route: routeSchema.optional(),
  inhibit_rules: z.array(inhibitRuleSchema).optional(),
  time_intervals: z.array(namedTimeIntervalSchema).optional(),
  mute_time_intervals: z.array(namedTimeIntervalSchema).optional(),
  receivers: z.array(receiverSchema).optional(),
  // Alertmanager's own settings: accepted so the same file serves both, and not used.
  global: z.unknown().optional(),
  templates: z.unknown().optional(),
  tracing: z.unknown().optional(),
});
type RawFile = z.output<typeof fileSchema>;

/** Collects problems with their dotted paths while the file is read. */
class Reader {
  readonly errors: ConfigError[] = [];
  readonly warnings: string[] = [];

  error(path: string, message: string): void {
    this.errors.push({ path, message });
  }

  matchers(path: string, lines: string[] | undefined): Matcher[] {
    const out: Matcher[] = [];
    lines?.forEach((line, i) => {
      try {
        out.push(...parseMatchers(line));
      } catch (err) {
        if (!(err instanceof MatcherError)) throw err;
        this.error(`${path}[${i}]`, err.message);
      }
    });
    return out;
  }

  legacyMatchers(
    path: string,
    match: Record<string, string> | undefined,
    matchRe: Record<string, string> | undefined,
  ) {
    try {
      return matchersFromMaps(match, matchRe);
    } catch (err) {
      if (!(err instanceof MatcherError)) throw err;
      this.error(path, err.message);
      return [];
    }
  }

  duration(path: string, text: string | undefined, positive: boolean): number | undefined {
    if (text === undefined) return undefined;
    let ms: number;
    try {
      ms = parsePrometheusDuration(text);
    } catch (err) {
      this.error(path, `${(err as Error).message}; expected a duration like "30s" or "1h30m"`);
      return undefined;
    }
    if (positive && ms === 0) this.error(path, 'cannot be zero');
    return ms;
  }

  groupBy(path: string, labels: string[] | undefined): string[] | 'all' | undefined {
    if (labels === undefined) return undefined;
    const seen = new Set<string>();
    labels.forEach((label, i) => {
      if (seen.has(label))
        this.error(`${path}[${i}]`, `duplicated label ${JSON.stringify(label)} in group_by`);
      if (label === '') this.error(`${path}[${i}]`, 'empty label name');
      seen.add(label);
    });
    if (!seen.has(GROUP_BY_ALL)) return labels;
    if (labels.length > 1)
      this.error(path, "cannot have wildcard group_by ('...') and other labels at the same time");
    return 'all';
  }

  route(path: string, raw: RawRoute): RouteConfig {
    return {
      receiver: raw.receiver || undefined,
      groupBy: this.groupBy(`${path}.group_by`, raw.group_by),
      continue: raw.continue ?? false,
      matchers: [
        ...this.legacyMatchers(path, raw.match, raw.match_re),
        ...this.matchers(`${path}.matchers`, raw.matchers),
      ],
      groupWaitMs: this.duration(`${path}.group_wait`, raw.group_wait, false),
      groupIntervalMs: this.duration(`${path}.group_interval`, raw.group_interval, true),
      repeatIntervalMs: this.duration(`${path}.repeat_interval`, raw.repeat_interval, true),
      muteTimeIntervals: raw.mute_time_intervals ?? [],
      activeTimeIntervals: raw.active_time_intervals ?? [],
      routes: (raw.routes ?? []).map((child, i) => this.route(`${path}.routes[${i}]`, child)),
    };
  }

  inhibitRule(path: string, raw: z.output<typeof inhibitRuleSchema>): InhibitRuleConfig {
    return {
      sourceMatchers: [
        ...this.legacyMatchers(path, raw.source_match, raw.source_match_re),
        ...this.matchers(`${path}.source_matchers`, raw.source_matchers),
      ],
      targetMatchers: [
        ...this.legacyMatchers(path, raw.target_match, raw.target_match_re),
        ...this.matchers(`${path}.target_matchers`, raw.target_matchers),
      ],
      equal: raw.equal ?? [],
    };
  }

  timeIntervals(raw: RawFile): Map<string, TimeInterval[]> {
    const intervals = new Map<string, TimeInterval[]>();
    for (const key of ['time_intervals', 'mute_time_intervals'] as const) {
      raw[key]?.forEach((named, i) => {
        const path = `${key}[${i}]`;
        if (intervals.has(named.name))
          this.error(`${path}.name`, `time interval ${JSON.stringify(named.name)} is not unique`);
        const list = named.time_intervals.map((interval, j) =>
          parseTimeInterval(interval, `${path}.time_intervals[${j}]`, this.errors),
        );
        intervals.set(named.name, list);
      });
    }
    return intervals;
  }

  receivers(raw: RawFile): string[] | undefined {
    if (!raw.receivers) return undefined;
    const names: string[] = [];
    raw.receivers.forEach((receiver, i) => {
      if (!receiver.name) this.error(`receivers[${i}].name`, 'missing name in receiver');
      else if (names.includes(receiver.name)) {
        this.error(`receivers[${i}].name`, `receiver ${JSON.stringify(receiver.name)} is not unique`);
      }
      names.push(receiver.name);
      const ignored = Object.keys(receiver).filter((key) => key !== 'name');
      if (ignored.length > 0) {
        this.warnings.push(
          `receivers[${i}] (${receiver.name}): ${ignored.join(', ')} ignored; the receiver name picks a chat robot`,
        );
      }
    });
    return names;
  }

  /** Checks that need the whole tree: references, and the root's restrictions. */
  checkTree(
    path: string,
    route: RouteConfig,
    receivers: string[] | undefined,
    intervals: TimeIntervals,
    inherited: { groupIntervalMs: number; repeatIntervalMs: number },
  ): void {
    if (route.receiver !== undefined && receivers && !receivers.includes(route.receiver)) {
      this.error(`${path}.receiver`, `undefined receiver ${JSON.stringify(route.receiver)} used in route`);
    }
    for (const key of ['mute_time_intervals', 'active_time_intervals'] as const) {
      const names = key === 'mute_time_intervals' ? route.muteTimeIntervals : route.activeTimeIntervals;
      names.forEach((name, i) => {
        if (!intervals.has(name))
          this.error(`${path}.${key}[${i}]`, `undefined time interval ${JSON.stringify(name)} used in route`);
      });
    }
    const groupIntervalMs = route.groupIntervalMs ?? inherited.groupIntervalMs;
    const repeatIntervalMs = route.repeatIntervalMs ?? inherited.repeatIntervalMs;
    if (
      repeatIntervalMs < groupIntervalMs &&
      (route.groupIntervalMs ?? route.repeatIntervalMs) !== undefined
    ) {
      this.warnings.push(
        `${path}: repeat_interval is less than group_interval; notifications will not repeat until the next group_interval`,
      );
    }
    route.routes.forEach((child, i) => {
      this.checkTree(`${path}.routes[${i}]`, child, receivers, intervals, {
        groupIntervalMs,
        repeatIntervalMs,
      });
    });
  }

  checkRoot(root: RawRoute): void {
    if (!root.receiver) this.error('route.receiver', 'root route must specify a default receiver');
    if (root.match || root.match_re || root.matchers?.length)
      this.error('route', 'root route must not have any matchers');
    if (root.mute_time_intervals?.length)
      this.error('route.mute_time_intervals', 'root route must not have any mute time intervals');
    if (root.active_time_intervals?.length) {
      this.error('route.active_time_intervals', 'root route must not have any active time intervals');
    }
  }
}

function read(raw: RawFile): { config: AlertmanagerConfig; errors: ConfigError[] } {
  const reader = new Reader();
  if (!raw.route) reader.error('route', 'no routes provided');
  const rawRoute = raw.route ?? {};
  reader.checkRoot(rawRoute);
  const route = reader.route('route', rawRoute);
  route.groupWaitMs ??= ROUTE_DEFAULTS.groupWaitMs;
  route.groupIntervalMs ??= ROUTE_DEFAULTS.groupIntervalMs;
  route.repeatIntervalMs ??= ROUTE_DEFAULTS.repeatIntervalMs;
  route.groupBy ??= [];
  const timeIntervals = reader.timeIntervals(raw);
  const receivers = reader.receivers(raw);
  reader.checkTree('route', route, receivers, timeIntervals, {
    groupIntervalMs: route.groupIntervalMs,
    repeatIntervalMs: route.repeatIntervalMs,
  });
  const inhibitRules = (raw.inhibit_rules ?? []).map((rule, i) =>
    reader.inhibitRule(`inhibit_rules[${i}]`, rule),
  );
  return {
    config: { route, inhibitRules, timeIntervals, receivers, warnings: reader.warnings },
    errors: reader.errors,
  };
}

/**
 * Reads an Alertmanager configuration file's text. Throws ConfigInvalidError
 * listing every problem with the dotted path of the value it concerns;
 * `source` names the file in that error.
 */
export function parseAlertmanagerConfig(text: string, source: string): AlertmanagerConfig {
  const yaml = parseYaml(text);
  if (!yaml.ok) throw new ConfigInvalidError(source, yaml.errors);
  const checked = validate(fileSchema, yaml.value ?? {});
  if (!checked.ok) throw new ConfigInvalidError(source, checked.errors);
  const { config, errors } = read(checked.value);
  if (errors.length > 0) throw new ConfigInvalidError(source, errors);
  return config;
}
