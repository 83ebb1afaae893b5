import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { byteSize, duration } from '../../core/config-types.ts';
import { labelSet } from '../config-types.ts';
import type { Labels } from '../types.ts';
import { CREDENTIALS_IN_TARGET, hasCredentials } from './probe-target.ts';
import type { ProbeModule } from './types.ts';

/**
 * Labels the probe alerts set themselves (see probe-alerts.ts); a target's
 * own labels may not use them, so an alert always says which probe it is.
 */
export const RESERVED_LABELS = ['alertname', 'instance', 'probe', 'receiver', 'days'] as const;

/** Ids appear in URLs (`/api/probes/<id>/results`) and file contents: kept to a safe alphabet. */
const TARGET_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** A probe agent's location (`hangzhou-outside`): the same alphabet as ids, as it names series and alerts. */
export const locationName = () =>
  z.string().max(64).regex(TARGET_ID, {
    error: 'expected letters, digits, "_", "." and "-", starting with a letter or digit',
  });

export interface TargetLimits {
  maxIdLength: number;
  maxTargetLength: number;
  maxLabels: number;
  maxLabelValueLength: number;
  maxReceivers: number;
  maxLocations: number;
}

export const DEFAULT_TARGET_LIMITS: TargetLimits = {
  maxIdLength: 128,
  maxTargetLength: 2048,
  maxLabels: 32,
  maxLabelValueLength: 1024,
  maxReceivers: 10,
  maxLocations: 32,
};

const DAY_MS = 86_400_000;

/**
 * One target as the configuration file or the API writes it. Durations are
 * written as "30s"; the defaults follow Uptime Kuma's (retries 1: the first
 * failed probe makes the target pending, the second makes it down).
 */
export function probeTargetSchema(limits: TargetLimits = DEFAULT_TARGET_LIMITS) {
  const reserved = new Set<string>(RESERVED_LABELS);
  return z
    .strictObject({
      /** The target's stable id; left out (API), one is generated. */
      name: z
        .string()
        .max(limits.maxIdLength)
        .regex(TARGET_ID, {
          error: 'expected letters, digits, "_", "." and "-", starting with a letter or digit',
        })
        .optional(),
      /** What the module probes: a URL for http, `host:port` for tcp, the DNS server for dns. */
      target: z
        .string()
        .min(1)
        .max(limits.maxTargetLength)
        .refine((target) => !hasCredentials(target), { error: CREDENTIALS_IN_TARGET }),
      /** A module of the probe modules file, by name. */
      module: z.string().min(1),
      interval: duration()
        .default(60_000)
        .refine((ms) => ms >= 1_000 && ms <= DAY_MS, { error: 'expected between 1s and 1d' }),
      /** Unset: the module's timeout. Never more than the interval. */
      timeout: duration()
        .refine((ms) => ms > 0, { error: 'expected more than 0' })
        .optional(),
      /** Added to every alert of the target. */
      labels: labelSet()
        .default({})
        .refine((labels) => Object.keys(labels).length <= limits.maxLabels, {
          error: `expected at most ${limits.maxLabels} labels`,
        })
        .refine((labels) => Object.keys(labels).every((name) => !reserved.has(name)), {
          error: `the probe alerts set ${RESERVED_LABELS.join(', ')} themselves`,
        })
        .refine(
          (labels) => Object.values(labels).every((value) => value.length <= limits.maxLabelValueLength),
          {
            error: `expected label values of at most ${limits.maxLabelValueLength} characters`,
          },
        ),
      /** Failed probes in a row before the target is down (and ProbeDown fires); those before are pending. */
      failuresBeforeDown: z.number().int().min(1).max(100).default(2),
      /** Successful probes in a row before a down target is up again. */
      successesBeforeUp: z.number().int().min(1).max(100).default(1),
      flapping: z
        .strictObject({
          /** This many ups and downs within the last `probes` probes make the target flapping; 0: never. */
          stateChanges: z.number().int().min(0).max(1000).default(4),
          /** The window, in probes; flapping ends when it holds no up or down. */
          probes: z.number().int().min(2).max(1000).default(20),
        })
        .prefault({}),
      /** CertificateExpiring fires once as each of these thresholds (days left) is crossed. */
      certificateExpiryDays: z.array(z.number().int().min(1).max(3650)).max(10).default([21, 14, 7]),
      /** Receivers of the routing that hear about this target; none: the routing decides alone. */
      receivers: z
        .array(z.string().min(1).max(limits.maxLabelValueLength))
        .max(limits.maxReceivers)
        .default([]),
      /** Probe agents' locations that probe the target; none: alert-rules probes it itself. */
      locations: z
        .array(locationName())
        .max(limits.maxLocations)
        .refine((names) => new Set(names).size === names.length, { error: 'a location is listed twice' })
        .default([]),
      /** How many of the locations must see the target down for it to be down; unset: a majority. */
      locationsDown: z.number().int().min(1).optional(),
    })
    .refine((spec) => spec.locationsDown === undefined || spec.locationsDown <= spec.locations.length, {
      error: 'expected at most as many as the locations listed',
      path: ['locationsDown'],
    });
}

export type ProbeTargetInput = z.input<ReturnType<typeof probeTargetSchema>>;
export type ProbeTargetSpec = z.output<ReturnType<typeof probeTargetSchema>>;

/** A target ready to be scheduled: its id settled, its module looked up, its timeout bounded. */
export interface ProbeTarget {
  id: string;
  target: string;
  moduleName: string;
  module: ProbeModule;
  intervalMs: number;
  /** The target's timeout, else the module's, and never more than the interval. */
  timeoutMs: number;
  labels: Labels;
  failuresBeforeDown: number;
  successesBeforeUp: number;
  flapping: { stateChanges: number; probes: number };
  /** Unique, largest first. */
  certificateExpiryDays: number[];
  receivers: string[];
  /** The probe agents' locations that probe it; empty: the centre itself. */
  locations: string[];
  /** How many locations must see it down (1 without locations). */
  locationsDown: number;
}

/** A majority: one location's own trouble never makes a target of two or more down. */
export function majority(count: number): number {
  return Math.floor(count / 2) + 1;
}

export class ProbeTargetError extends Error {}

/** An id for a target created without a name (through the API); the caller keeps it with the target. */
export function newTargetId(): string {
  return `probe-${randomBytes(8).toString('hex')}`;
}

/** Why a module name is not one of the modules, naming the known ones. */
export function unknownModule(name: string, modules: ReadonlyMap<string, ProbeModule>): string {
  const known = [...modules.keys()].sort().join(', ') || 'none';
  return `unknown probe module ${JSON.stringify(name)} (known: ${known})`;
}

/** Resolves a validated target against the probe modules; an unknown module is refused naming the known ones. */
export function resolveProbeTarget(
  spec: ProbeTargetSpec,
  modules: ReadonlyMap<string, ProbeModule>,
  id: string = spec.name ?? newTargetId(),
): ProbeTarget {
  const module = modules.get(spec.module);
  if (!module) throw new ProbeTargetError(unknownModule(spec.module, modules));
  return {
    id,
    target: spec.target,
    moduleName: spec.module,
    module,
    intervalMs: spec.interval,
    timeoutMs: Math.min(spec.timeout ?? module.timeoutMs, spec.interval),
    labels: { ...spec.labels },
    failuresBeforeDown: spec.failuresBeforeDown,
    successesBeforeUp: spec.successesBeforeUp,
    flapping: { ...spec.flapping },
    certificateExpiryDays: [...new Set(spec.certificateExpiryDays)].sort((a, b) => b - a),
    receivers: [...new Set(spec.receivers)],
    locations: [...spec.locations],
    locationsDown: spec.locationsDown ?? majority(spec.locations.length),
  };
}

/** The scheduler's own settings, under `alertRules.probes` next to the targets. */
export const probeSchedulerSchema = z.strictObject({
  /** Targets held at most; adding more is refused. */
  maxTargets: z.number().int().min(1).default(20_000),
  /** Probes running at once at most; due probes beyond it wait for a slot (their start delay is measured). */
  concurrency: z.number().int().min(1).max(10_000).default(256),
  /** A probe that has not stopped this long after its timeout is given up (its socket may linger). */
  abandonAfter: duration().default(1_000),
  /** Raw results kept per target for the results API. */
  resultsPerTarget: z.number().int().min(1).max(1_000).default(50),
  /** How often the targets' state is saved, when it changed. */
  stateSaveInterval: duration()
    .default(10_000)
    .refine((ms) => ms >= 100, { error: 'expected at least 100ms' }),
  /** How often the results and uptime counts are saved. */
  historySaveInterval: duration()
    .default(5 * 60_000)
    .refine((ms) => ms >= 100, { error: 'expected at least 100ms' }),
  /** The state file's bound: a larger state is not saved (counted). */
  maxStateBytes: byteSize().default(32 * 1024 * 1024),
  /** The history file's bound: beyond it raw results are left out, then nothing is saved (counted). */
  maxHistoryBytes: byteSize().default(128 * 1024 * 1024),
  targetLimits: z
    .strictObject({
      maxIdLength: z.number().int().min(8).max(1024).default(DEFAULT_TARGET_LIMITS.maxIdLength),
      maxTargetLength: z.number().int().min(16).default(DEFAULT_TARGET_LIMITS.maxTargetLength),
      maxLabels: z.number().int().min(0).default(DEFAULT_TARGET_LIMITS.maxLabels),
      maxLabelValueLength: z.number().int().min(1).default(DEFAULT_TARGET_LIMITS.maxLabelValueLength),
      maxReceivers: z.number().int().min(0).default(DEFAULT_TARGET_LIMITS.maxReceivers),
      maxLocations: z.number().int().min(0).default(DEFAULT_TARGET_LIMITS.maxLocations),
    })
    .prefault({}),
});

export type ProbeSchedulerConfig = z.output<typeof probeSchedulerSchema>;
