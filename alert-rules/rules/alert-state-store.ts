import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { isNotFound, writeFileAtomic } from '../../core/atomic-file.ts';
import { describeError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { Metrics } from '../../core/metrics.ts';
import { ALERT_RULES_METRICS } from '../metrics.ts';
import type { Alert } from './alert.ts';
import type { AlertingRule } from './alerting-rule.ts';
import { groupKey, type RuleGroup, ruleIdentity } from './group-runner.ts';
import { labelsKey } from './labels.ts';

/** Raised when the meaning of a field changes; an older or newer file is then set aside, not misread. */
const FORMAT_VERSION = 1;

const labelsSchema = z.record(z.string(), z.string());
/** An alert as the state files keep it. */
export const alertSchema = z.object({
  state: z.enum(['pending', 'firing', 'inactive']),
  labels: labelsSchema,
  annotations: labelsSchema,
  // A string, so that NaN and infinities survive JSON.
  value: z.string(),
  activeAtMs: z.number(),
  firedAtMs: z.number(),
  resolvedAtMs: z.number(),
  lastSentAtMs: z.number(),
  validUntilMs: z.number(),
  keepFiringSinceMs: z.number(),
});
const ruleSchema = z.object({
  name: z.string(),
  labels: labelsSchema,
  /** Among the group's rules with the same name and labels, which one (0 for the first). */
  ordinal: z.number().int(),
  alerts: z.array(alertSchema),
});
const stateSchema = z.object({
  version: z.literal(FORMAT_VERSION),
  savedAtMs: z.number(),
  groups: z.array(z.object({ file: z.string(), name: z.string(), rules: z.array(ruleSchema) })),
});

export type SavedAlertState = z.infer<typeof stateSchema>;
type SavedRule = z.infer<typeof ruleSchema>;

/** Each alerting rule of a group with its rank among the group's rules of the same name and labels. */
function rankedRules(group: RuleGroup): { rule: AlertingRule; id: string; ordinal: number }[] {
  const seen = new Map<string, number>();
  return group.alertingRules().map((rule) => {
    const id = ruleIdentity(rule);
    const ordinal = seen.get(id) ?? 0;
    seen.set(id, ordinal + 1);
    return { rule, id, ordinal };
  });
}

/** The alert state of every alerting rule that holds alerts; `keepPending` false leaves pending alerts out. */
export function snapshotAlertState(
  groups: Iterable<RuleGroup>,
  nowMs: number,
  keepPending = true,
): SavedAlertState {
  const saved: SavedAlertState = { version: FORMAT_VERSION, savedAtMs: nowMs, groups: [] };
  for (const group of groups) {
    const rules: SavedRule[] = [];
    for (const { rule, ordinal } of rankedRules(group)) {
      const alerts = rule
        .currentAlerts()
        .filter((alert) => keepPending || alert.state !== 'pending')
        .map((alert) => ({ ...alert, value: String(alert.value) }));
      if (alerts.length > 0) rules.push({ name: rule.name, labels: { ...rule.labels }, ordinal, alerts });
    }
    if (rules.length > 0) saved.groups.push({ file: group.file, name: group.name, rules });
  }
  return saved;
}

/**
 * Gives each alerting rule the alerts saved for it: the rule with the same
 * file, group, name and labels (and rank among equals), as Prometheus
 * matches rules when a reload changes a group. Firing and resolved alerts
 * come back as they were, send times included, so nothing is sent twice and
 * no resolve is lost. A pending alert's time spent pending before the stop
 * counts, the time down does not (Prometheus restores `for` that way too).
 */
export function restoreAlertState(
  groups: Iterable<RuleGroup>,
  saved: SavedAlertState,
  nowMs: number,
): number {
  const savedRules = new Map<string, SavedRule>();
  for (const group of saved.groups) {
    for (const rule of group.rules) {
      const id = `${rule.name}${labelsKey(rule.labels)}`;
      savedRules.set(`${groupKey(group.file, group.name)}\u0000${id}\u0000${rule.ordinal}`, rule);
    }
  }
  const downMs = Math.max(0, nowMs - saved.savedAtMs);
  let restored = 0;
  for (const group of groups) {
    for (const { rule, id, ordinal } of rankedRules(group)) {
      const match = savedRules.get(`${group.key}\u0000${id}\u0000${ordinal}`);
      if (!match) continue;
      const alerts: Alert[] = match.alerts.map((alert) => ({
        ...alert,
        value: Number(alert.value),
        activeAtMs: alert.state === 'pending' ? alert.activeAtMs + downMs : alert.activeAtMs,
      }));
      rule.adoptAlerts(alerts);
      restored += alerts.length;
    }
  }
  return restored;
}

export interface AlertStateStoreOptions {
  path: string;
  /** A state larger than this is saved without its pending alerts, or not at all. */
  maxBytes: number;
  log: Logger;
  metrics: Metrics;
}

/** The alert state file: versioned JSON, replaced atomically, bounded in size. */
export class AlertStateStore {
  private readonly saveFailures;
  private readonly restoreFailures;
  private readonly bytes;
  private readonly options: AlertStateStoreOptions;

  constructor(options: AlertStateStoreOptions) {
    this.options = options;
    this.saveFailures = options.metrics.counter(ALERT_RULES_METRICS.stateSaveFailures);
    this.restoreFailures = options.metrics.counter(ALERT_RULES_METRICS.stateRestoreFailures);
    this.bytes = options.metrics.gauge(ALERT_RULES_METRICS.stateBytes);
  }

  /** The saved state; undefined when there is none or it cannot be read (logged and counted, never thrown). */
  async load(): Promise<SavedAlertState | undefined> {
    const { path, log } = this.options;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      return this.unreadable(err);
    }
    try {
      return stateSchema.parse(JSON.parse(text));
    } catch (err) {
      log.error({ path, err: describeError(err).slice(0, 500) }, 'The saved alert state is not understood');
      return this.unreadable(err);
    }
  }

  private unreadable(err: unknown): undefined {
    this.restoreFailures.inc();
    this.options.log.error(
      { path: this.options.path, err: describeError(err).slice(0, 500) },
      'The saved alert state cannot be used; alerts start afresh (pending alerts wait their full `for`, firing ones fire again)',
    );
    return undefined;
  }

  /** Saves `groups`' alert state; failures are logged and counted, never thrown (the next save tries again). */
  async save(groups: readonly RuleGroup[], nowMs: number): Promise<void> {
    const { path, maxBytes, log } = this.options;
    let text = JSON.stringify(snapshotAlertState(groups, nowMs));
    if (Buffer.byteLength(text) > maxBytes) {
      text = JSON.stringify(snapshotAlertState(groups, nowMs, false));
      if (Buffer.byteLength(text) > maxBytes) {
        this.saveFailures.inc({ reason: 'too_large' });
        log.error(
          { path, maxBytes },
          'The alert state is over its size limit even without pending alerts; not saved',
        );
        return;
      }
      log.warn(
        { path, maxBytes },
        'The alert state is over its size limit; saved without its pending alerts',
      );
    }
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFileAtomic(path, text);
      this.bytes.set(Buffer.byteLength(text));
    } catch (err) {
      this.saveFailures.inc({ reason: 'write' });
      log.error(
        { path, err: describeError(err) },
        'Saving the alert state failed; trying again after the next evaluation',
      );
    }
  }
}
