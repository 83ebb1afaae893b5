import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/log.ts';
import type { GaugeSeries, Metrics } from '../../core/metrics.ts';
import type { AlertNotifier } from '../types.ts';
import { agentDownAlerts, locationOwner } from './agent-alerts.ts';
import { AgentRegistry, type Sequenced } from './agent-registry.ts';
import type { AgentsConfig } from './agents-config.ts';
import { PROBE_AGENT_METRICS as M } from './metrics.ts';
import { type ProbeAlertSettings, ProbeAlerts } from './probe-alerts.ts';
import { restoredAlerts, type SavedProbeState, savedAlerts } from './probe-files.ts';

/** A probe agents' location as `GET /api/probe-agents` lists it. */
export interface AgentLocationStatus {
  location: string;
  up: boolean;
  lastReportAt: string | null;
  targets: number;
}

export type SavedAgentWatch = NonNullable<SavedProbeState['agents']>;

export interface AgentWatchOptions {
  settings: AgentsConfig & ProbeAlertSettings;
  clock: Clock;
  notifier: AlertNotifier;
  metrics: Metrics;
  log: Logger;
}

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : null);

/**
 * Which locations' probe agents report, for the centre: what the registry
 * heard, looked at every `checkIntervalMs` against the locations targets
 * name; a location silent past `downAfter` fires ProbeAgentDown until it
 * reports again.
 */
export class AgentWatch {
  readonly checkIntervalMs: number;
  private readonly options: AgentWatchOptions;
  private readonly registry: AgentRegistry;
  private readonly alerts: ProbeAlerts;
  /** Locations targets name, and whether their agents reported at the last check. */
  private readonly up = new Map<string, boolean>();

  constructor(options: AgentWatchOptions) {
    this.options = options;
    const { settings, metrics, clock } = options;
    this.checkIntervalMs = Math.max(250, Math.min(5_000, Math.floor(settings.downAfter / 4)));
    this.registry = new AgentRegistry(
      { downAfterMs: settings.downAfter, maxAgents: settings.maxAgents },
      clock.now(),
    );
    this.alerts = new ProbeAlerts({
      notifier: options.notifier,
      settings,
      sent: metrics.counter(M.alertsSent),
    });
    metrics.seriesGauge(M.up, () => this.series((location) => (this.up.get(location) ? 1 : 0)));
    metrics.seriesGauge(M.lastReport, () =>
      this.series((location) => (this.registry.lastSeen(location) ?? 0) / 1000),
    );
  }

  /** An agent of the location was heard from now. */
  seen(location: string): void {
    this.registry.seen(location, this.options.clock.now());
  }

  sequence(agent: string, location: string, seq: number): Sequenced {
    return this.registry.sequence(agent, location, seq, this.options.clock.now());
  }

  isUp(location: string, nowMs: number): boolean {
    return this.registry.isUp(location, nowMs);
  }

  /**
   * Looks at each location targets name (with their number of targets):
   * ProbeAgentDown follows whether its agents report. Returns the locations
   * that fell silent or came back since the last check (or are silent at
   * the first).
   */
  check(expected: ReadonlyMap<string, number>): string[] {
    const now = this.options.clock.now();
    const { log, settings } = this.options;
    const changed: string[] = [];
    for (const [location, targets] of expected) {
      const up = this.registry.isUp(location, now);
      const was = this.up.get(location);
      this.up.set(location, up);
      if (was !== up && (was !== undefined || !up)) {
        changed.push(location);
        const lastReportAt = iso(this.registry.lastSeen(location));
        if (up) log.info({ location }, 'Probe agents report again');
        else log.warn({ location, lastReportAt }, 'Probe agents do not report');
      }
      const lastReportMs = this.registry.lastSeen(location) ?? 0;
      const wanted = up ? [] : agentDownAlerts(location, lastReportMs, targets, settings.labels, now);
      this.alerts.set(this.owner(location), wanted, now);
    }
    for (const location of [...this.up.keys()]) {
      if (expected.has(location)) continue;
      this.up.delete(location);
      this.alerts.remove(this.owner(location), now);
    }
    for (const [location] of [...this.registry.heard()])
      if (!expected.has(location) && !this.registry.isUp(location, now)) this.registry.forget(location);
    return changed;
  }

  /** Every location targets name or an agent reported from. */
  locations(expected: ReadonlyMap<string, number>): AgentLocationStatus[] {
    const now = this.options.clock.now();
    const names = new Set([...expected.keys(), ...[...this.registry.heard()].map(([location]) => location)]);
    return [...names].sort().map((location) => ({
      location,
      up: this.registry.isUp(location, now),
      lastReportAt: iso(this.registry.lastSeen(location)),
      targets: expected.get(location) ?? 0,
    }));
  }

  sendAllAgain(nowMs: number): void {
    this.alerts.sendAllAgain(nowMs);
  }

  snapshot(): SavedAgentWatch {
    return {
      ...this.registry.snapshot(),
      alerts: [...this.up.keys()].map((location) => ({
        location,
        alerts: savedAlerts(this.alerts.alertsOf(this.owner(location).key)),
      })),
    };
  }

  restore(saved: SavedAgentWatch): void {
    this.registry.restore(saved);
    for (const { location, alerts } of saved.alerts) {
      this.up.set(location, true);
      this.alerts.adopt(this.owner(location), restoredAlerts(alerts));
    }
  }

  private owner(location: string) {
    return locationOwner(location, this.checkIntervalMs);
  }

  private series(value: (location: string) => number): GaugeSeries[] {
    return [...this.up.keys()].map((location) => ({ labels: { location }, value: value(location) }));
  }
}
