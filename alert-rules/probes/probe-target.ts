import { type AddressGuard, AddressRefusedError, type ProbeModule } from './types.ts';

/** Where a target connects: `host` as written (brackets removed), `port` when the target names one. */
export interface TargetAddress {
  host: string;
  port: number | undefined;
}

/** A scheme at the start of a target, unless the colon is a port's (`example.com:8080`). */
const SCHEME = /^([a-z][a-z0-9+.-]*):(?!\d)/i;
/** An `@` before the end of the authority (the first `/`, `?`, `#` or `\` after an optional `scheme://`). */
const USER_INFO = /^(?:[a-z][a-z0-9+.-]*:\/\/)?[^/?#\\]*@/i;

export const CREDENTIALS_IN_TARGET =
  'credentials in the target are not accepted: they would show in alerts, logs and /metrics; give them to the module (basic_auth or authorization)';

/** Whether a target carries credentials (`https://user:password@host/`), which must never be shown. */
export function hasCredentials(target: string): boolean {
  return USER_INFO.test(target);
}

/**
 * The URL an http target probes, as blackbox_exporter reads it (`http://` is
 * added when the scheme is missing). Throws an Error saying what is wrong,
 * never quoting credentials: other schemes (`file:`, `gopher:`) and
 * credentials in the URL are refused.
 */
export function httpTargetUrl(target: string): URL {
  if (hasCredentials(target)) throw new Error(CREDENTIALS_IN_TARGET);
  const scheme = SCHEME.exec(target)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https')
    throw new Error(`the http prober takes http:// and https:// URLs, not ${scheme}:`);
  const text = scheme === undefined ? `http://${target}` : target;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${JSON.stringify(text)} is not a valid URL`);
  }
  if (url.hostname === '') throw new Error(`${JSON.stringify(text)} has no host`);
  return url;
}

/**
 * The host and port of a target as blackbox_exporter reads them: http takes
 * a URL (see `httpTargetUrl`), tcp `host:port`, dns the server as
 * `host:port` or a bare host. Throws an Error saying what is wrong with it.
 */
export function targetAddress(target: string, prober: ProbeModule['prober']): TargetAddress {
  if (prober === 'http') {
    const url = httpTargetUrl(target);
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    return { host: unbracketed(url.hostname), port };
  }
  const split = splitHostPort(target);
  if (typeof split !== 'string') return split;
  if (prober === 'dns') return { host: unbracketed(target), port: undefined };
  throw new Error(`${JSON.stringify(target)} is not host:port: ${split}`);
}

function unbracketed(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1');
}

/** As Go's net.SplitHostPort, with the port a number; the reason when it is not `host:port`. */
function splitHostPort(text: string): TargetAddress | string {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return 'missing port';
  let host = text.slice(0, colon);
  if (host.startsWith('[')) {
    if (!host.endsWith(']')) return 'missing "]"';
    host = host.slice(1, -1);
  } else if (host.includes(':')) {
    return 'too many colons (write IPv6 addresses in brackets: [::1]:53)';
  }
  const port = text.slice(colon + 1);
  if (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    return `the port ${JSON.stringify(port)} is not a number from 1 to 65535`;
  }
  if (host === '') return 'missing host';
  return { host, port: Number(port) };
}

/**
 * Why a new target (from the API or the configuration) may not be probed,
 * or undefined. The target is resolved now, with both address families
 * unless told otherwise, so a name pointing inside the cluster is refused
 * with the reason before it is ever scheduled. A name that does not resolve
 * yet is accepted: its probes fail until it does, and each of them checks
 * the address again.
 */
export async function checkTargetAtCreation(
  guard: AddressGuard,
  target: string,
  prober: ProbeModule['prober'],
  options: { preferred?: 4 | 6; fallback?: boolean; signal?: AbortSignal } = {},
): Promise<string | undefined> {
  let host: string;
  try {
    host = targetAddress(target, prober).host;
  } catch (err) {
    return (err as Error).message;
  }
  try {
    await guard.resolve(host, {
      preferred: options.preferred ?? 6,
      fallback: options.fallback ?? true,
      signal: options.signal ?? new AbortController().signal,
    });
  } catch (err) {
    if (err instanceof AddressRefusedError) return err.message;
  }
  return undefined;
}
