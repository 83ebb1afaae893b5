import type { RuleGroupSpec } from '../types.ts';
import type { OffRecommendationAlertConfig, RecommendationConfig } from './config.ts';
import { SYNTHETIC_SERIES } from './synthetic-series.ts';

/** The file the rules API shows for the capacity alerts' groups; no such file exists. */
export const CAPACITY_RULE_FILE = 'lookout:capacity';

/**
 * The running count, queried from the synthetic series by the alert's own
 * labels (the workload's and `recommendation`): it cannot be a label, for a
 * label that changes would start a new alert.
 */
const RUNNING_REPLICAS =
  '{{ $selector := "" }}{{ range $name, $v := $labels }}{{ $selector = printf "%s%s=%q," $selector $name $v }}{{ end }}' +
  `{{ with printf "${SYNTHETIC_SERIES.runningReplicas}{%s}" $selector | query }}{{ . | first | value }}{{ else }}unknown{{ end }}`;

/** The workload as space-separated name=value pairs. */
const WORKLOAD =
  '{{ $sep := "" }}{{ range $name, $v := $labels }}{{ if ne $name "recommendation" }}' +
  '{{ $sep }}{{ $name }}={{ $v }}{{ $sep = " " }}{{ end }}{{ end }}';

/** The annotations every off-recommendation alert has unless the configuration sets them. */
export const DEFAULT_ANNOTATIONS: Readonly<Record<string, string>> = {
  summary: `Replicas of ${WORKLOAD}: ${RUNNING_REPLICAS} running, {{ $value }} recommended ({{ $labels.recommendation }})`,
  recommended_replicas: '{{ $value }}',
  running_replicas: RUNNING_REPLICAS,
};

/** The selector whose answer is the workloads off the recommendation `name`. */
export function offRecommendationExpr(name: string): string {
  return `${SYNTHETIC_SERIES.offRecommendation}{recommendation=${JSON.stringify(name)}}`;
}

/**
 * The rule group that raises a recommendation's alert: one alerting rule on
 * the synthetic series, evaluated every interval of the recommendation, so
 * that Prometheus's alert state machine, its resend rule and the kept state
 * apply to it as to any rule.
 */
export function offRecommendationGroup(
  recommendation: RecommendationConfig,
  alert: OffRecommendationAlertConfig,
): RuleGroupSpec {
  return {
    file: CAPACITY_RULE_FILE,
    name: recommendation.name,
    intervalMs: recommendation.interval,
    limit: 0,
    queryOffsetMs: 0,
    labels: {},
    rules: [
      {
        kind: 'alerting',
        alert: alert.name,
        expr: offRecommendationExpr(recommendation.name),
        forMs: alert.for,
        keepFiringForMs: 0,
        labels: alert.labels,
        annotations: { ...DEFAULT_ANNOTATIONS, ...alert.annotations },
      },
    ],
  };
}
