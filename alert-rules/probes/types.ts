/**
 * The shapes the probes' parts agree on: a target names a module (how to
 * probe) and is probed on a schedule; a prober turns one target into one
 * result; the address guard decides which addresses a probe may connect to.
 */
import type { Labels } from '../types.ts';

/** One series of a probe's result, named and labelled as blackbox_exporter names it (`probe_http_status_code`). */
export interface ProbeSample {
  name: string;
  help: string;
  labels?: Labels;
  value: number;
}

export interface ProbeResult {
  success: boolean;
  /** Why it failed, in words a person reads in chat: `status 503`, `body matched /ERROR/`, `connect: connection refused`. */
  failure?: string;
  startedAtMs: number;
  durationMs: number;
  /** Everything blackbox_exporter's `/probe` would show for this module, except `probe_success` and `probe_duration_seconds`. */
  samples: ProbeSample[];
  /** The earliest expiry of the certificates the target showed (Unix ms), when it spoke TLS. */
  certificateExpiresAtMs?: number;
}

/** A target's address as blackbox_exporter takes it: a URL for http, `host:port` for tcp, the DNS server for dns. */
export interface ProbeRequest {
  target: string;
  /** The module by name of the configuration, already resolved. */
  module: ProbeModule;
  /** The probe gives up at this time; its result is a failure `timeout after …`. */
  signal: AbortSignal;
}

export type Prober = (request: ProbeRequest) => Promise<ProbeResult>;

/**
 * A blackbox_exporter module, as its configuration file writes it (snake
 * case kept), after validation. The prober-specific part is left to the
 * probers' own schemas.
 */
export interface ProbeModule {
  prober: 'http' | 'tcp' | 'dns';
  timeoutMs: number;
  http?: Record<string, unknown>;
  tcp?: Record<string, unknown>;
  dns?: Record<string, unknown>;
  /** The module as its file wrote it (blackbox's format), which probe agents are sent; unset for one built in code. */
  source?: Record<string, unknown>;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Decides which addresses probes may reach. A host name is resolved once
 * and the address returned is the one to connect to, so a second answer
 * from DNS (rebinding) cannot change it after the check.
 */
export interface AddressGuard {
  /** Rejects with an AddressRefusedError saying which range the address is in and how to allow it. */
  resolve(
    host: string,
    options: { preferred: 4 | 6; fallback: boolean; signal: AbortSignal },
  ): Promise<ResolvedAddress>;
}

export class AddressRefusedError extends Error {}
