import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/log.ts';
import type { GaugeSeries, Metrics } from '../../core/metrics.ts';
import type { Alert } from '../rules/alert.ts';
import type { AlertNotifier, Labels } from '../types.ts';
import type { Assignment, BatchReceipt, ResultBatch } from './agent-protocol.ts';
import { type AgentLocationStatus, AgentWatch } from './agent-watch.ts';
import { type AgentsConfig, agentsSchema } from './agents-config.ts';
import { type HistoryJson, ProbeHistory, type Uptime } from './history.ts';
import { type Combined, combineLocations } from './locations.ts';
import { PROBE_AGENT_METRICS as A, PROBE_SCHEDULER_METRICS as M } from './metrics.ts';
import { type ProbeAlertSettings, ProbeAlerts, targetOwner } from './probe-alerts.ts';
import {
  PROBE_FILES_VERSION,
  probeFiles,
  restoredAlerts,
  type SavedProbeState,
  savedAlerts,
} from './probe-files.ts';
import { ProbeRunner } from './probe-runner.ts';
import { type ProbeSchedulerConfig, type ProbeTarget, probeSchedulerSchema } from './target-config.ts';
import {
  applyResult,
  initialState,
  REPORTED_STATES,
  type ReportedState,
  reportedState,
  type TargetState,
} from './target-state.ts';
import type { ProbeResult, Prober } from './types.ts';

export interface ProbeSchedulerSettings extends ProbeSchedulerConfig, ProbeAlertSettings {
  agents: AgentsConfig;
}

export const DEFAULT_PROBE_SCHEDULER_SETTINGS: ProbeSchedulerSettings = {
  ...probeSchedulerSchema.parse({}),
  resendDelay: 60_000,
  resolvedRetention: 15 * 60_000,
  externalLabels: {},
  externalURL: '',
  agents: agentsSchema.parse(undefined),
};

export interface ProbeSchedulerOptions {
  prober: Prober;
  clock: Clock;
  /** Where probe alerts go: the same notifier as the rules' alerts. */
  notifier: AlertNotifier;
  /** The state and history files are kept here. */
  dataDir: string;
  settings?: Partial<ProbeSchedulerSettings>;
  metrics: Metrics;
  log: Logger;
}

/** What one location sees of a target probed by agents. */
export interface LocationStatus {
  location: string;
  state: ReportedState;
  since: string | null;
  lastProbeAt: string | null;
  lastFailure: string | null;
  /** False while the location's agents do not report: what it saw counts for nothing. */
  counted: boolean;
}

/** One target as listed by `states()`. */
export interface ProbeStatus {
  id: string;
  target: string;
  module: string;
  state: ReportedState;
  /** When the reported state began; null before the first result. */
  since: string | null;
  lastProbeAt: string | null;
  lastFailure: string | null;
  /** The earliest expiry of the target's certificates at the last probe that showed them; null: none known. */
  certificateExpiresAt: string | null;
  /** Targets probed by agents: each location's own view. */
  locations?: LocationStatus[];
}

/** What `GET /api/probes/:id/results` answers. */
export interface ProbeResultsJson extends ProbeStatus, HistoryJson {
  intervalSeconds: number;
  timeoutSeconds: number;
  labels: Labels;
  receivers: string[];
}

export class ProbeLimitError extends Error {}

/** The place of a target's own probes, run by this process, among its locations. */
export const CENTRE = '';

/** Where a target is probed from: its agents' locations, or the centre itself. */
const placesOf = (target: ProbeTarget) => (target.locations.length > 0 ? target.locations : [CENTRE]);
const historyKey = (id: string, location: string) => (location === CENTRE ? id : `${id}@${location}`);

interface Place {
  state: TargetState;
  /** What `/metrics` shows for the target at this place, in blackbox_exporter's names. */
  latest: ProbeResult | undefined;
}

interface Entry {
  target: ProbeTarget;
  places: Map<string, Place>;
  /** Of a target probed by agents: its state as its locations make it, and since when. */
  combined: Combined;
}

const iso = (ms: number) => (ms === 0 ? null : new Date(ms).toISOString());
const freshPlace = (): Place => ({ state: initialState(), latest: undefined });
const UNKNOWN: Combined = { reported: 'unknown', sinceMs: 0 };

/** How many targets each location probes. */
const countsOf = (byLocation: ReadonlyMap<string, readonly unknown[]>) =>
  new Map([...byLocation].map(([location, entries]) => [location, entries.length]));

function sumUptime(parts: readonly Uptime[]): Uptime {
  const probes = parts.reduce((n, u) => n + u.probes, 0);
  const successes = parts.reduce((n, u) => n + u.successes, 0);
  return { ratio: probes === 0 ? null : successes / probes, probes, successes };
}

/**
 * The targets' state, history and alerts. Targets without locations are
 * probed here by a ProbeRunner; those with locations are probed by the
 * agents there, whose results come in through `report`, each location
 * holding its own state and the target down when `locationsDown` of them see
 * it down. State and history are saved in batches and restored at start.
 */
export class ProbeScheduler {
  private readonly options: ProbeSchedulerOptions;
  private readonly settings: ProbeSchedulerSettings;
  private readonly log: Logger;
  private readonly entries = new Map<string, Entry>();
  private readonly runner: ProbeRunner<ProbeTarget>;
  private readonly history: ProbeHistory;
  private readonly alerts: ProbeAlerts;
  private readonly agents: AgentWatch;
  private readonly files;
  private readonly agentResults;
  private readonly stopping = new AbortController();
  private loops: Promise<void>[] = [];
  private stateChanged = false;
  private historyChanged = false;

  constructor(options: ProbeSchedulerOptions) {
    this.options = options;
    this.settings = { ...DEFAULT_PROBE_SCHEDULER_SETTINGS, ...options.settings };
    this.log = options.log;
    const { metrics, clock } = options;
    this.runner = new ProbeRunner({
      prober: options.prober,
      clock,
      settings: this.settings,
      metrics,
      log: this.log,
      onResult: (target, result) => this.recordOwn(target, result),
    });
    metrics.seriesGauge(M.targets, () => this.targetsByState());
    this.agentResults = metrics.counter(A.results);
    this.history = new ProbeHistory(this.settings.resultsPerTarget);
    this.alerts = new ProbeAlerts({
      notifier: options.notifier,
      settings: this.settings,
      sent: metrics.counter(M.alertsSent),
    });
    this.agents = new AgentWatch({
      settings: { ...this.settings.agents, ...this.settings },
      clock,
      notifier: options.notifier,
      metrics,
      log: this.log,
    });
    this.files = probeFiles({ ...this.settings, dataDir: options.dataDir, log: this.log, metrics });
  }

  /**
   * Takes `targets` (and any added before), gives them their saved state,
   * alerts and history, and starts probing. Saved targets not among them are
   * forgotten.
   */
  async start(targets: readonly ProbeTarget[] = []): Promise<void> {
    for (const target of targets) this.upsert(target);
    await this.restore();
    this.runner.start();
    const { stateSaveInterval, historySaveInterval } = this.settings;
    this.loops = [
      this.every(stateSaveInterval, () => this.saveState()),
      this.every(historySaveInterval, () => this.saveHistory()),
      this.every(this.agents.checkIntervalMs, async () => this.checkAgents()),
    ];
    this.log.info({ targets: this.entries.size }, 'Probes started');
  }

  /** Stops probing (probes under way are aborted, their results dropped) and saves state and history. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.runner.stop();
    await Promise.all(this.loops);
    await Promise.all([this.saveState(true), this.saveHistory(true)]);
  }

  /**
   * Adds a target or changes one (by id). A new target or module starts
   * afresh (a probe under way is aborted and its result dropped); other
   * changes keep the state, and a new interval takes effect at once.
   */
  upsert(target: ProbeTarget): void {
    let entry = this.entries.get(target.id);
    if (!entry) {
      if (this.entries.size >= this.settings.maxTargets)
        throw new ProbeLimitError(
          `at most ${this.settings.maxTargets} probe targets are allowed (maxTargets)`,
        );
      entry = { target, places: new Map(), combined: UNKNOWN };
      this.entries.set(target.id, entry);
    }
    const before = entry.target;
    entry.target = target;
    if (before.target !== target.target || before.moduleName !== target.moduleName) {
      for (const location of entry.places.keys()) this.history.remove(historyKey(target.id, location));
      entry.places.clear();
      entry.combined = UNKNOWN;
      this.historyChanged = true;
    }
    const wanted = new Set(placesOf(target));
    for (const location of [...entry.places.keys()]) {
      if (wanted.has(location)) continue;
      entry.places.delete(location);
      this.history.remove(historyKey(target.id, location));
      this.historyChanged = true;
    }
    for (const location of wanted) if (!entry.places.has(location)) entry.places.set(location, freshPlace());
    if (target.locations.length > 0) this.runner.remove(target.id);
    else this.runner.upsert(target);
    this.stateChanged = true;
  }

  /** Removes a target: a probe under way is aborted and its result dropped; its firing alerts are sent resolved. */
  remove(id: string): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.entries.delete(id);
    this.runner.remove(id);
    for (const location of entry.places.keys()) this.history.remove(historyKey(id, location));
    this.alerts.remove(targetOwner(entry.target), this.options.clock.now());
    this.stateChanged = true;
    this.historyChanged = true;
    return true;
  }

  /** Every alert held goes to the notifier now, as if never sent: call it when the notifier's target is new. */
  sendAllAgain(): void {
    const now = this.options.clock.now();
    this.alerts.sendAllAgain(now);
    this.agents.sendAllAgain(now);
  }

  get size(): number {
    return this.entries.size;
  }

  states(): ProbeStatus[] {
    return [...this.entries.values()].map((entry) => this.status(entry));
  }

  /** One target's status; undefined for an unknown id. */
  stateOf(id: string): ProbeStatus | undefined {
    const entry = this.entries.get(id);
    return entry && this.status(entry);
  }

  /** The probes' firing alerts, as the rules' are listed by `/api/alerts`. */
  firingAlerts(): Alert[] {
    return this.alerts.firing();
  }

  /** The last result of every target at each place probed since the start. */
  *latestResults(): Generator<{ target: ProbeTarget; result: ProbeResult; location?: string }> {
    for (const { target, places } of this.entries.values())
      for (const [location, { latest }] of places)
        if (latest) yield { target, result: latest, ...(location === CENTRE ? {} : { location }) };
  }

  /** What `GET /api/probes/:id/results` answers; undefined for an unknown id. */
  results(id: string): ProbeResultsJson | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    const { target } = entry;
    const now = this.options.clock.now();
    const histories = [...entry.places.keys()].map((location) => ({
      location,
      ...this.history.json(historyKey(id, location), now),
    }));
    const uptime = Object.fromEntries(
      Object.keys(histories[0]?.uptime ?? {}).map((window) => [
        window,
        sumUptime(histories.map((h) => h.uptime[window as keyof HistoryJson['uptime']])),
      ]),
    ) as HistoryJson['uptime'];
    const results = histories
      .flatMap(({ location, results }) =>
        results.map((result) => (location === CENTRE ? result : { ...result, location })),
      )
      .sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt))
      .slice(0, this.settings.resultsPerTarget);
    return {
      ...this.status(entry),
      intervalSeconds: target.intervalMs / 1000,
      timeoutSeconds: target.timeoutMs / 1000,
      labels: { ...target.labels },
      receivers: [...target.receivers],
      uptime,
      results,
    };
  }

  /** The targets a location's agents probe, with their modules as written. */
  assignment(location: string): Assignment {
    this.agents.seen(location);
    const targets: Assignment['targets'] = [];
    const modules: Assignment['modules'] = {};
    for (const { target } of this.entries.values()) {
      if (!target.locations.includes(location)) continue;
      const { id, moduleName, module, intervalMs, timeoutMs } = target;
      targets.push({ id, target: target.target, module: moduleName, intervalMs, timeoutMs });
      // A module built in code has no text: its prober and timeout stand for it.
      modules[moduleName] ??= module.source ?? { prober: module.prober, timeout: `${module.timeoutMs}ms` };
    }
    return { location, targets, modules };
  }

  /** The locations targets name or agents reported from, and whether their agents report. */
  agentLocations(): AgentLocationStatus[] {
    return this.agents.locations(countsOf(this.entriesByLocation()));
  }

  /**
   * Takes a batch of an agent's results. A result sent before is ignored; one
   * that arrives more than `lateAfterIntervals` intervals after it was taken
   * (or older than the location's state by more than half an interval) goes
   * into the history as late and
   * moves no state; the others move their location's state, and the
   * target's alerts follow what its locations together see. Times are moved
   * to this clock by the batch's `sentAtMs`, so the two clocks need not agree.
   */
  report(batch: ResultBatch): BatchReceipt {
    const now = this.options.clock.now();
    const { agent, location } = batch;
    this.agents.seen(location);
    const receipt: BatchReceipt = { accepted: 0, late: 0, duplicates: 0, ignored: 0 };
    const offsetMs = now - batch.sentAtMs;
    const touched = new Set<Entry>();
    let lost = 0;
    for (const reported of batch.results) {
      const sequenced = this.agents.sequence(agent, location, reported.seq);
      if (sequenced.duplicate) {
        receipt.duplicates++;
        continue;
      }
      lost += sequenced.lost;
      const entry = this.entries.get(reported.probe);
      const place = entry?.places.get(location);
      if (
        !entry ||
        !place ||
        entry.target.target !== reported.target ||
        entry.target.moduleName !== reported.module
      ) {
        receipt.ignored++;
        continue;
      }
      const result: ProbeResult = {
        success: reported.success,
        ...(reported.failure === undefined ? {} : { failure: reported.failure }),
        startedAtMs: reported.startedAtMs + offsetMs,
        durationMs: reported.durationMs,
        samples: reported.samples,
        ...(reported.certificateExpiresAtMs === undefined
          ? {}
          : { certificateExpiresAtMs: reported.certificateExpiresAtMs }),
      };
      const endedAtMs = Math.min(now, result.startedAtMs + result.durationMs);
      const ageMs = batch.sentAtMs - (reported.startedAtMs + reported.durationMs);
      const { intervalMs } = entry.target;
      // Half an interval of slack: the clocks' difference is measured per batch, give or take the network's delay.
      const late =
        ageMs > this.settings.agents.lateAfterIntervals * intervalMs ||
        endedAtMs < place.state.lastResultAtMs - intervalMs / 2;
      this.history.record(historyKey(entry.target.id, location), result, late);
      this.historyChanged = true;
      if (late) {
        receipt.late++;
        continue;
      }
      receipt.accepted++;
      place.latest = result;
      const change = applyResult(place.state, result, entry.target, endedAtMs);
      if (change) this.logChange(entry.target, change, result.failure, location);
      touched.add(entry);
    }
    for (const entry of touched) this.updateCombined(entry, now);
    // The agents' sequence numbers are in the state too: a batch sent again after a restart is recognised.
    if (receipt.duplicates < batch.results.length) this.stateChanged = true;
    this.countResults(location, receipt, lost);
    return receipt;
  }

  private countResults(location: string, receipt: BatchReceipt, lost: number): void {
    const counts = { ...receipt, lost };
    const status = {
      accepted: 'accepted',
      late: 'late',
      duplicates: 'duplicate',
      ignored: 'ignored',
      lost: 'lost',
    };
    for (const [key, value] of Object.entries(counts))
      if (value > 0) this.agentResults.inc({ location, status: status[key as keyof typeof status] }, value);
  }

  private targetsByState(): GaugeSeries[] {
    const counts = new Map<ReportedState, number>(REPORTED_STATES.map((state) => [state, 0]));
    const now = this.options.clock.now();
    for (const entry of this.entries.values()) {
      const reported = reportedState(this.combinedState(entry, now).state);
      counts.set(reported, (counts.get(reported) ?? 0) + 1);
    }
    return [...counts].map(([state, value]) => ({ labels: { state }, value }));
  }

  /** A target's state: its own for one probed here, else what its counted locations together see. */
  private combinedState(entry: Entry, nowMs: number) {
    const own = entry.places.get(CENTRE);
    if (own) return { state: own.state, seen: undefined, combined: entry.combined };
    const places = [...entry.places].map(([location, { state }]) => ({
      location,
      state,
      counted: this.counts(entry.target, location, state, nowMs),
    }));
    return combineLocations(entry.target, places, entry.combined, nowMs);
  }

  /**
   * Whether what a location sees of a target counts: not while its agents
   * are silent, nor when its last result is older than `downAfter` or three
   * intervals (an agent back after a silence counts again with its next
   * result, not with what it saw before).
   */
  private counts(target: ProbeTarget, location: string, state: TargetState, nowMs: number): boolean {
    const staleAfterMs = Math.max(this.settings.agents.downAfter, 3 * target.intervalMs);
    const fresh = state.lastResultAtMs === 0 || nowMs - state.lastResultAtMs <= staleAfterMs;
    return fresh && this.agents.isUp(location, nowMs);
  }

  private status(entry: Entry): ProbeStatus {
    const { target } = entry;
    const now = this.options.clock.now();
    const own = { id: target.id, target: target.target, module: target.moduleName };
    const { state } = this.combinedState(entry, now);
    const combined = { ...describe(state), certificateExpiresAt: iso(state.certificateExpiresAtMs) };
    if (entry.places.has(CENTRE)) return { ...own, ...combined };
    const locations = [...entry.places].map(([location, place]) => ({
      location,
      ...describe(place.state),
      counted: this.counts(target, location, place.state, now),
    }));
    return { ...own, ...combined, locations };
  }

  /** A target probed by agents: its combined state moved on, its alerts brought in line with it. */
  private updateCombined(entry: Entry, nowMs: number): void {
    const { state, seen, combined } = this.combinedState(entry, nowMs);
    if (combined.reported !== entry.combined.reported)
      this.logChange(
        entry.target,
        { from: entry.combined.reported, to: combined.reported },
        state.lastFailure,
      );
    entry.combined = combined;
    this.alerts.update(entry.target, state, nowMs, seen);
  }

  private logChange(
    target: ProbeTarget,
    change: { from: ReportedState; to: ReportedState },
    failure: string | undefined,
    location?: string,
  ): void {
    this.log.info(
      { probe: target.id, target: target.target, location, from: change.from, to: change.to, failure },
      location ? 'Probe target state changed at a location' : 'Probe target state changed',
    );
  }

  /** The locations targets name, with their targets. */
  private entriesByLocation(): Map<string, Entry[]> {
    const found = new Map<string, Entry[]>();
    for (const entry of this.entries.values())
      for (const location of entry.target.locations) {
        const list = found.get(location);
        if (list) list.push(entry);
        else found.set(location, [entry]);
      }
    return found;
  }

  /** A location that fell silent or came back changes how its targets are judged. */
  private checkAgents(): void {
    const byLocation = this.entriesByLocation();
    const changed = this.agents.check(countsOf(byLocation));
    const now = this.options.clock.now();
    for (const location of changed)
      for (const entry of byLocation.get(location) ?? []) this.updateCombined(entry, now);
    if (changed.length > 0) this.stateChanged = true;
  }

  private recordOwn(target: ProbeTarget, result: ProbeResult): void {
    const entry = this.entries.get(target.id);
    const place = entry?.places.get(CENTRE);
    if (!entry || !place) return;
    const now = this.options.clock.now();
    this.history.record(target.id, result);
    place.latest = result;
    const change = applyResult(place.state, result, target, now);
    if (change) this.logChange(target, change, result.failure);
    this.alerts.update(target, place.state, now);
    this.stateChanged = true;
    this.historyChanged = true;
  }

  private async every(ms: number, work: () => Promise<void>): Promise<void> {
    const { clock } = this.options;
    while (!this.stopping.signal.aborted) {
      await clock.sleep(ms, this.stopping.signal);
      if (!this.stopping.signal.aborted) await work();
    }
  }

  private async saveState(final = false): Promise<void> {
    if (!this.stateChanged && !final) return;
    this.stateChanged = false;
    await this.files.state.save([
      () => ({
        version: PROBE_FILES_VERSION,
        savedAtMs: this.options.clock.now(),
        agents: this.agents.snapshot(),
        targets: this.savedTargets(),
      }),
    ]);
  }

  private *savedTargets(): Generator<SavedProbeState['targets'][number]> {
    for (const { target, places, combined } of this.entries.values()) {
      const own = places.get(CENTRE);
      yield {
        id: target.id,
        target: target.target,
        module: target.moduleName,
        state: own?.state ?? initialState(),
        alerts: savedAlerts(this.alerts.alertsOf(target.id)),
        ...(own
          ? {}
          : {
              locations: [...places].map(([location, { state }]) => ({ location, state })),
              combined,
            }),
      };
    }
  }

  private async saveHistory(final = false): Promise<void> {
    if (!this.historyChanged && !final) return;
    this.historyChanged = false;
    const snapshot = (withResults: boolean) => () => ({
      version: PROBE_FILES_VERSION,
      savedAtMs: this.options.clock.now(),
      targets: this.history.snapshot(withResults),
    });
    await this.files.history.save([snapshot(true), snapshot(false)]);
  }

  /**
   * The saved state and alerts of each target whose target and module are
   * unchanged; a changed target starts afresh, and its saved alerts are
   * resolved by its first result.
   */
  private async restore(): Promise<void> {
    const [saved, savedHistory] = await Promise.all([this.files.state.load(), this.files.history.load()]);
    const changed = new Set<string>();
    let restored = 0;
    for (const { id, target, module, state, alerts, locations, combined } of saved?.targets ?? []) {
      const entry = this.entries.get(id);
      if (!entry) continue;
      this.alerts.adopt(targetOwner(entry.target), restoredAlerts(alerts));
      if (entry.target.target !== target || entry.target.moduleName !== module) {
        changed.add(id);
        continue;
      }
      const own = entry.places.get(CENTRE);
      if (own) own.state = state;
      for (const { location, state: seen } of locations ?? []) {
        const place = entry.places.get(location);
        if (place) place.state = seen;
      }
      if (combined && !own) entry.combined = combined;
      restored++;
    }
    if (saved?.agents) this.agents.restore(saved.agents);
    if (savedHistory)
      this.history.restore(savedHistory.targets, (key) => {
        const at = key.indexOf('@');
        const id = at < 0 ? key : key.slice(0, at);
        const location = at < 0 ? CENTRE : key.slice(at + 1);
        return !changed.has(id) && (this.entries.get(id)?.places.has(location) ?? false);
      });
    if (saved) this.log.info({ restored, saved: saved.targets.length }, 'Probe state restored');
  }
}

/** The status fields of one state. */
function describe(state: TargetState) {
  const reported = reportedState(state);
  return {
    state: reported,
    since: iso(reported === 'flapping' ? state.flappingSinceMs : state.healthSinceMs),
    lastProbeAt: iso(state.lastResultAtMs),
    lastFailure: state.lastFailure || null,
  };
}
