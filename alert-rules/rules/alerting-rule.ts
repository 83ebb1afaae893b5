import { describeError } from '../../core/errors.ts';
import type { AlertingRuleSpec, Labels, QueryApi, Sample, TimedSample } from '../types.ts';
import { type Alert, type AlertState, needsSending } from './alert.ts';
import {
  ALERT_NAME,
  labelsKey,
  METRIC_NAME,
  ruleLabelsWithGroup,
  setLabel,
  sortedLabels,
  withLabels,
} from './labels.ts';
import { generatorURL } from './postable-alerts.ts';
import { Rule, type RuleEvaluation } from './rule.ts';
import { TEMPLATE_ERROR } from './template/expand.ts';
import type { TemplateContext, TemplateRenderer } from './template-renderer.ts';

export interface AlertingRuleOptions {
  render: TemplateRenderer;
  externalLabels: Labels;
  externalURL: string;
  /** How long a resolved alert is kept, and sent, after it resolved (Prometheus: 15 minutes). */
  resolvedRetentionMs: number;
  /** Template queries go here. */
  queryApi: QueryApi;
}

/** A result element that becomes an alert; `annotations` are added to those its templates give, which win. */
export interface RuleSample extends Sample {
  annotations?: Labels;
}

const STATE_ORDER: Record<AlertState, number> = { inactive: 0, pending: 1, firing: 2 };

/**
 * An alerting rule with Prometheus's state machine: each label set of the
 * expression's result is an alert, pending until it has held for `for`, then
 * firing; when it leaves the result it stays firing for `keep_firing_for`,
 * then is resolved and kept (and sent) for the resolved retention. A query
 * error leaves every alert as it was.
 */
export class AlertingRule extends Rule {
  readonly name: string;
  readonly expr: string;
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly forMs: number;
  readonly keepFiringForMs: number;
  /** Alerts by label set, resolved ones included while retained. */
  private active = new Map<string, Alert>();
  private readonly options: AlertingRuleOptions;

  constructor(spec: AlertingRuleSpec, groupLabels: Labels, options: AlertingRuleOptions) {
    super();
    this.options = options;
    this.name = spec.alert;
    this.expr = spec.expr;
    this.labels = ruleLabelsWithGroup(groupLabels, spec.labels);
    this.annotations = spec.annotations;
    this.forMs = spec.forMs;
    this.keepFiringForMs = spec.keepFiringForMs;
  }

  async evaluate(evaluation: RuleEvaluation): Promise<TimedSample[]> {
    const { timeMs, queryOffsetMs, limit, signal } = evaluation;
    const result = await this.samples(evaluation);
    const fresh = new Map<string, Alert>();
    for (const sample of result) {
      const alert = await this.alertFor(sample, timeMs, signal);
      const key = labelsKey(alert.labels);
      if (fresh.has(key))
        throw new Error('vector contains metrics with the same labelset after applying alert labels');
      fresh.set(key, alert);
    }

    for (const [key, alert] of fresh) {
      const existing = this.active.get(key);
      if (existing && existing.state !== 'inactive') {
        existing.value = alert.value;
        existing.annotations = alert.annotations;
      } else {
        this.active.set(key, alert);
      }
    }

    const series: TimedSample[] = [];
    let activeOrPending = 0;
    for (const [key, alert] of this.active) {
      if (fresh.has(key)) {
        alert.keepFiringSinceMs = 0;
      } else if (!this.leftResult(key, alert, timeMs)) {
        continue;
      }
      activeOrPending++;
      if (alert.state === 'pending' && timeMs - alert.activeAtMs >= this.forMs) {
        alert.state = 'firing';
        alert.firedAtMs = timeMs;
      }
      series.push(...this.alertSeries(alert, timeMs - queryOffsetMs));
    }

    if (limit > 0 && activeOrPending > limit) {
      this.active.clear();
      throw new Error(`exceeded limit of ${limit} with ${activeOrPending} alerts`);
    }
    return series;
  }

  /** The expression's result at the evaluation time. */
  protected samples(evaluation: RuleEvaluation): Promise<RuleSample[]> {
    return evaluation.query(this.expr, evaluation.timeMs - evaluation.queryOffsetMs, evaluation.signal);
  }

  /** Where the rule's alerts link to: Prometheus's table of the expression. */
  generatorLink(base: string): string {
    return generatorURL(base, this.query);
  }

  /**
   * An alert absent from this evaluation's result: pending ones go, firing
   * ones keep firing for `keep_firing_for` and are then resolved, resolved
   * ones go after the retention. True while it still counts as firing.
   */
  private leftResult(key: string, alert: Alert, timeMs: number): boolean {
    let keepFiring = false;
    if (alert.state === 'firing' && this.keepFiringForMs > 0) {
      if (alert.keepFiringSinceMs === 0) alert.keepFiringSinceMs = timeMs;
      keepFiring = timeMs - alert.keepFiringSinceMs < this.keepFiringForMs;
    }
    const retentionOver =
      alert.resolvedAtMs !== 0 && timeMs - alert.resolvedAtMs > this.options.resolvedRetentionMs;
    if (alert.state === 'pending' || retentionOver) this.active.delete(key);
    if (alert.state !== 'inactive' && !keepFiring) {
      alert.state = 'inactive';
      alert.resolvedAtMs = timeMs;
    }
    return keepFiring;
  }

  private async alertFor(sample: RuleSample, timeMs: number, signal: AbortSignal): Promise<Alert> {
    const context: TemplateContext = {
      labels: sample.labels,
      externalLabels: this.options.externalLabels,
      externalURL: this.options.externalURL,
      value: sample.value,
      timeMs,
      query: (expr, at, querySignal) => this.options.queryApi.query(expr, at, querySignal),
    };
    const labels: Labels = { ...sample.labels };
    delete labels[METRIC_NAME];
    for (const [name, text] of Object.entries(this.labels)) {
      setLabel(labels, name, await this.expand(text, context, signal));
    }
    labels[ALERT_NAME] = this.name;
    const annotations: Labels = { ...sample.annotations };
    for (const [name, text] of Object.entries(this.annotations)) {
      annotations[name] = await this.expand(text, context, signal);
    }
    return {
      state: 'pending',
      labels,
      annotations,
      value: sample.value,
      activeAtMs: timeMs,
      firedAtMs: 0,
      resolvedAtMs: 0,
      lastSentAtMs: 0,
      validUntilMs: 0,
      keepFiringSinceMs: 0,
    };
  }

  /** A renderer that fails anyway yields Prometheus's error text, like a template error. */
  private async expand(text: string, context: TemplateContext, signal: AbortSignal): Promise<string> {
    try {
      return await this.options.render(`__alert_${this.name}`, text, context, signal);
    } catch (err) {
      return `${TEMPLATE_ERROR}${describeError(err)}>`;
    }
  }

  /** The ALERTS and ALERTS_FOR_STATE samples Prometheus writes for an alert. */
  private alertSeries(alert: Alert, timeMs: number): TimedSample[] {
    const labels = withLabels(this.labels, alert.labels);
    labels[ALERT_NAME] = this.name;
    return [
      {
        labels: sortedLabels({ ...labels, [METRIC_NAME]: 'ALERTS', alertstate: alert.state }),
        value: 1,
        timeMs,
      },
      {
        labels: sortedLabels({ ...labels, [METRIC_NAME]: 'ALERTS_FOR_STATE' }),
        value: Math.floor(alert.activeAtMs / 1000),
        timeMs,
      },
    ];
  }

  /** The ALERTS and ALERTS_FOR_STATE samples of the pending and firing alerts now held. */
  currentSeries(timeMs: number): TimedSample[] {
    return [...this.active.values()]
      .filter((alert) => alert.state !== 'inactive')
      .flatMap((alert) => this.alertSeries(alert, timeMs));
  }

  /**
   * The alerts to send now, marked as sent: each is valid for four
   * evaluations or resend delays, so two failed evaluations or sends do not
   * let it expire at the receiver.
   */
  takeAlertsToSend(nowMs: number, resendDelayMs: number, intervalMs: number): Alert[] {
    const due: Alert[] = [];
    for (const alert of this.active.values()) {
      if (!needsSending(alert, nowMs, resendDelayMs)) continue;
      alert.lastSentAtMs = nowMs;
      alert.validUntilMs = nowMs + 4 * Math.max(intervalMs, resendDelayMs);
      due.push({ ...alert, labels: { ...alert.labels } });
    }
    return due;
  }

  /**
   * Every alert held is sent at the next evaluation, as if it never was: a
   * new receiver (the dispatcher of a restart or of a new leader) holds none.
   */
  sendAllAgain(): void {
    for (const alert of this.active.values()) alert.lastSentAtMs = 0;
  }

  /** Firing beats pending beats inactive; unknown before the first evaluation. */
  state(): AlertState | 'unknown' {
    if (this.lastEvaluationMs === 0) return 'unknown';
    let max: AlertState = 'inactive';
    for (const alert of this.active.values())
      if (STATE_ORDER[alert.state] > STATE_ORDER[max]) max = alert.state;
    return max;
  }

  /** Every alert held, resolved ones still retained included (copies). */
  currentAlerts(): Alert[] {
    return [...this.active.values()].map((alert) => ({ ...alert }));
  }

  /** Pending and firing alerts, as the alerts API lists them. */
  activeAlerts(): Alert[] {
    return this.currentAlerts().filter((alert) => alert.resolvedAtMs === 0);
  }

  /** Takes over alerts from an earlier instance of the rule (reload) or from the saved state (restart). */
  adoptAlerts(alerts: Iterable<Alert>): void {
    for (const alert of alerts) this.active.set(labelsKey(alert.labels), { ...alert });
  }

  get alertCount(): number {
    return this.active.size;
  }
}
