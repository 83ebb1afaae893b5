import type { Labels, RecordingRuleSpec, TimedSample } from '../types.ts';
import { labelsKey, METRIC_NAME, ruleLabelsWithGroup, withLabels } from './labels.ts';
import { Rule, type RuleEvaluation } from './rule.ts';

/** A recording rule: the expression's result under a new metric name, written back at the query time. */
export class RecordingRule extends Rule {
  readonly name: string;
  readonly expr: string;
  readonly labels: Labels;

  constructor(spec: RecordingRuleSpec, groupLabels: Labels) {
    super();
    this.name = spec.record;
    this.expr = spec.expr;
    this.labels = ruleLabelsWithGroup(groupLabels, spec.labels);
  }

  async evaluate({ timeMs, queryOffsetMs, limit, query, signal }: RuleEvaluation): Promise<TimedSample[]> {
    const queryTimeMs = timeMs - queryOffsetMs;
    const result = await query(this.expr, queryTimeMs, signal);
    const seen = new Set<string>();
    const samples = result.map((sample) => {
      const labels = withLabels({ ...sample.labels, [METRIC_NAME]: this.name }, this.labels);
      const key = labelsKey(labels);
      if (seen.has(key))
        throw new Error('vector contains metrics with the same labelset after applying rule labels');
      seen.add(key);
      return { labels, value: sample.value, timeMs: queryTimeMs };
    });
    if (limit > 0 && samples.length > limit) {
      throw new Error(`exceeded limit of ${limit} with ${samples.length} series`);
    }
    return samples;
  }
}
