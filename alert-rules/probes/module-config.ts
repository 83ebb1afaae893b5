/**
 * A probe module as blackbox_exporter's configuration file writes it
 * (`prober`, `timeout`, `http`/`tcp`/`dns`, snake case, unknown keys
 * refused), plus Lookout's own checks:
 *
 * - `fail_if_slower_than: 2s` — the probe fails when it took longer, with
 *   its duration in the reason; blackbox has no such check (people alert on
 *   `probe_duration_seconds` instead).
 * - `fail_if_certificate_expires_within: 336h` (a Go duration: 14 days) —
 *   the probe fails when the earliest certificate the target showed
 *   expires sooner: `certificate expires in 6 days`.
 *
 * A target can override both (see `withTargetChecks`).
 */
import { z } from 'zod';
import { formatConfigErrors, validate } from '../../core/config.ts';
import { goDuration } from './config-fields.ts';
import { dnsProbeSchema } from './dns-config.ts';
import { httpProbeSchema } from './http-config.ts';
import { tcpProbeSchema } from './tcp-config.ts';
import type { ProbeModule } from './types.ts';

/** Blackbox takes the scrape's timeout when a module has none; Lookout schedules itself, so it needs its own. */
export const DEFAULT_PROBE_TIMEOUT_MS = 10_000;

const PROBERS = ['http', 'tcp', 'dns'] as const;

/** Lookout's checks beyond blackbox's, for a module or a target. */
export const lookoutChecksFields = {
  fail_if_slower_than: goDuration().optional(),
  fail_if_certificate_expires_within: goDuration().optional(),
};

export interface LookoutChecks {
  failIfSlowerThanMs?: number;
  failIfCertificateExpiresWithinMs?: number;
}

export type LookoutProbeModule = ProbeModule & LookoutChecks;

const parsedSections = new WeakMap<object, unknown>();

function remember<T extends object | undefined>(section: T): T {
  if (section) parsedSections.set(section, section);
  return section;
}

const unsupportedProber = (name: string) =>
  z
    .unknown()
    .refine(() => false, { error: `the ${name} prober is not supported by Lookout (http, tcp and dns are)` })
    .optional();

const moduleFieldsSchema = z
  .strictObject({
    prober: z.enum(PROBERS),
    timeout: goDuration().optional(),
    ...lookoutChecksFields,
    http: httpProbeSchema.optional(),
    tcp: tcpProbeSchema.optional(),
    dns: dnsProbeSchema.optional(),
    icmp: unsupportedProber('icmp'),
    grpc: unsupportedProber('grpc'),
  })
  .refine((module) => module.prober !== 'dns' || module.dns !== undefined, {
    error: 'query name must be set for DNS module',
    path: ['dns'],
  })
  .transform((module) => ({
    prober: module.prober,
    timeoutMs: module.timeout || DEFAULT_PROBE_TIMEOUT_MS,
    failIfSlowerThanMs: module.fail_if_slower_than,
    failIfCertificateExpiresWithinMs: module.fail_if_certificate_expires_within,
    http: remember(module.http ?? (module.prober === 'http' ? httpProbeSchema.parse({}) : undefined)),
    tcp: remember(module.tcp ?? (module.prober === 'tcp' ? tcpProbeSchema.parse({}) : undefined)),
    dns: remember(module.dns),
  }));

/**
 * A module validated, with the module as written kept as its `source`: probe
 * agents are sent that, in blackbox's format, and validate it themselves.
 */
export const probeModuleSchema = z.unknown().transform((written, ctx) => {
  const result = moduleFieldsSchema.safeParse(written, { reportInput: true });
  if (!result.success) {
    // Forwarded whole: each issue keeps its path below the module and its message.
    for (const issue of result.error.issues) ctx.addIssue({ ...issue } as Parameters<typeof ctx.addIssue>[0]);
    return z.NEVER;
  }
  return { ...result.data, source: structuredClone(written) as Record<string, unknown> };
});
export type ValidatedProbeModule = z.output<typeof probeModuleSchema>;

/** Modules by name, as under blackbox's `modules:`. */
export const probeModulesSchema = z.record(
  z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'expected a module name: letters, digits, _ . -' }),
  probeModuleSchema,
);

/** A blackbox_exporter configuration file, unchanged. */
export const blackboxConfigSchema = z.strictObject({ modules: probeModulesSchema.default({}) });

/** A module with a target's own checks (from the target's configuration) in place of the module's. */
export function withTargetChecks(module: LookoutProbeModule, checks: LookoutChecks): LookoutProbeModule {
  return {
    ...module,
    failIfSlowerThanMs: checks.failIfSlowerThanMs ?? module.failIfSlowerThanMs,
    failIfCertificateExpiresWithinMs:
      checks.failIfCertificateExpiresWithinMs ?? module.failIfCertificateExpiresWithinMs,
  };
}

/**
 * The prober's part of a module, validated: the object `probeModuleSchema`
 * produced is taken as it is; one built by hand is checked once (and throws
 * the configuration errors when it is wrong).
 */
export function probeSection<S extends z.ZodType<object>>(
  section: Record<string, unknown> | undefined,
  schema: S,
): z.output<S> {
  const raw = section ?? {};
  const cached = parsedSections.get(raw);
  if (cached) return cached as z.output<S>;
  const result = validate(schema, raw);
  if (!result.ok) throw new Error(formatConfigErrors(result.errors).replaceAll('\n', '; '));
  const parsed = result.value;
  parsedSections.set(raw, parsed);
  parsedSections.set(parsed, parsed);
  return parsed;
}
