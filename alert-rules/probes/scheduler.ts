import { createHash } from 'node:crypto';
import type { Clock } from '../../core/clock.ts';
import { describeError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { GaugeSeries, Metrics } from '../../core/metrics.ts';
import type { Alert } from '../rules/alert.ts';
import type { AlertNotifier, Labels } from '../types.ts';
import { DueQueue } from './due-queue.ts';
import { type HistoryJson, ProbeHistory } from './history.ts';
import { PROBE_SCHEDULER_METRICS as M } from './metrics.ts';
import { type ProbeAlertSettings, ProbeAlerts } from './probe-alerts.ts';
import {
  PROBE_FILES_VERSION,
  probeFiles,
  restoredAlerts,
  type SavedProbeState,
  savedAlerts,
} from './probe-files.ts';
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

export interface ProbeSchedulerSettings extends ProbeSchedulerConfig, ProbeAlertSettings {}

export const DEFAULT_PROBE_SCHEDULER_SETTINGS: ProbeSchedulerSettings = {
  ...probeSchedulerSchema.parse({}),
  resendDelay: 60_000,
  resolvedRetention: 15 * 60_000,
  externalLabels: {},
  externalURL: '',
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
}

/** What `GET /api/probes/:id/results` answers. */
export interface ProbeResultsJson extends ProbeStatus, HistoryJson {
  intervalSeconds: number;
  timeoutSeconds: number;
  labels: Labels;
  receivers: string[];
  certificateExpiresAt: string | null;
}

export class ProbeLimitError extends Error {}

/** The scheduler sleeps at most this long when nothing is due, and is woken early by a new target. */
const IDLE_SLEEP_MS = 60_000;

/** A stable offset in [0, interval): a hash of the id, so that targets spread and a restart keeps the spread. */
function phaseOf(id: string, intervalMs: number): number {
  return createHash('sha256').update(id).digest().readUIntBE(0, 6) % intervalMs;
}

/** The target's first due time after `afterMs`: its slots are `interval` apart, shifted by its phase. */
export function nextSlot(id: string, intervalMs: number, afterMs: number): number {
  const phase = phaseOf(id, intervalMs);
  const sinceSlot = (((afterMs - phase) % intervalMs) + intervalMs) % intervalMs;
  return afterMs - sinceSlot + intervalMs;
}

interface Entry {
  target: ProbeTarget;
  state: TargetState;
  /** Changes with the interval: due-queue items of an older schedule are ignored. */
  schedule: number;
  /** Changes with what is probed: results and queued starts of older probes are dropped. */
  generation: number;
  running: AbortController | undefined;
  waiting: boolean;
  removed: boolean;
  /** What `/metrics` shows for the target, in blackbox_exporter's names. */
  latest: ProbeResult | undefined;
}

interface Queued {
  entry: Entry;
  version: number;
  dueAtMs: number;
}

const iso = (ms: number) => (ms === 0 ? null : new Date(ms).toISOString());

/**
 * Probes each target on its own interval, at slots spread by a hash of its
 * id; never two probes of one target at once (a probe still running, or
 * still waiting for a slot, when the next is due makes that one skipped);
 * at most `concurrency` probes at once, the rest waiting in due order. Each
 * result moves the target's state (target-state.ts), its history and its
 * alerts; state and history are saved in batches and restored at start.
 */
export class ProbeScheduler {
  private readonly options: ProbeSchedulerOptions;
  private readonly settings: ProbeSchedulerSettings;
  private readonly log: Logger;
  private readonly entries = new Map<string, Entry>();
  private readonly due = new DueQueue<Queued>();
  /** Probes due while every slot is taken, oldest first from `waitingHead`. */
  private waiting: Queued[] = [];
  private waitingHead = 0;
  private waitingCount = 0;
  private runningCount = 0;
  private readonly history: ProbeHistory;
  private readonly alerts: ProbeAlerts;
  private readonly files;
  private readonly metrics;
  private started = false;
  private readonly stopping = new AbortController();
  private wake = new AbortController();
  private sleepingUntil = Number.POSITIVE_INFINITY;
  private loops: Promise<void>[] = [];
  private stateChanged = false;
  private historyChanged = false;

  constructor(options: ProbeSchedulerOptions) {
    this.options = options;
    this.settings = { ...DEFAULT_PROBE_SCHEDULER_SETTINGS, ...options.settings };
    this.log = options.log;
    const { metrics } = options;
    this.metrics = {
      probes: metrics.counter(M.probes),
      skipped: metrics.counter(M.skipped),
      abandoned: metrics.counter(M.abandoned),
      startDelay: metrics.histogram(M.startDelay),
      running: metrics.gauge(M.running),
      waiting: metrics.gauge(M.waiting),
    };
    metrics.seriesGauge(M.targets, () => this.targetsByState());
    this.history = new ProbeHistory(this.settings.resultsPerTarget);
    this.alerts = new ProbeAlerts({
      notifier: options.notifier,
      settings: this.settings,
      sent: metrics.counter(M.alertsSent),
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
    this.started = true;
    for (const entry of this.entries.values()) this.schedule(entry);
    const { stateSaveInterval, historySaveInterval } = this.settings;
    this.loops = [
      this.run(),
      this.every(stateSaveInterval, () => this.saveState()),
      this.every(historySaveInterval, () => this.saveHistory()),
    ];
    this.log.info({ targets: this.entries.size }, 'Probes started');
  }

  /** Stops probing (probes under way are aborted, their results dropped) and saves state and history. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.wake.abort();
    for (const entry of this.entries.values()) entry.running?.abort(new Error('the probes are stopping'));
    await Promise.all(this.loops);
    await Promise.all([this.saveState(true), this.saveHistory(true)]);
  }

  /**
   * Adds a target or changes one (by id). A new target or module starts
   * afresh (a probe under way is aborted and its result dropped); other
   * changes keep the state, and a new interval takes effect at once.
   */
  upsert(target: ProbeTarget): void {
    const entry = this.entries.get(target.id);
    if (!entry) {
      if (this.entries.size >= this.settings.maxTargets)
        throw new ProbeLimitError(
          `at most ${this.settings.maxTargets} probe targets are allowed (maxTargets)`,
        );
      const fresh: Entry = {
        target,
        state: initialState(),
        schedule: 0,
        generation: 0,
        running: undefined,
        waiting: false,
        removed: false,
        latest: undefined,
      };
      this.entries.set(target.id, fresh);
      if (this.started) this.schedule(fresh);
      this.stateChanged = true;
      return;
    }
    const before = entry.target;
    entry.target = target;
    if (before.target !== target.target || before.moduleName !== target.moduleName) {
      this.dropProbe(entry, 'the target changed');
      entry.state = initialState();
      entry.latest = undefined;
      this.history.remove(target.id);
      this.historyChanged = true;
    }
    if (before.intervalMs !== target.intervalMs) {
      entry.schedule++;
      if (this.started) this.schedule(entry);
    }
    this.stateChanged = true;
  }

  /** Removes a target: a probe under way is aborted and its result dropped; its firing alerts are sent resolved. */
  remove(id: string): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.entries.delete(id);
    this.dropProbe(entry, 'the target was removed');
    entry.removed = true;
    this.history.remove(id);
    this.alerts.remove(entry.target, this.options.clock.now());
    this.stateChanged = true;
    this.historyChanged = true;
    return true;
  }

  /** Every alert held goes to the notifier now, as if never sent: call it when the notifier's target is new. */
  sendAllAgain(): void {
    this.alerts.sendAllAgain(this.options.clock.now());
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

  /** The last result of every target probed since the start. */
  *latestResults(): Generator<{ target: ProbeTarget; result: ProbeResult }> {
    for (const { target, latest } of this.entries.values()) if (latest) yield { target, result: latest };
  }

  /** What `GET /api/probes/:id/results` answers; undefined for an unknown id. */
  results(id: string): ProbeResultsJson | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    const { target, state } = entry;
    return {
      ...this.status(entry),
      intervalSeconds: target.intervalMs / 1000,
      timeoutSeconds: target.timeoutMs / 1000,
      labels: { ...target.labels },
      receivers: [...target.receivers],
      certificateExpiresAt: iso(state.certificateExpiresAtMs),
      ...this.history.json(id, this.options.clock.now()),
    };
  }

  private targetsByState(): GaugeSeries[] {
    const counts = new Map<ReportedState, number>(REPORTED_STATES.map((state) => [state, 0]));
    for (const { state } of this.entries.values()) {
      const reported = reportedState(state);
      counts.set(reported, (counts.get(reported) ?? 0) + 1);
    }
    return [...counts].map(([state, value]) => ({ labels: { state }, value }));
  }

  private status({ target, state }: Entry): ProbeStatus {
    const reported = reportedState(state);
    return {
      id: target.id,
      target: target.target,
      module: target.moduleName,
      state: reported,
      since: iso(reported === 'flapping' ? state.flappingSinceMs : state.healthSinceMs),
      lastProbeAt: iso(state.lastResultAtMs),
      lastFailure: state.lastFailure || null,
    };
  }

  private schedule(entry: Entry): void {
    const { id, intervalMs } = entry.target;
    const at = nextSlot(id, intervalMs, this.options.clock.now());
    this.due.push(at, { entry, version: entry.schedule, dueAtMs: at });
    if (at < this.sleepingUntil) this.wake.abort();
  }

  private async run(): Promise<void> {
    const { clock } = this.options;
    while (!this.stopping.signal.aborted) {
      const now = clock.now();
      this.startDue(now);
      this.wake = new AbortController();
      this.sleepingUntil = this.due.peekTime() ?? now + IDLE_SLEEP_MS;
      await clock.sleep(this.sleepingUntil - now, this.wake.signal);
    }
  }

  /** Starts (or queues, or skips) every probe due by `nowMs`, and books each target's next slot. */
  private startDue(nowMs: number): void {
    for (let at = this.due.peekTime(); at !== undefined && at <= nowMs; at = this.due.peekTime()) {
      const { item } = this.due.pop()!;
      const { entry } = item;
      if (entry.removed || item.version !== entry.schedule) continue;
      const { intervalMs } = entry.target;
      // A blocked event loop or a suspended machine let whole intervals pass: probe once, for the latest.
      const passed = Math.floor((nowMs - item.dueAtMs) / intervalMs);
      if (passed > 0) this.metrics.skipped.inc({ reason: 'late' }, passed);
      const dueAtMs = item.dueAtMs + passed * intervalMs;
      this.due.push(dueAtMs + intervalMs, { entry, version: entry.schedule, dueAtMs: dueAtMs + intervalMs });
      this.dispatch(entry, dueAtMs);
    }
  }

  private dispatch(entry: Entry, dueAtMs: number): void {
    if (entry.running || entry.waiting) {
      this.metrics.skipped.inc({ reason: entry.running ? 'running' : 'waiting' });
      return;
    }
    if (this.runningCount < this.settings.concurrency) {
      this.begin(entry, dueAtMs);
      return;
    }
    entry.waiting = true;
    this.waiting.push({ entry, version: entry.generation, dueAtMs });
    this.waitingCount++;
    this.metrics.waiting.set(this.waitingCount);
  }

  /** Starts waiting probes, oldest first, while slots are free. */
  private startWaiting(): void {
    while (this.runningCount < this.settings.concurrency && this.waitingHead < this.waiting.length) {
      const { entry, version, dueAtMs } = this.waiting[this.waitingHead]!;
      this.waitingHead++;
      if (entry.removed || version !== entry.generation || !entry.waiting) continue;
      entry.waiting = false;
      this.waitingCount--;
      this.begin(entry, dueAtMs);
    }
    if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.waitingHead);
      this.waitingHead = 0;
    }
    this.metrics.waiting.set(this.waitingCount);
  }

  /** A probe under way (or waiting) of an entry that no longer wants it: aborted, its result dropped. */
  private dropProbe(entry: Entry, why: string): void {
    entry.generation++;
    entry.running?.abort(new Error(why));
    if (entry.waiting) {
      entry.waiting = false;
      this.waitingCount--;
      this.metrics.waiting.set(this.waitingCount);
    }
  }

  private begin(entry: Entry, dueAtMs: number): void {
    const { clock } = this.options;
    const startedAtMs = clock.now();
    this.metrics.startDelay.observe(Math.max(0, startedAtMs - dueAtMs) / 1000);
    const controller = new AbortController();
    const generation = entry.generation;
    const target = entry.target;
    entry.running = controller;
    this.runningCount++;
    this.metrics.running.set(this.runningCount);
    void this.probe(target, controller, startedAtMs).then((result) => {
      if (entry.running === controller) entry.running = undefined;
      this.runningCount--;
      this.metrics.running.set(this.runningCount);
      if (!entry.removed && entry.generation === generation && !this.stopping.signal.aborted)
        this.record(entry, result);
      if (!this.stopping.signal.aborted) this.startWaiting();
    });
  }

  /**
   * One probe, bounded by the target's timeout: its signal aborts then, and a
   * prober that has not answered `abandonAfter` later is given up on.
   */
  private async probe(
    target: ProbeTarget,
    controller: AbortController,
    startedAtMs: number,
  ): Promise<ProbeResult> {
    const { clock, prober } = this.options;
    const timeoutMs = Math.min(target.timeoutMs, target.intervalMs);
    const timeoutText = `timeout after ${timeoutMs / 1000}s`;
    const failed = (failure: string): ProbeResult => ({
      success: false,
      failure,
      startedAtMs,
      durationMs: clock.now() - startedAtMs,
      samples: [],
    });
    // The module's timeout as this target bounds it, so that a timeout says how long the probe really had.
    const module = { ...target.module, timeoutMs };
    const probing = Promise.resolve()
      .then(() => prober({ target: target.target, module, signal: controller.signal }))
      .catch((err: unknown) =>
        failed(describeError(controller.signal.aborted ? controller.signal.reason : err)),
      );
    // A stop ends the wait at once: the result is dropped anyway, and no timer keeps the process up.
    const settled = new AbortController();
    const waiting = AbortSignal.any([settled.signal, this.stopping.signal]);
    const interrupted = () => (settled.signal.aborted ? undefined : failed('the probes are stopping'));
    const deadline = (async () => {
      await clock.sleep(timeoutMs, waiting);
      if (waiting.aborted) return interrupted();
      controller.abort(new Error(timeoutText));
      await clock.sleep(this.settings.abandonAfter, waiting);
      if (waiting.aborted) return interrupted();
      this.metrics.abandoned.inc();
      this.log.warn({ probe: target.id }, 'A probe did not stop after its timeout; given up');
      return failed(`${timeoutText}; the probe did not stop`);
    })();
    try {
      return (await Promise.race([probing, deadline])) ?? (await probing);
    } finally {
      settled.abort();
    }
  }

  private record(entry: Entry, result: ProbeResult): void {
    const { target, state } = entry;
    const now = this.options.clock.now();
    this.metrics.probes.inc({ outcome: result.success ? 'success' : 'failure' });
    this.history.record(target.id, result);
    entry.latest = result;
    const change = applyResult(state, result, target, now);
    if (change) {
      this.log.info(
        {
          probe: target.id,
          target: target.target,
          from: change.from,
          to: change.to,
          failure: result.failure,
        },
        'Probe target state changed',
      );
    }
    this.alerts.update(target, state, now);
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
        targets: this.savedTargets(),
      }),
    ]);
  }

  private *savedTargets(): Generator<SavedProbeState['targets'][number]> {
    for (const { target, state } of this.entries.values()) {
      yield {
        id: target.id,
        target: target.target,
        module: target.moduleName,
        state,
        alerts: savedAlerts(this.alerts.alertsOf(target.id)),
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
    for (const { id, target, module, state, alerts } of saved?.targets ?? []) {
      const entry = this.entries.get(id);
      if (!entry) continue;
      this.alerts.adopt(entry.target, restoredAlerts(alerts));
      if (entry.target.target !== target || entry.target.moduleName !== module) {
        changed.add(id);
        continue;
      }
      entry.state = state;
      restored++;
    }
    if (savedHistory)
      this.history.restore(savedHistory.targets, (id) => this.entries.has(id) && !changed.has(id));
    if (saved) this.log.info({ restored, saved: saved.targets.length }, 'Probe state restored');
  }
}
