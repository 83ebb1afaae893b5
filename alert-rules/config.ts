import { z } from 'zod';
import { byteSize, duration, httpUrl } from '../core/config-types.ts';
import { kubernetesSchema } from '../core/kube/config.ts';
import { leaderElectionSchema } from '../notify/leader-config.ts';
import { capacitySchema } from './capacity/config.ts';
import { labelSet } from './config-types.ts';
import { forwardingSchema } from './dispatch/alertmanager-forwarder.ts';
import { alertMessagesSchema } from './dispatch/messages/config.ts';
import { messageTemplateSchema } from './dispatch/messages/message-template.ts';
import { silencesSchema } from './dispatch/silences.ts';
import { probesSchema } from './probes/probes-config.ts';
import { DEFAULT_MAX_RULE_FILE_BYTES } from './rules/load.ts';
import { logSearchSchema } from './rules/log-search-client.ts';
import { prometheusQuerySchema } from './rules/prometheus-client.ts';
import { remoteWriteSchema } from './rules/remote-write.ts';
import { templateSchema } from './rules/template/config.ts';

const receiverSchema = z.strictObject({
  /** Robots (names under `robots:`) the receiver's groups are told to. */
  robots: z.array(z.string().min(1)).min(1),
  /** Tell groups when their alerts resolve (Alertmanager's send_resolved). */
  sendResolved: z.boolean().default(true),
  /** People mentioned in this receiver's firing messages, besides those the alerts name. */
  mentions: z
    .strictObject({
      mobiles: z.array(z.string().min(1)).optional(),
      userIds: z.array(z.string().min(1)).optional(),
      all: z.boolean().optional(),
    })
    .optional(),
  /** The receiver's own message: Go templates of Alertmanager's data, which may call `templateFiles`' definitions. */
  message: messageTemplateSchema.optional(),
});

/**
 * Go template files of `{{define}}` blocks (Alertmanager's `templates`),
 * globs allowed, relative to `ruleFilesDir`; read again on SIGHUP.
 */
const templateFiles = () => z.array(z.string().min(1));

const routingSchema = z.strictObject({
  /**
   * An Alertmanager configuration file, read as Alertmanager reads it: its
   * `route`, `inhibit_rules` and `time_intervals`; receivers are named there
   * and mapped to robots below. Read again on SIGHUP.
   */
  alertmanagerConfigFile: z.string().min(1),
  /** Receivers by name; a receiver not listed is the robot of the same name. */
  receivers: z.record(z.string().min(1), receiverSchema).default({}),
  templateFiles: templateFiles().default([]),
  messages: alertMessagesSchema.prefault({}),
  /** Alerts held at most; beyond it new alerts are dropped (counted). */
  maxAlerts: z.number().int().min(1).default(10_000),
  /** An alert not posted again for this long (and without an end) is resolved: Alertmanager's resolve_timeout. */
  resolveTimeout: duration().default(5 * 60_000),
  notificationLog: z
    .strictObject({
      /** How long an entry outlives its repeat interval (Alertmanager keeps its log 120 h). */
      retention: duration().default(120 * 3_600_000),
      maxEntries: z.number().int().min(100).default(10_000),
    })
    .prefault({}),
});

const silencesStoreSchema = silencesSchema
  .extend({
    /**
     * Where silences are kept: unset, a file in the data directory; with two
     * replicas a ConfigMap that both read and write.
     */
    configMap: z
      .strictObject({
        namespace: z.string().min(1).optional(),
        name: z.string().min(1).default('lookout-alert-rules-silences'),
        maxBytes: z.number().int().min(10_000).max(1_000_000).default(900_000),
      })
      .optional(),
    /** How often expired silences are removed and, with a ConfigMap, other replicas' changes read. */
    syncInterval: duration().default(15_000),
  })
  .prefault({});

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
  /** The collector's log search that log rules (groups of `kind: logs`) query, with a viewer token. */
  logs: logSearchSchema.optional(),
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
  /** Site probes: blackbox_exporter modules and the targets probed with them. */
  probes: probesSchema,
  /** Alerts routed, grouped, silenced and told to chat robots as Alertmanager would; unset: no built-in routing. */
  routing: routingSchema.optional(),
  /** Alertmanagers the alerts are posted to, as Prometheus posts them. */
  forward: forwardingSchema.omit({ externalLabels: true }).optional(),
  silences: silencesStoreSchema,
  /** `POST /api/alertmanager/webhook/<robot>`: an Alertmanager's webhook receiver, told to one robot. */
  webhookBridge: z
    .strictObject({
      /** The messages' settings; unset: those of `routing`, else the defaults. */
      messages: alertMessagesSchema.optional(),
      /** Template files for the robots' messages; unset: those of `routing`. */
      templateFiles: templateFiles().optional(),
      /** Robots' own messages, by robot name: `{ message: { title, text } }` as a receiver's. */
      robots: z.record(z.string().min(1), z.strictObject({ message: messageTemplateSchema })).default({}),
      /** Largest payload taken; Alertmanager's `max_alerts` keeps payloads small. */
      maxBodyBytes: byteSize().default(4 * 1024 * 1024),
    })
    .prefault({}),
  /** The API server, for leader election. */
  kubernetes: kubernetesSchema,
  leaderElection: leaderElectionSchema('lookout-alert-rules'),
});
export type AlertRulesConfig = z.output<typeof alertRulesSchema>;
