import type { Counter, Gauge } from 'prom-client';
import { type Clock, systemClock } from '../../core/clock.ts';
import type { Logger } from '../../core/log.ts';

/**
 * Where groups gather, like a route of Alertmanager's: news of any group of a
 * scope opens a window of the scope's group wait, and the groups whose news
 * fell into it are told together when it ends.
 */
export interface GroupScope {
  /** Stable while the configuration does not change; also the first part of every group key. */
  readonly id: string;
  readonly groupWaitMs: number;
  /** Overrides the engine's group interval for this scope's groups (an Alertmanager route's own). */
  readonly groupIntervalMs?: number;
  /** Overrides the engine's repeat interval for this scope's groups. */
  readonly repeatIntervalMs?: number;
}

export interface GroupingSettings {
  /** After a group was told, its further news waits this long and then goes out as one update. */
  groupIntervalMs: number;
  /**
   * A group told and unchanged since is told again after this long. Without it a group quiet for
   * two group intervals is forgotten instead, and a recurrence is news again.
   */
  repeatIntervalMs?: number | undefined;
  /** More groups than this with one digest key in one window are told as one digest. */
  digestThreshold: number;
  /** Groups kept at most; beyond it the least recently touched is forgotten (counted when it held news). */
  maxGroups: number;
}

/** A group as it is told. */
export interface DueGroup<S> {
  /** The scope's id and the caller's key. */
  readonly key: string;
  readonly state: S;
  /** When it was last told; undefined for its first message. */
  readonly sentAt: number | undefined;
  /** Nothing new since it was last told: the repeat interval has passed. */
  readonly repeat: boolean;
  /** Its news is its end (Alertmanager's resolved): it is forgotten once told. */
  readonly resolved: boolean;
}

/** A group as it stands, for people watching the engine. */
export interface GroupStatus<Scope, S> {
  readonly scope: Scope;
  readonly state: S;
  /** When it was last told; undefined before its first message. */
  readonly sentAt: number | undefined;
  /** When its next message is due: its news, or its repeat; undefined when nothing will be told. */
  readonly dueAt: number | undefined;
}

export interface GroupingMetrics {
  /** Groups forgotten at the cap while they held untold news (that news is lost). */
  evicted: Counter;
  /** Groups remembered. */
  groups: Gauge;
}

export interface GroupingOptions<Scope extends GroupScope, S> {
  settings: GroupingSettings;
  /** Tells one group; its news is told afterwards whatever happens. */
  tell(scope: Scope, group: DueGroup<S>, now: number): void;
  /** Groups of one window sharing a digest key (the event router: their reason); without it none are digested. */
  digestKey?(state: S): string;
  /** Tells more than `digestThreshold` groups sharing a digest key as one message. */
  tellDigest?(scope: Scope, digestKey: string, groups: DueGroup<S>[], now: number): void;
  /** Called at each sweep of quiet groups, for state the caller keeps beside the groups. */
  onSweep?(now: number): void;
  /** What the groups are, for the log line about the cap: "event groups". */
  noun: string;
  clock?: Clock;
  log?: Logger;
  metrics?: GroupingMetrics;
}

export interface AddOptions<S> {
  /** The state of a group seen for the first time. */
  create(): S;
  /** Merges the news into the group's state (new or not). */
  update(state: S): void;
  /** The news ends the group (all its alerts resolved); further news revives it. */
  resolved?: boolean;
}

interface Group<Scope extends GroupScope, S> {
  key: string;
  scope: ScopeState<Scope, S>;
  state: S;
  /** Holds news not told yet. */
  news: boolean;
  resolved: boolean;
  /** The end of the scope window the news joined. */
  windowEnd: number;
  sentAt: number | undefined;
}

interface ScopeState<Scope extends GroupScope, S> {
  /** The scope as of the newest news: a reload may change it. */
  scope: Scope;
  /** Groups waiting to be told: with news, or for their repeat. */
  waiting: Set<Group<Scope, S>>;
  /** The open window's end; news arriving before it is told together at it. */
  windowEnd: number;
  timer: { at: number; abort: AbortController } | undefined;
}

const EVICTION_LOG_INTERVAL_MS = 60_000;

/**
 * Groups news for chat the way Alertmanager groups alerts, because a robot
 * allows 20 messages a minute and people read even fewer: group wait (a
 * window per scope, so a burst reads as one batch), group interval (an update
 * at most this often), repeat interval, resolved, digests of many groups
 * alike, and a cap on groups that bounds memory whatever the load. What a
 * group holds and how it reads are the caller's: this keeps only the times.
 */
export class GroupingEngine<Scope extends GroupScope, S> {
  private readonly options: GroupingOptions<Scope, S>;
  private readonly clock: Clock;
  private settings: GroupingSettings;
  /** Least recently touched first, so the cap evicts the stalest group. */
  private readonly groups = new Map<string, Group<Scope, S>>();
  private readonly scopes = new Map<string, ScopeState<Scope, S>>();
  private lastSweep: number;
  private evictedUnlogged = 0;
  private evictionLoggedAt = Number.NEGATIVE_INFINITY;
  private stopped = false;

  constructor(options: GroupingOptions<Scope, S>) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.settings = options.settings;
    this.lastSweep = this.clock.now();
  }

  /** Groups remembered now. */
  get size(): number {
    return this.groups.size;
  }

  /** The groups remembered now, the most recently touched first. */
  list(): GroupStatus<Scope, S>[] {
    const groups = [...this.groups.values()].reverse();
    return groups.map((group) => {
      const due = group.scope.waiting.has(group) ? this.dueAt(group) : Number.POSITIVE_INFINITY;
      return {
        scope: group.scope.scope,
        state: group.state,
        sentAt: group.sentAt,
        dueAt: Number.isFinite(due) ? due : undefined,
      };
    });
  }

  /** New settings from a reload; they apply to what is waiting too. */
  configure(settings: GroupingSettings): void {
    this.settings = settings;
    while (this.groups.size > settings.maxGroups) this.evictOldest();
    this.options.metrics?.groups.set(this.groups.size);
    for (const scope of this.scopes.values()) this.reschedule(scope);
  }

  /** Forgets quiet groups when an interval has passed since the last sweep. */
  maintain(): void {
    const now = this.clock.now();
    if (now - this.lastSweep >= this.settings.groupIntervalMs) this.sweep(now);
  }

  /** Takes news of the group `key` in `scope`; ignored after stop. */
  add(scope: Scope, key: string, news: AddOptions<S>): void {
    if (this.stopped) return;
    this.maintain();
    const now = this.clock.now();
    const state = this.scopeState(scope);
    const fullKey = `${scope.id} ${key}`;
    let group = this.groups.get(fullKey);
    if (group) {
      this.groups.delete(fullKey);
    } else {
      if (this.groups.size >= this.settings.maxGroups) this.evictOldest();
      group = {
        key: fullKey,
        scope: state,
        state: news.create(),
        news: false,
        resolved: false,
        windowEnd: 0,
        sentAt: undefined,
      };
    }
    this.groups.set(fullKey, group);
    news.update(group.state);
    group.resolved = news.resolved ?? false;
    if (!group.news) {
      if (state.windowEnd <= now) state.windowEnd = now + scope.groupWaitMs;
      group.windowEnd = state.windowEnd;
      group.news = true;
      state.waiting.add(group);
    }
    const due = this.dueAt(group);
    if (!state.timer || due < state.timer.at) this.schedule(state, due);
    this.options.metrics?.groups.set(this.groups.size);
  }

  /** Forgets the group `key` of `scope` (its caller found nothing left in it), told or not. */
  forget(scope: Scope, key: string): void {
    const group = this.groups.get(`${scope.id} ${key}`);
    if (!group) return;
    this.remove(group);
    this.options.metrics?.groups.set(this.groups.size);
  }

  /** Tells every group's news now, due or not (on shutdown), and cancels the timers. */
  flush(): void {
    const now = this.clock.now();
    for (const scope of this.scopes.values()) {
      this.cancelTimer(scope);
      this.deliver(
        scope,
        [...scope.waiting].filter((group) => group.news),
        now,
      );
    }
  }

  /** Cancels the timers; what waits is not told, and later news is ignored. */
  stop(): void {
    this.stopped = true;
    for (const scope of this.scopes.values()) this.cancelTimer(scope);
  }

  private scopeState(scope: Scope): ScopeState<Scope, S> {
    let state = this.scopes.get(scope.id);
    if (!state) {
      state = { scope, waiting: new Set(), windowEnd: 0, timer: undefined };
      this.scopes.set(scope.id, state);
    }
    state.scope = scope;
    return state;
  }

  /** News goes out when its window ends, and not before an interval after the last message; a repeat at its interval. */
  private dueAt(group: Group<Scope, S>): number {
    const { groupIntervalMs, repeatIntervalMs } = this.intervals(group);
    if (!group.news) return (group.sentAt ?? 0) + (repeatIntervalMs ?? Number.POSITIVE_INFINITY);
    const interval = group.sentAt === undefined ? 0 : group.sentAt + groupIntervalMs;
    return Math.max(group.windowEnd, interval);
  }

  private intervals(group: Group<Scope, S>): { groupIntervalMs: number; repeatIntervalMs?: number } {
    const { scope } = group.scope;
    return {
      groupIntervalMs: scope.groupIntervalMs ?? this.settings.groupIntervalMs,
      repeatIntervalMs: scope.repeatIntervalMs ?? this.settings.repeatIntervalMs,
    };
  }

  private schedule(scope: ScopeState<Scope, S>, at: number): void {
    this.cancelTimer(scope);
    const abort = new AbortController();
    scope.timer = { at, abort };
    void this.clock.sleep(Math.max(0, at - this.clock.now()), abort.signal).then(() => {
      if (abort.signal.aborted) return;
      scope.timer = undefined;
      this.fire(scope);
    });
  }

  private cancelTimer(scope: ScopeState<Scope, S>): void {
    scope.timer?.abort.abort();
    scope.timer = undefined;
  }

  private reschedule(scope: ScopeState<Scope, S>): void {
    let next = Number.POSITIVE_INFINITY;
    for (const group of scope.waiting) next = Math.min(next, this.dueAt(group));
    if (Number.isFinite(next)) this.schedule(scope, next);
    else this.cancelTimer(scope);
  }

  private fire(scope: ScopeState<Scope, S>): void {
    const now = this.clock.now();
    this.deliver(
      scope,
      [...scope.waiting].filter((group) => this.dueAt(group) <= now),
      now,
    );
    this.reschedule(scope);
  }

  /** Tells the groups of one window: a digest per digest key with too many groups, else one message each. */
  private deliver(scope: ScopeState<Scope, S>, groups: Group<Scope, S>[], now: number): void {
    const { digestKey, tellDigest, tell } = this.options;
    const byDigest = new Map<string, Group<Scope, S>[]>();
    for (const group of groups) {
      const key = digestKey && tellDigest ? digestKey(group.state) : '';
      const same = byDigest.get(key);
      if (same) same.push(group);
      else byDigest.set(key, [group]);
    }
    for (const [key, same] of byDigest) {
      if (tellDigest && digestKey && same.length > this.settings.digestThreshold) {
        tellDigest(scope.scope, key, same.map(due), now);
      } else {
        for (const group of same) tell(scope.scope, due(group), now);
      }
      for (const group of same) this.told(group, now);
    }
  }

  private told(group: Group<Scope, S>, now: number): void {
    group.sentAt = now;
    group.news = false;
    if (group.resolved) this.remove(group);
    else if (this.intervals(group).repeatIntervalMs === undefined) group.scope.waiting.delete(group);
  }

  private evictOldest(): void {
    const oldest = this.groups.values().next();
    if (oldest.done) return;
    this.remove(oldest.value);
    if (!oldest.value.news) return;
    this.options.metrics?.evicted.inc();
    // At the cap every new group evicts one: one line a minute says it, with how many, instead of a flood.
    this.evictedUnlogged++;
    const now = this.clock.now();
    if (now - this.evictionLoggedAt < EVICTION_LOG_INTERVAL_MS) return;
    this.options.log?.warn(
      { groups: this.evictedUnlogged, maxGroups: this.settings.maxGroups, lastKey: oldest.value.key },
      `too many ${this.options.noun}: forgot the oldest before they were sent`,
    );
    this.evictedUnlogged = 0;
    this.evictionLoggedAt = now;
  }

  private remove(group: Group<Scope, S>): void {
    this.groups.delete(group.key);
    group.scope.waiting.delete(group);
  }

  /**
   * Forgets groups quiet for two intervals (unless they repeat), and scopes with nothing left (a reload
   * may have removed them).
   */
  private sweep(now: number): void {
    this.lastSweep = now;
    for (const group of this.groups.values()) {
      const { groupIntervalMs, repeatIntervalMs } = this.intervals(group);
      if (repeatIntervalMs !== undefined || group.news || group.sentAt === undefined) continue;
      if (now - group.sentAt > 2 * groupIntervalMs) this.remove(group);
    }
    const used = new Set<ScopeState<Scope, S>>();
    for (const group of this.groups.values()) used.add(group.scope);
    for (const [id, scope] of this.scopes) {
      if (!used.has(scope)) {
        this.cancelTimer(scope);
        this.scopes.delete(id);
      }
    }
    this.options.onSweep?.(now);
  }
}

function due<Scope extends GroupScope, S>(group: Group<Scope, S>): DueGroup<S> {
  return {
    key: group.key,
    state: group.state,
    sentAt: group.sentAt,
    repeat: !group.news,
    resolved: group.resolved,
  };
}
