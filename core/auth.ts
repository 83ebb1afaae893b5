import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** People's roles, each allowed what the ones before it are. */
export const ROLES = ['viewer', 'editor', 'admin'] as const;
/**
 * Roles of programs that report to Lookout (`agent`: a probe agent posting
 * its results). Outside the order: such a token may call only the routes
 * that name its role, and of the people's roles only `admin` may call those.
 */
export const SERVICE_ROLES = ['agent'] as const;
export type Role = (typeof ROLES)[number] | (typeof SERVICE_ROLES)[number];

export const authSchema = z.strictObject({
  /** Off only for a single-user machine: every request then acts as an unrestricted admin. */
  enabled: z.boolean().default(true),
  tokens: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        token: z.string().min(16, { error: 'tokens must be at least 16 characters' }),
        role: z.enum([...ROLES, ...SERVICE_ROLES]),
        /** When set, the token reads only these Kubernetes namespaces. */
        namespaces: z.array(z.string().min(1)).min(1).optional(),
        /** When set, an agent token reports only for these probe locations. */
        locations: z.array(z.string().min(1)).min(1).optional(),
      }),
    )
    .default([]),
  /** /healthz and /readyz without a token (kubelet probes carry none). */
  openHealth: z.boolean().default(true),
  /** /metrics without a token, for a Prometheus that scrapes without one. */
  openMetrics: z.boolean().default(false),
});
export type AuthConfig = z.output<typeof authSchema>;

export interface Principal {
  name: string;
  role: Role;
  /** undefined: every namespace. */
  namespaces?: readonly string[];
  /** The probe locations an agent token reports for; undefined: every one. */
  locations?: readonly string[];
}

export const ANONYMOUS_ADMIN: Principal = { name: 'anonymous', role: 'admin' };

export class HttpError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.statusCode = statusCode;
  }
}

const rank = (role: Role) => ROLES.indexOf(role as (typeof ROLES)[number]);

export function hasRole(principal: Principal, needed: Role): boolean {
  if (principal.role === needed || principal.role === 'admin') return true;
  const neededRank = rank(needed);
  return neededRank >= 0 && rank(principal.role) >= neededRank;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Looks a bearer token up in constant time per configured token. */
export class TokenTable {
  private readonly entries: { hash: Buffer; principal: Principal }[];

  constructor(config: AuthConfig) {
    this.entries = config.tokens.map((t) => ({
      hash: digest(t.token),
      principal: { name: t.name, role: t.role, namespaces: t.namespaces, locations: t.locations },
    }));
  }

  lookup(authorization: string | undefined): Principal | undefined {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!match) return undefined;
    const presented = digest(match[1]!);
    let found: Principal | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.hash, presented)) found = entry.principal;
    }
    return found;
  }
}

/**
 * The namespaces a query may read: what was asked for, within what the token
 * allows. undefined means no restriction. Asking for a namespace outside the
 * token's list is an error rather than a silently empty answer.
 */
export function scopeNamespaces(principal: Principal, requested?: readonly string[]): string[] | undefined {
  const allowed = principal.namespaces;
  if (!allowed) return requested && requested.length > 0 ? [...requested] : undefined;
  if (!requested || requested.length === 0) return [...allowed];
  const forbidden = requested.filter((ns) => !allowed.includes(ns));
  if (forbidden.length > 0) {
    throw new HttpError(403, `token "${principal.name}" may not read namespace(s): ${forbidden.join(', ')}`);
  }
  return [...requested];
}
