import type { Labels, QueryApi, TimedSample } from '../types.ts';
import { printPromQL } from './promql-print.ts';

export type RuleHealth = 'unknown' | 'ok' | 'err';

/** One evaluation of a rule, as its group runs it. */
export interface RuleEvaluation {
  /** The group's evaluation slot. */
  timeMs: number;
  /** Queries run at `timeMs - queryOffsetMs`, and results are written at that time. */
  queryOffsetMs: number;
  /** The group's limit on alerts or series per rule; 0 for none. */
  limit: number;
  query: QueryApi['query'];
  signal: AbortSignal;
}

/** What the rules API shows of every rule, whatever its kind. */
export abstract class Rule {
  health: RuleHealth = 'unknown';
  lastError: string | undefined;
  evaluationDurationMs = 0;
  /** Wall-clock start of the last evaluation; 0 before the first. */
  lastEvaluationMs = 0;
  /** The series its last successful write wrote, by label set: those missing next time get a staleness marker. */
  writtenSeries = new Map<string, Labels>();

  abstract readonly name: string;
  /** As written in the rule file; this is what is queried. */
  abstract readonly expr: string;
  private printed: string | undefined;
  /** The rule's labels, the group's included. */
  abstract readonly labels: Readonly<Record<string, string>>;

  /** The expression as Prometheus prints it: its rules API's `query`, and what its alerts link to. */
  get query(): string {
    this.printed ??= printPromQL(this.expr);
    return this.printed;
  }

  /** Evaluates the rule; the samples it returns are written through remote write. */
  abstract evaluate(evaluation: RuleEvaluation): Promise<TimedSample[]>;
}
