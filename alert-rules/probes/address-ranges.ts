import { type Cidr, cidrContains, parseCidr } from './cidr.ts';
import type { IpAddress } from './ip-address.ts';

/**
 * The addresses probes may not reach unless allowed: whatever is inside the
 * cluster's reach rather than on the Internet (this host, private networks,
 * cloud metadata services) and what is no single host at all (multicast,
 * broadcast, reserved).
 */
export interface AddressRange {
  cidr: Cidr;
  /** Completes "… is": `loopback`, `private (RFC 1918)`. */
  what: string;
}

const range = (cidr: string, what: string): AddressRange => ({ cidr: parseCidr(cidr)!, what });

const THIS_HOST = 'unspecified (connecting to it reaches this host)';
const RFC_1918 = 'private (RFC 1918)';

export const DEFAULT_DENIED: readonly AddressRange[] = [
  range('0.0.0.0/32', THIS_HOST),
  range('0.0.0.0/8', '"this network" (0.0.0.0/8)'),
  range('10.0.0.0/8', RFC_1918),
  range('100.64.0.0/10', 'shared address space (carrier-grade NAT, RFC 6598)'),
  range('100.100.100.200/32', 'cloud metadata (Alibaba Cloud)'),
  range('127.0.0.0/8', 'loopback'),
  range('169.254.0.0/16', 'link-local (cloud metadata)'),
  range('172.16.0.0/12', RFC_1918),
  range('192.0.0.0/24', 'IETF protocol assignments (192.0.0.0/24)'),
  range('192.0.0.192/32', 'cloud metadata (Oracle Cloud)'),
  range('192.168.0.0/16', RFC_1918),
  range('198.18.0.0/15', 'benchmarking (198.18.0.0/15)'),
  range('224.0.0.0/4', 'multicast'),
  range('240.0.0.0/4', 'reserved (240.0.0.0/4)'),
  range('255.255.255.255/32', 'broadcast'),
  range('::/128', THIS_HOST),
  range('::1/128', 'loopback'),
  range('64:ff9b:1::/48', 'local-use NAT64 (RFC 8215), whose IPv4 form only the local translator knows'),
  range('fc00::/7', 'unique-local (private)'),
  range('fd00:ec2::254/128', 'cloud metadata (AWS)'),
  range('fe80::/10', 'link-local'),
  range('fec0::/10', 'site-local (deprecated private range)'),
  range('ff00::/8', 'multicast'),
];

/** The most specific default range holding the address, so 169.254.169.254 reads "cloud metadata" rather than a wider name. */
export function defaultDenial(address: IpAddress): AddressRange | undefined {
  let found: AddressRange | undefined;
  for (const candidate of DEFAULT_DENIED) {
    if (cidrContains(candidate.cidr, address) && candidate.cidr.prefix > (found?.cidr.prefix ?? -1)) {
      found = candidate;
    }
  }
  return found;
}

/** An IPv4 address that an IPv6 address carries, and how (`IPv4-mapped`). */
export interface EmbeddedIpv4 {
  how: string;
  address: IpAddress;
}

const low32 = (value: bigint) => value & 0xffffffffn;

/**
 * IPv6 forms whose packets end up at an IPv4 address: the kernel (mapped),
 * a translator (NAT64, SIIT) or a tunnel (6to4, Teredo) takes them there, so
 * the IPv4 address is checked as if written alone.
 */
const EMBEDDINGS: readonly { cidr: Cidr; how: string; extract: (value: bigint) => bigint }[] = [
  { cidr: parseCidr('::ffff:0:0/96')!, how: 'IPv4-mapped', extract: low32 },
  { cidr: parseCidr('::/96')!, how: 'IPv4-compatible', extract: low32 },
  { cidr: parseCidr('::ffff:0:0:0/96')!, how: 'IPv4-translated', extract: low32 },
  { cidr: parseCidr('64:ff9b::/96')!, how: 'NAT64 of', extract: low32 },
  { cidr: parseCidr('2002::/16')!, how: '6to4 of', extract: (value) => low32(value >> 80n) },
  { cidr: parseCidr('2001::/32')!, how: 'Teredo server', extract: (value) => low32(value >> 64n) },
  // Teredo obfuscates the client's address by inverting its bits.
  { cidr: parseCidr('2001::/32')!, how: 'Teredo client', extract: (value) => low32(~value) },
];

export function embeddedIpv4(address: IpAddress): EmbeddedIpv4[] {
  return EMBEDDINGS.filter((embedding) => cidrContains(embedding.cidr, address)).map((embedding) => ({
    how: embedding.how,
    address: { family: 4, value: embedding.extract(address.value) },
  }));
}
