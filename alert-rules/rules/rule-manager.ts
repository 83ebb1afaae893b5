import { join } from 'node:path';
import type { Logger } from '../../core/log.ts';
import type { Metrics } from '../../core/metrics.ts';
import type { RuleGroupSpec } from '../types.ts';
import { registerAlertSeries } from './alert-series-metrics.ts';
import { AlertStateStore, restoreAlertState } from './alert-state-store.ts';
import { alertsData, rulesData } from './api-shapes.ts';
import {
  createGroupMetrics,
  type GroupMetrics,
  initGroupSeries,
  removeGroupSeries,
} from './group-metrics.ts';
import { type EvaluationServices, type EvaluationSettings, groupKey, RuleGroup } from './group-runner.ts';

export interface RuleManagerSettings extends EvaluationSettings {
  /** Bound on the alert state file. */
  stateMaxBytes: number;
}

/** Prometheus's defaults where Prometheus has one. */
export const DEFAULT_RULE_MANAGER_SETTINGS: RuleManagerSettings = {
  evaluationIntervalMs: 60_000,
  resendDelayMs: 60_000,
  resolvedRetentionMs: 15 * 60_000,
  queryOffsetMs: 0,
  queryTimeoutMs: 2 * 60_000,
  externalLabels: {},
  externalURL: '',
  generatorURLBase: '',
  writeAlertSeries: true,
  stateMaxBytes: 16 * 1024 * 1024,
};

export interface RuleManagerOptions extends EvaluationServices {
  metrics: Metrics;
  /** The alert state is kept here, in `alert-state.json`. */
  dataDir: string;
  settings?: Partial<RuleManagerSettings>;
}

export const ALERT_STATE_FILE = 'alert-state.json';

/**
 * Runs rule groups as Prometheus's rule manager does, and keeps their alert
 * state on disk so that a restart neither repeats a notification nor loses a
 * resolve, and firing alerts stay firing.
 */
export class RuleManager {
  private readonly settings: RuleManagerSettings;
  private readonly metrics: GroupMetrics;
  private readonly store: AlertStateStore;
  private readonly log: Logger;
  private byKey = new Map<string, RuleGroup>();
  private saving: Promise<void> | undefined;
  private saveAgain = false;
  private stopped = false;
  /** Reloads apply one after the other. */
  private updating: Promise<void> = Promise.resolve();
  private readonly options: RuleManagerOptions;

  constructor(options: RuleManagerOptions) {
    this.options = options;
    this.settings = { ...DEFAULT_RULE_MANAGER_SETTINGS, ...options.settings };
    this.log = options.log;
    this.metrics = createGroupMetrics(options.metrics);
    this.store = new AlertStateStore({
      path: join(options.dataDir, ALERT_STATE_FILE),
      maxBytes: this.settings.stateMaxBytes,
      log: options.log,
      metrics: options.metrics,
    });
    registerAlertSeries(
      options.metrics,
      () => this.groups(),
      () => options.clock.now(),
    );
  }

  /** Builds the groups, gives them the saved alert state and starts evaluating. */
  async start(specs: readonly RuleGroupSpec[]): Promise<void> {
    const groups = specs.map((spec) => this.newGroup(spec));
    const saved = await this.store.load();
    if (saved) {
      const restored = restoreAlertState(groups, saved, this.options.clock.now());
      this.log.info({ alerts: restored }, 'Alert state restored');
    }
    for (const group of groups) {
      this.byKey.set(group.key, group);
      group.start();
    }
  }

  /**
   * A reload: groups whose definition is unchanged keep running untouched;
   * a changed group is stopped after its current rule and replaced by one
   * that takes over the alerts of its rules with the same name and labels;
   * groups no longer defined stop and their alerts are forgotten.
   */
  update(specs: readonly RuleGroupSpec[]): Promise<void> {
    this.updating = this.updating.then(() => this.apply(specs));
    return this.updating;
  }

  private async apply(specs: readonly RuleGroupSpec[]): Promise<void> {
    if (this.stopped) return;
    const next = new Map<string, RuleGroup>();
    const changes: Promise<void>[] = [];
    for (const spec of specs) {
      const fresh = this.newGroup(spec);
      const old = this.byKey.get(fresh.key);
      this.byKey.delete(fresh.key);
      if (old?.sameDefinition(fresh)) {
        next.set(old.key, old);
        continue;
      }
      next.set(fresh.key, fresh);
      changes.push(
        (async () => {
          if (old) {
            await old.stop();
            fresh.copyState(old);
          }
          fresh.start();
        })(),
      );
    }
    for (const removed of this.byKey.values()) {
      changes.push(removed.stop().then(() => removeGroupSeries(this.metrics, removed.key)));
    }
    this.byKey = next;
    await Promise.all(changes);
    this.requestSave();
  }

  /** Stops every group and saves the alert state. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.byKey.values()].map((group) => group.stop()));
    await this.saving;
    await this.store.save(this.groups(), this.options.clock.now());
  }

  /** Every alert held goes to the notifier at its group's next evaluation (see AlertingRule.sendAllAgain). */
  sendAllAgain(): void {
    for (const group of this.byKey.values()) for (const rule of group.alertingRules()) rule.sendAllAgain();
  }

  groups(): RuleGroup[] {
    return [...this.byKey.values()];
  }

  /** The data of Prometheus's `/api/v1/alerts`. */
  alerts(): ReturnType<typeof alertsData> {
    return alertsData(this.groups());
  }

  /** The data of Prometheus's `/api/v1/rules`. */
  rules(): ReturnType<typeof rulesData> {
    return rulesData(this.groups());
  }

  private newGroup(spec: RuleGroupSpec): RuleGroup {
    const group = new RuleGroup(spec, {
      ...this.options,
      metrics: this.metrics,
      settings: this.settings,
      onEvaluated: (_group, changed) => {
        if (changed) this.requestSave();
      },
    });
    initGroupSeries(this.metrics, groupKey(spec.file, spec.name), group.intervalMs, group.rules.length);
    return group;
  }

  /** One save at a time; changes made during a save are saved right after it. */
  private requestSave(): void {
    if (this.saving) {
      this.saveAgain = true;
      return;
    }
    this.saving = (async () => {
      do {
        this.saveAgain = false;
        await this.store.save(this.groups(), this.options.clock.now());
      } while (this.saveAgain && !this.stopped);
      this.saving = undefined;
    })();
  }
}
