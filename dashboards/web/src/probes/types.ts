/** The probes API's answers, as docs/probes.md describes them. */

export type ProbeState = 'unknown' | 'up' | 'pending' | 'down' | 'flapping';

export interface ProbeSpec {
  name?: string;
  target: string;
  module: string;
  interval?: string;
  labels?: Record<string, string>;
  receivers?: string[];
  [more: string]: unknown;
}

export interface Probe {
  id: string;
  target: string;
  module: string;
  state: ProbeState;
  since: string | null;
  lastProbeAt: string | null;
  lastFailure: string | null;
  certificateExpiresAt: string | null;
  source: 'config' | 'api';
  spec: ProbeSpec;
}

export interface ProbeList {
  probes: Probe[];
  modules: string[];
}

export interface Uptime {
  ratio: number | null;
  probes: number;
  successes: number;
}

export interface ProbeResult {
  startedAt: string;
  durationSeconds: number;
  success: boolean;
  failure?: string;
  location?: string;
}

export interface ProbeResults extends Probe {
  intervalSeconds: number;
  timeoutSeconds: number;
  uptime: Record<'24h' | '7d' | '30d', Uptime>;
  /** Newest first. */
  results: ProbeResult[];
}

const DAY_MS = 86_400_000;

/** Whole days until the certificate expires (negative once it has); undefined without TLS. */
export function certificateDaysLeft(expiresAt: string | null, nowMs = Date.now()): number | undefined {
  return expiresAt === null ? undefined : Math.floor((Date.parse(expiresAt) - nowMs) / DAY_MS);
}

/** How long ago a time was, in the largest whole unit. */
export function ago(time: string | null, nowMs = Date.now()): string {
  if (time === null) return 'never';
  const seconds = Math.max(0, Math.round((nowMs - Date.parse(time)) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}
