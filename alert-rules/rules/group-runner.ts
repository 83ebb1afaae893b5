import type { Clock } from '../../core/clock.ts';
import { describeError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { AlertNotifier, Labels, QueryApi, RemoteWriter, RuleGroupSpec, TimedSample } from '../types.ts';
import { AlertingRule } from './alerting-rule.ts';
import { evalTimestamp } from './eval-timestamp.ts';
import type { GroupMetrics } from './group-metrics.ts';
import { labelsKey } from './labels.ts';
import { LogAlertingRule, type LogRuleServices } from './log-rule.ts';
import { postableAlerts } from './postable-alerts.ts';
import { RecordingRule } from './recording-rule.ts';
import type { Rule } from './rule.ts';
import type { TemplateRenderer } from './template-renderer.ts';

export interface EvaluationSettings {
  evaluationIntervalMs: number;
  resendDelayMs: number;
  resolvedRetentionMs: number;
  queryOffsetMs: number;
  /** A rule's query (and its templates' queries) is abandoned after this long. */
  queryTimeoutMs: number;
  externalLabels: Labels;
  /** The URL templates see as `$externalURL`. */
  externalURL: string;
  /** Where alerts' generator links point (the Prometheus the queries go to). */
  generatorURLBase: string;
  /** Write ALERTS and ALERTS_FOR_STATE through remote write, as Prometheus writes them to its storage. */
  writeAlertSeries: boolean;
}

/** Where rule evaluation reads, writes and sends. */
export interface EvaluationServices {
  queryApi: QueryApi;
  remoteWriter: RemoteWriter;
  notifier: AlertNotifier;
  render: TemplateRenderer;
  clock: Clock;
  log: Logger;
  /** Where log rules search; a log rule cannot be built without it (loading refuses one before). */
  logs?: LogRuleServices;
}

export interface GroupDependencies extends EvaluationServices {
  metrics: GroupMetrics;
  settings: EvaluationSettings;
  /** After each evaluation of the group; `changed` when alert state may have changed. */
  onEvaluated(group: RuleGroup, changed: boolean): void;
}

/** A rule's samples of one evaluation, waiting to be written. */
interface PendingWrite {
  rule: Rule;
  samples: TimedSample[];
  timeMs: number;
}

/** Prometheus's key of a group: names need only be unique within a file. */
export function groupKey(file: string, name: string): string {
  return `${file};${name}`;
}

/** What identifies a rule across reloads and restarts: its name and labels (Prometheus's CopyState). */
export function ruleIdentity(rule: Rule): string {
  return `${rule.name}${labelsKey(rule.labels)}`;
}

/** Canonical text of a value, whatever the order its objects' keys came in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/**
 * One rule group: evaluated every interval at slots aligned as Prometheus
 * aligns them, its rules in order, never two evaluations at once (a slow one
 * makes the group skip slots, counted as missed).
 */
export class RuleGroup {
  readonly key: string;
  readonly intervalMs: number;
  readonly queryOffsetMs: number;
  readonly rules: Rule[];
  /** Duration and wall-clock start of the last evaluation. */
  evaluationTimeMs = 0;
  lastEvaluationMs = 0;
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  /** The samples of the last evaluation still being written, if any. */
  private writing: Promise<void> | undefined;
  private readonly log: Logger;
  readonly spec: RuleGroupSpec;
  private readonly deps: GroupDependencies;

  constructor(spec: RuleGroupSpec, deps: GroupDependencies) {
    this.spec = spec;
    this.deps = deps;
    const { settings } = deps;
    this.key = groupKey(spec.file, spec.name);
    this.intervalMs = spec.intervalMs ?? settings.evaluationIntervalMs;
    this.queryOffsetMs = spec.queryOffsetMs ?? settings.queryOffsetMs;
    this.log = deps.log.child({ file: spec.file, group: spec.name });
    const alertOptions = {
      render: deps.render,
      externalLabels: settings.externalLabels,
      externalURL: settings.externalURL,
      resolvedRetentionMs: settings.resolvedRetentionMs,
      queryApi: deps.queryApi,
    };
    this.rules = spec.rules.map((rule) => {
      if (rule.kind === 'alerting') return new AlertingRule(rule, spec.labels, alertOptions);
      if (rule.kind === 'recording') return new RecordingRule(rule, spec.labels);
      if (!deps.logs) throw new Error(`log rule ${rule.alert} needs a log search, and none is configured`);
      return new LogAlertingRule(rule, spec.labels, alertOptions, deps.logs);
    });
  }

  get file(): string {
    return this.spec.file;
  }

  get name(): string {
    return this.spec.name;
  }

  get limit(): number {
    return this.spec.limit;
  }

  alertingRules(): AlertingRule[] {
    return this.rules.filter((rule) => rule instanceof AlertingRule);
  }

  /** Same definition: the running group can go on unchanged after a reload. */
  sameDefinition(other: RuleGroup): boolean {
    return (
      this.intervalMs === other.intervalMs &&
      this.queryOffsetMs === other.queryOffsetMs &&
      canonical(this.spec) === canonical(other.spec)
    );
  }

  /**
   * Takes over the alerts and written series of the rules of `from` with the
   * same name and labels (the first such rule with the first, and so on), as
   * Prometheus does when a reload changed a group.
   */
  copyState(from: RuleGroup): void {
    this.evaluationTimeMs = from.evaluationTimeMs;
    this.lastEvaluationMs = from.lastEvaluationMs;
    const byIdentity = new Map<string, Rule[]>();
    for (const rule of from.rules) {
      const id = ruleIdentity(rule);
      byIdentity.set(id, [...(byIdentity.get(id) ?? []), rule]);
    }
    for (const rule of this.rules) {
      const source = byIdentity.get(ruleIdentity(rule))?.shift();
      if (!source) continue;
      rule.writtenSeries = source.writtenSeries;
      if (rule instanceof AlertingRule && source instanceof AlertingRule)
        rule.adoptAlerts(source.currentAlerts());
    }
  }

  start(): void {
    this.running ??= this.run().catch((err: unknown) => {
      this.log.error({ err: describeError(err) }, 'Rule group evaluation stopped on an unexpected error');
    });
  }

  /** Stops the schedule; an evaluation under way ends after its current rule, whose queries are abandoned. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private async run(): Promise<void> {
    const { clock, metrics } = this.deps;
    let slot = evalTimestamp(this.file, this.name, this.intervalMs, clock.now()) + this.intervalMs;
    await clock.sleep(slot - clock.now(), this.stopping.signal);
    while (!this.stopped) {
      await this.evaluate(slot);
      if (this.stopped) return;
      const next = slot + this.intervalMs;
      if (clock.now() < next) await clock.sleep(next - clock.now(), this.stopping.signal);
      if (this.stopped) return;
      const missed = Math.max(0, Math.floor((clock.now() - slot) / this.intervalMs) - 1);
      if (missed > 0) {
        metrics.groupIterationsMissed.inc({ rule_group: this.key }, missed);
        metrics.groupIterations.inc({ rule_group: this.key }, missed);
        this.log.warn({ missed }, 'Rule group evaluation took longer than its interval; slots skipped');
      }
      slot += (missed + 1) * this.intervalMs;
    }
  }

  /** One evaluation of every rule at `slotMs`, in order. */
  async evaluate(slotMs: number): Promise<void> {
    const { clock, metrics } = this.deps;
    const labels = { rule_group: this.key };
    metrics.groupIterations.inc(labels);
    const start = clock.now();
    let samples = 0;
    let changed = false;
    const writes: PendingWrite[] = [];
    for (const rule of this.rules) {
      if (this.stopped) break;
      const held = rule instanceof AlertingRule ? rule.alertCount : 0;
      const outcome = await this.evaluateRule(rule, slotMs);
      samples += outcome.samples;
      if (outcome.write) writes.push(outcome.write);
      if (rule instanceof AlertingRule) changed ||= held > 0 || rule.alertCount > 0 || outcome.sent;
    }
    this.startWriting(writes);
    this.evaluationTimeMs = clock.now() - start;
    this.lastEvaluationMs = start;
    metrics.groupDuration.observe(this.evaluationTimeMs / 1000);
    metrics.groupLastDuration.set(labels, this.evaluationTimeMs / 1000);
    metrics.groupLastEvaluation.set(labels, start / 1000);
    metrics.groupSamples.set(labels, samples);
    this.deps.onEvaluated(this, changed);
  }

  private async evaluateRule(
    rule: Rule,
    slotMs: number,
  ): Promise<{ samples: number; sent: boolean; write?: PendingWrite }> {
    const { clock, metrics, settings } = this.deps;
    const start = clock.now();
    metrics.ruleEvaluations.inc({ rule_group: this.key });
    const timeout = this.queryDeadline();
    let outcome: { samples: number; sent: boolean; write?: PendingWrite } = { samples: 0, sent: false };
    try {
      const series = await rule.evaluate({
        timeMs: slotMs,
        queryOffsetMs: this.queryOffsetMs,
        limit: this.limit,
        query: (expr, at, signal) => this.deps.queryApi.query(expr, at, signal),
        signal: timeout.signal,
      });
      rule.health = 'ok';
      rule.lastError = undefined;
      const sent = rule instanceof AlertingRule && this.sendAlerts(rule, slotMs);
      const written = rule instanceof RecordingRule || settings.writeAlertSeries ? series : [];
      outcome = {
        samples: written.length,
        sent,
        write: { rule, samples: written, timeMs: slotMs - this.queryOffsetMs },
      };
    } catch (err) {
      // An abandoned query fails with a bare "aborted"; the deadline says why.
      this.failed(rule, timeout.signal.aborted ? timeout.signal.reason : err);
    } finally {
      timeout.clear();
      rule.evaluationDurationMs = clock.now() - start;
      rule.lastEvaluationMs = start;
      metrics.ruleEvaluationDuration.observe(rule.evaluationDurationMs / 1000);
    }
    return outcome;
  }

  /**
   * Writes the evaluation's samples in the background, as Prometheus's remote
   * write does: a slow or hanging receiver never holds up evaluation (nor the
   * alerts it keeps firing). One evaluation's samples are written at a time;
   * while they are, the next evaluation's are dropped and counted.
   */
  private startWriting(writes: PendingWrite[]): void {
    if (this.writing) {
      for (const { rule, samples } of writes) {
        if (samples.length === 0) continue;
        this.deps.metrics.remoteWriteDropped.inc(samples.length);
        this.failed(
          rule,
          new Error(
            `${samples.length} samples dropped: the samples of an earlier evaluation are still being written`,
          ),
          'Rule sample writing failed',
        );
      }
      return;
    }
    this.writing = (async () => {
      for (const { rule, samples, timeMs } of writes) await this.write(rule, samples, timeMs);
    })().finally(() => {
      this.writing = undefined;
    });
  }

  /** Writes the rule's samples, and staleness markers for the series it wrote last time and not now. */
  private async write(rule: Rule, samples: TimedSample[], timeMs: number): Promise<void> {
    const current = new Map(samples.map((sample) => [labelsKey(sample.labels), sample.labels]));
    const ended: TimedSample[] = [...rule.writtenSeries]
      .filter(([key]) => !current.has(key))
      .map(([, labels]) => ({ labels, value: Number.NaN, timeMs, stale: true }));
    if (samples.length === 0 && ended.length === 0) return;
    try {
      await this.deps.remoteWriter.write([...samples, ...ended]);
      rule.writtenSeries = current;
    } catch (err) {
      this.failed(rule, err, 'Rule sample writing failed');
    }
  }

  private failed(rule: Rule, err: unknown, message = 'Evaluating rule failed'): void {
    rule.health = 'err';
    rule.lastError = describeError(err);
    this.deps.metrics.ruleEvaluationFailures.inc({ rule_group: this.key });
    // A stop abandons queries on purpose; that is no failure worth a warning.
    if (!this.stopped) this.log.warn({ rule: rule.name, err: rule.lastError }, message);
  }

  private sendAlerts(rule: AlertingRule, slotMs: number): boolean {
    const { settings, metrics } = this.deps;
    const due = rule.takeAlertsToSend(slotMs, settings.resendDelayMs, this.intervalMs);
    if (due.length === 0) return false;
    this.deps.notifier.send(
      postableAlerts(due, rule.generatorLink(settings.generatorURLBase), settings.externalLabels),
    );
    metrics.alertsSent.inc(due.length);
    return true;
  }

  /** Aborts a rule's queries on stop or after the query timeout, on the injected clock. */
  private queryDeadline(): { signal: AbortSignal; clear(): void } {
    const { clock, settings } = this.deps;
    const deadline = new AbortController();
    const timer = new AbortController();
    const abort = () => deadline.abort(new Error(`query abandoned: the group is stopping`));
    this.stopping.signal.addEventListener('abort', abort, { once: true });
    void clock.sleep(settings.queryTimeoutMs, timer.signal).then(() => {
      if (!timer.signal.aborted)
        deadline.abort(new Error(`query timed out after ${settings.queryTimeoutMs} ms`));
    });
    return {
      signal: deadline.signal,
      clear: () => {
        timer.abort();
        this.stopping.signal.removeEventListener('abort', abort);
      },
    };
  }
}
