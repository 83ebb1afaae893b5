import type { Labels, Sample } from '../types.ts';

/** What the replicas query says of one workload. */
export type RunningReplicas =
  | { kind: 'known'; replicas: number }
  | { kind: 'unknown' }
  /** A series that is not a replica count (NaN, negative, fractional). */
  | { kind: 'invalid' }
  /** Several series with different counts, e.g. from two exporters that disagree. */
  | { kind: 'ambiguous' };

function key(labels: Labels, names: readonly string[]): string {
  return JSON.stringify(names.map((name) => labels[name] ?? ''));
}

/**
 * The replicas query's series, found by a workload's labels: a series belongs to
 * the workload when it carries each of the workload's labels with the same
 * value, whatever else it carries (job, instance). The series are indexed
 * once per set of label names the workloads have.
 */
export class RunningReplicasIndex {
  private readonly samples: readonly Sample[];
  private readonly byNames = new Map<string, Map<string, number[]>>();

  constructor(samples: readonly Sample[]) {
    this.samples = samples;
  }

  of(workload: Labels): RunningReplicas {
    const names = Object.keys(workload).sort();
    const values = this.index(names).get(key(workload, names)) ?? [];
    const [first] = values;
    if (first === undefined) return { kind: 'unknown' };
    if (!values.every((v) => Number.isInteger(v) && v >= 0)) return { kind: 'invalid' };
    if (values.some((v) => v !== first)) return { kind: 'ambiguous' };
    return { kind: 'known', replicas: first };
  }

  private index(names: readonly string[]): Map<string, number[]> {
    const namesKey = JSON.stringify(names);
    let index = this.byNames.get(namesKey);
    if (!index) {
      index = new Map();
      for (const sample of this.samples) {
        const k = key(sample.labels, names);
        const values = index.get(k);
        if (values) values.push(sample.value);
        else index.set(k, [sample.value]);
      }
      this.byNames.set(namesKey, index);
    }
    return index;
  }
}
