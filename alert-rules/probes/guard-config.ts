import { z } from 'zod';
import { duration } from '../../core/config-types.ts';
import { type Cidr, parseCidr } from './cidr.ts';
import { parseHost } from './ip-address.ts';

/** `status.internal` matches that name only; `*.svc.cluster.local` matches every name below it, not itself. */
export interface HostPattern {
  name: string;
  subdomains: boolean;
}

export type AllowEntry = { cidr: Cidr } | { host: HostPattern };

export function parseAllowEntry(text: string): AllowEntry | undefined {
  const cidr = parseCidr(text);
  if (cidr) return { cidr };
  const subdomains = text.startsWith('*.');
  const host = parseHost(subdomains ? text.slice(2) : text);
  return host.kind === 'name' ? { host: { name: host.name, subdomains } } : undefined;
}

const allowEntry = z.string().transform((text, ctx) => {
  const entry = parseAllowEntry(text);
  if (entry) return entry;
  ctx.addIssue({
    code: 'custom',
    message: `expected a CIDR (10.0.0.0/8), an address, a host name or *.domain, got ${JSON.stringify(text)}`,
  });
  return z.NEVER;
});

const cidrEntry = z.string().transform((text, ctx) => {
  const cidr = parseCidr(text);
  if (cidr) return cidr;
  ctx.addIssue({
    code: 'custom',
    message: `expected a CIDR (10.0.0.0/8) or an address, got ${JSON.stringify(text)}`,
  });
  return z.NEVER;
});

/**
 * Which addresses probes may reach. Meant to sit directly under the probes'
 * settings (the guard's messages name them `probes.allow`, `probes.deny`):
 * spread its `shape` there.
 */
export const addressGuardSchema = z.strictObject({
  /**
   * Reachable although the default list refuses them: CIDRs and addresses
   * (an IPv4 one also allows its IPv4-mapped, NAT64, 6to4 and Teredo forms),
   * and host names, whose every address is then allowed: the name is trusted.
   */
  allow: z.array(allowEntry).default([]),
  /** Never reachable, whatever `allow` says: CIDRs or addresses, checked on IPv4 forms inside IPv6 too. */
  deny: z.array(cidrEntry).default([]),
  /** Resolving a target's name takes at most this long (the probe's own timeout may end it sooner). */
  resolveTimeout: duration()
    .default(5_000)
    .refine((ms) => ms >= 1, { error: 'expected at least 1ms' }),
});

export type AddressGuardSettings = z.output<typeof addressGuardSchema>;
