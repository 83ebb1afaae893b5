import { type AddressGuard, AddressRefusedError, type ProbeModule } from './types.ts';

/** Where a target connects: `host` as written (brackets removed), `port` when the target names one. */
export interface TargetAddress {
  host: string;
  port: number | undefined;
}

/**
 * The host and port of a target as blackbox_exporter reads them: http takes
 * a URL (`http://` is added when the scheme is missing), tcp `host:port`,
 * dns the server as `host:port` or a bare host. Throws an Error saying what
 * is wrong with it.
 */
export function targetAddress(target: string, prober: ProbeModule['prober']): TargetAddress {
  if (prober === 'http') return urlAddress(/^https?:\/\//i.test(target) ? target : `http://${target}`);
  const split = splitHostPort(target);
  if (typeof split !== 'string') return split;
  if (prober === 'dns') return { host: unbracketed(target), port: undefined };
  throw new Error(`${JSON.stringify(target)} is not host:port: ${split}`);
}

function urlAddress(text: string): TargetAddress {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${JSON.stringify(text)} is not a valid URL`);
  }
  if (url.hostname === '') throw new Error(`${JSON.stringify(text)} has no host`);
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { host: unbracketed(url.hostname), port };
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
