import { z } from 'zod';
import { byteSize, duration, httpUrl } from '../core/config-types.ts';
import { kubernetesSchema } from '../core/kube/config.ts';
import { leaderElectionSchema } from '../notify/leader-config.ts';
import { capacitySchema } from './capacity/config.ts';
import { labelSet } from './config-types.ts';
import { DEFAULT_MAX_RULE_FILE_BYTES } from './rules/load.ts';
import { prometheusQuerySchema } from './rules/prometheus-client.ts';
import { remoteWriteSchema } from './rules/remote-write.ts';
import { templateSchema } from './rules/template/config.ts';

export const alertRulesSchema = z.strictObject({
  /** Prometheus rule files (or PrometheusRule resources), as Prometheus's `rule_files`: globs allowed. */
  ruleFiles: z.array(z.string().min(1)).default([]),
  /** Relative rule file patterns are relative to this directory; unset means the working directory. */
  ruleFilesDir: z.string().min(1).optional(),
  /** A larger rule file is refused unread. */
  maxRuleFileBytes: byteSize().default(DEFAULT_MAX_RULE_FILE_BYTES),
  /** Limits on label and annotation templates, which Prometheus does not bound. */
  templates: templateSchema,
  /** The Prometheus-compatible API the rules query. */
  prometheus: prometheusQuerySchema,
  /**
   * Where recording rules (and the ALERTS series) are written: Prometheus
   * with `--web.enable-remote-write-receiver`, or any remote-write receiver.
   */
  remoteWrite: remoteWriteSchema.optional(),
  /** Groups without an `interval` are evaluated this often. */
  evaluationInterval: duration()
    .default(60_000)
    .refine((ms) => ms >= 1_000, { error: 'expected at least 1s' }),
  /** Queries run this long before the evaluation time (groups may set their own `query_offset`). */
  queryOffset: duration().default(0),
  /** A firing alert is sent again after this long, so the receiver does not expire it. */
  resendDelay: duration().default(60_000),
  /** Resolved alerts are kept, and sent again, this long (Prometheus: 15m). */
  resolvedRetention: duration().default(15 * 60_000),
  /** Added to every alert that lacks them, and seen by templates as `$externalLabels`. */
  externalLabels: labelSet().default({}),
  /** `$externalURL` in templates, and where the `pathPrefix` function looks. */
  externalURL: httpUrl().optional(),
  /** Where alerts' links to their query point; unset means the Prometheus queried. */
  generatorURL: httpUrl().optional(),
  /** The alert state file's bound: beyond it pending alerts are left out of it. */
  maxStateBytes: byteSize().default(16 * 1024 * 1024),
  /** Recommendations of replicas per workload. */
  capacity: capacitySchema,
  /** The API server, for leader election. */
  kubernetes: kubernetesSchema,
  leaderElection: leaderElectionSchema('lookout-alert-rules'),
});
export type AlertRulesConfig = z.output<typeof alertRulesSchema>;
