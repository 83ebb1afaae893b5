/**
 * The resolve step every prober starts with: the address guard picks the
 * address (and refuses forbidden ones), and the samples blackbox's
 * chooseProtocol reports describe it.
 */
import { performance } from 'node:perf_hooks';
import { sample, secondsBetween } from './samples.ts';
import type { AddressGuard, ProbeSample, ResolvedAddress } from './types.ts';

export interface IpProtocolConfig {
  preferred_ip_protocol: 'ip4' | 'ip6';
  ip_protocol_fallback: boolean;
}

export interface Resolution {
  address?: ResolvedAddress;
  error?: unknown;
  lookupSeconds: number;
  samples: ProbeSample[];
}

/** The 16 bytes of an IPv6 address in text form (`::1`, `::ffff:10.0.0.1`). */
function ipv6Bytes(text: string): number[] {
  const withoutZone = text.split('%')[0]!;
  const v4Tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(withoutZone);
  const head = v4Tail ? withoutZone.slice(0, v4Tail.index) : withoutZone;
  const groupsOf = (part: string) => (part === '' ? [] : part.split(':').filter((g) => g !== ''));
  const [left = '', right] = head.split('::');
  const tailBytes = v4Tail ? v4Tail.slice(1).map(Number) : [];
  const leftGroups = groupsOf(left);
  const rightGroups = groupsOf(right ?? '');
  const missing = 8 - tailBytes.length / 2 - leftGroups.length - rightGroups.length;
  const groups = [
    ...leftGroups,
    ...Array<string>(right === undefined ? 0 : missing).fill('0'),
    ...rightGroups,
  ];
  return [...groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]), ...tailBytes];
}

/** FNV-1a (32 bit) of the address's bytes, 4 for IPv4 and 16 for IPv6: blackbox's probe_ip_addr_hash. */
export function ipAddressHash({ address, family }: ResolvedAddress): number {
  const bytes = family === 4 ? address.split('.').map(Number) : ipv6Bytes(address);
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

/** A URL's host without the brackets of an IPv6 literal. */
export const bareHost = (host: string): string => host.replace(/^\[(.*)\]$/, '$1');

/** `host:port` as Go's net.SplitHostPort takes it (`[::1]:53` for IPv6). */
export function splitHostPort(target: string): { host: string; port: number } | undefined {
  const match = /^(\[[^\]]*\]|[^:[\]]*):(\d{1,5})$/.exec(target);
  const port = Number(match?.[2]);
  if (!match || port > 65535) return undefined;
  return { host: bareHost(match[1]!), port };
}

export async function resolveTarget(
  guard: AddressGuard,
  host: string,
  config: IpProtocolConfig,
  signal: AbortSignal,
): Promise<Resolution> {
  const started = performance.now();
  const lookup = (ended: number) => sample('probe_dns_lookup_time_seconds', secondsBetween(started, ended));
  try {
    const address = await guard.resolve(bareHost(host), {
      preferred: config.preferred_ip_protocol === 'ip4' ? 4 : 6,
      fallback: config.ip_protocol_fallback,
      signal,
    });
    const ended = performance.now();
    return {
      address,
      lookupSeconds: secondsBetween(started, ended),
      samples: [
        lookup(ended),
        sample('probe_ip_protocol', address.family),
        sample('probe_ip_addr_hash', ipAddressHash(address)),
      ],
    };
  } catch (error) {
    const ended = performance.now();
    return {
      error,
      lookupSeconds: secondsBetween(started, ended),
      samples: [lookup(ended), sample('probe_ip_protocol', 0), sample('probe_ip_addr_hash', 0)],
    };
  }
}
