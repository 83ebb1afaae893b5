import type { Labels } from '../types.ts';
import type { InhibitRuleConfig } from './alertmanager-config.ts';
import { matches } from './matchers.ts';
import { labelSetString } from './route-tree.ts';

/** A firing alert, as a possible source of inhibition. */
export interface FiringAlert {
  labels: Labels;
  /** What inhibitedBy reports for this alert; default: its labels printed (`{alertname="NodeDown", …}`). */
  fingerprint?: string;
}

interface Source {
  id: string;
  /** Matches the rule's target side too: such a source cannot inhibit an alert that matches both sides. */
  alsoTarget: boolean;
}

/** One rule and its firing sources, indexed by their values of the `equal` labels. */
class Rule {
  readonly config: InhibitRuleConfig;
  private sources = new Map<string, Source[]>();

  constructor(config: InhibitRuleConfig) {
    this.config = config;
  }

  /** A missing label counts as empty on both sides, as in Alertmanager. */
  private equalKey(labels: Labels): string {
    return JSON.stringify(this.config.equal.map((name) => labels[name] ?? ''));
  }

  setSources(firing: readonly FiringAlert[]): void {
    this.sources = new Map();
    for (const alert of firing) {
      if (!matches(this.config.sourceMatchers, alert.labels)) continue;
      const key = this.equalKey(alert.labels);
      const list = this.sources.get(key) ?? [];
      list.push({
        id: alert.fingerprint ?? labelSetString(alert.labels),
        alsoTarget: matches(this.config.targetMatchers, alert.labels),
      });
      this.sources.set(key, list);
    }
  }

  inhibitors(labels: Labels): Source[] {
    if (!matches(this.config.targetMatchers, labels)) return [];
    const candidates = this.sources.get(this.equalKey(labels)) ?? [];
    // An alert matching both sides is inhibited only by sources that are not targets themselves:
    // otherwise two such alerts (or one alone) would mute each other.
    if (!matches(this.config.sourceMatchers, labels)) return candidates;
    return candidates.filter((source) => !source.alsoTarget);
  }
}

/**
 * Alertmanager's inhibition: an alert matching a rule's target matchers is
 * muted while an alert matching its source matchers fires with the same
 * values of the rule's `equal` labels.
 */
export class Inhibitor {
  private readonly rules: Rule[];

  constructor(rules: readonly InhibitRuleConfig[]) {
    this.rules = rules.map((rule) => new Rule(rule));
  }

  /** The alerts firing now; each call replaces the previous set. */
  setAlerts(firing: readonly FiringAlert[]): void {
    for (const rule of this.rules) rule.setSources(firing);
  }

  /** Ids of the firing alerts that inhibit an alert with these labels; empty when none does. */
  inhibitedBy(labels: Labels): string[] {
    const ids = new Set<string>();
    for (const rule of this.rules) for (const source of rule.inhibitors(labels)) ids.add(source.id);
    return [...ids];
  }
}
