import { ADDRESS_BITS, formatIp, type IpAddress, parseIpAddress } from './ip-address.ts';

/** A block of addresses: the first `prefix` bits of `network`. */
export interface Cidr {
  network: IpAddress;
  prefix: number;
}

/**
 * `10.0.0.0/8`, `fd00::/8`, or one address (`10.0.0.5`, `::1`). Bits past
 * the prefix are ignored, as Go's ParseCIDR ignores them.
 */
export function parseCidr(text: string): Cidr | undefined {
  const [addressText, prefixText, extra] = text.split('/');
  if (extra !== undefined || addressText === undefined) return undefined;
  const address = parseIpAddress(addressText);
  if (!address || address.zone !== undefined) return undefined;
  const bits = ADDRESS_BITS[address.family];
  if (prefixText !== undefined && !/^(?:0|[1-9][0-9]{0,2})$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return undefined;
  const shift = BigInt(bits - prefix);
  return { network: { family: address.family, value: (address.value >> shift) << shift }, prefix };
}

export function cidrContains(cidr: Cidr, address: IpAddress): boolean {
  if (cidr.network.family !== address.family) return false;
  const shift = BigInt(ADDRESS_BITS[address.family] - cidr.prefix);
  return address.value >> shift === cidr.network.value >> shift;
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.network)}/${cidr.prefix}`;
}
