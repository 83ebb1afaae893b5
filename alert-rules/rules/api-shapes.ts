import type { ApiAlert } from '../api-types.ts';
import type { Labels } from '../types.ts';
import type { Alert } from './alert.ts';
import { AlertingRule } from './alerting-rule.ts';
import { formatGoExponent, formatGoTime } from './go-format.ts';
import type { RuleGroup } from './group-runner.ts';
import { sortedLabels } from './labels.ts';
import type { Rule } from './rule.ts';

/** The `data` of Prometheus's `/api/v1/alerts` and `/api/v1/rules`, field for field. */

export type { ApiAlert };

interface ApiRuleCommon {
  name: string;
  query: string;
  labels?: Labels;
  health: string;
  lastError?: string;
  evaluationTime: number;
  lastEvaluation: string;
}

export interface ApiAlertingRule extends ApiRuleCommon {
  state: string;
  duration: number;
  keepFiringFor: number;
  labels: Labels;
  annotations: Labels;
  alerts: ApiAlert[];
  type: 'alerting';
}

export interface ApiRecordingRule extends ApiRuleCommon {
  type: 'recording';
}

export interface ApiRuleGroup {
  name: string;
  file: string;
  rules: (ApiAlertingRule | ApiRecordingRule)[];
  interval: number;
  limit: number;
  evaluationTime: number;
  lastEvaluation: string;
}

/** One alert as `/api/v1/alerts` lists it. */
export function apiAlert(alert: Alert): ApiAlert {
  return {
    labels: sortedLabels(alert.labels),
    annotations: sortedLabels(alert.annotations),
    state: alert.state,
    activeAt: formatGoTime(alert.activeAtMs),
    ...(alert.keepFiringSinceMs !== 0 && { keepFiringSince: formatGoTime(alert.keepFiringSinceMs) }),
    value: formatGoExponent(alert.value),
  };
}

function common(rule: Rule): ApiRuleCommon {
  return {
    name: rule.name,
    query: rule.query,
    health: rule.health,
    ...(rule.lastError && { lastError: rule.lastError }),
    evaluationTime: rule.evaluationDurationMs / 1000,
    lastEvaluation: formatGoTime(rule.lastEvaluationMs),
  };
}

function apiRule(rule: Rule): ApiAlertingRule | ApiRecordingRule {
  if (!(rule instanceof AlertingRule)) {
    return {
      ...common(rule),
      ...(Object.keys(rule.labels).length > 0 && { labels: sortedLabels(rule.labels) }),
      type: 'recording',
    };
  }
  return {
    ...common(rule),
    state: rule.state(),
    duration: rule.forMs / 1000,
    keepFiringFor: rule.keepFiringForMs / 1000,
    labels: sortedLabels(rule.labels),
    annotations: sortedLabels(rule.annotations),
    alerts: rule.activeAlerts().map(apiAlert),
    type: 'alerting',
  };
}

/** `/api/v1/alerts`: the pending and firing alerts of every alerting rule. */
export function alertsData(groups: readonly RuleGroup[]): { alerts: ApiAlert[] } {
  return { alerts: groups.flatMap((g) => g.alertingRules().flatMap((r) => r.activeAlerts().map(apiAlert))) };
}

/** `/api/v1/rules`: groups sorted by file then name, rules in their order. */
export function rulesData(groups: readonly RuleGroup[]): { groups: ApiRuleGroup[] } {
  const sorted = [...groups].sort((a, b) =>
    a.file !== b.file ? (a.file < b.file ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  return {
    groups: sorted.map((group) => ({
      name: group.name,
      file: group.file,
      rules: group.rules.map(apiRule),
      interval: group.intervalMs / 1000,
      limit: group.limit,
      evaluationTime: group.evaluationTimeMs / 1000,
      lastEvaluation: formatGoTime(group.lastEvaluationMs),
    })),
  };
}
