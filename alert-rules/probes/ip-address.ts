import { domainToASCII } from 'node:url';

/**
 * IP addresses as numbers, parsed from every spelling that a URL parser,
 * inet_aton or getaddrinfo takes for one: a guard that understood fewer
 * spellings than the resolver would let `0x7f.1` through as a "name".
 */
export interface IpAddress {
  family: 4 | 6;
  /** The address as an unsigned 32-bit (IPv4) or 128-bit (IPv6) number. */
  value: bigint;
  /** An IPv6 zone (`eth0` of `fe80::1%eth0`): where to send, not whom; checks ignore it. */
  zone?: string;
}

export const ADDRESS_BITS = { 4: 32, 6: 128 } as const;

export type ParsedHost =
  /** `written` is the host without brackets, to quote back to whoever wrote it. */
  | { kind: 'address'; address: IpAddress; written: string }
  /** `name` is lower-case ASCII without a trailing dot; `absolute` says it had one. */
  | { kind: 'name'; name: string; absolute: boolean }
  | { kind: 'invalid'; reason: string };

/**
 * A host as written in a URL or `host:port`: brackets around IPv6, any IPv4
 * spelling, or a name (IDN names are turned into their ASCII form, as a URL
 * parser does, which also maps full-width digits and dots).
 */
export function parseHost(host: string): ParsedHost {
  const shown = JSON.stringify(host.length > 100 ? `${host.slice(0, 100)}…` : host);
  const bracketed = host.startsWith('[') && host.endsWith(']');
  const inner = bracketed ? host.slice(1, -1) : host;
  if (bracketed || inner.includes(':')) {
    const address = parseIpv6(inner);
    return address
      ? { kind: 'address', address, written: inner }
      : invalid(`${shown} is not a valid IPv6 address`);
  }
  // Checked before the IDN mapping, which would read `%31` or `a/b` as a URL parser does.
  if (/[^a-zA-Z0-9._\-\u0080-\u{10ffff}]/u.test(inner)) return invalid(`${shown} is not a valid host name`);
  const ascii = /[\u0080-\u{10ffff}]/u.test(inner) ? domainToASCII(inner) : inner;
  if (ascii === '' || /[^a-zA-Z0-9._-]/.test(ascii)) return invalid(`${shown} is not a valid host name`);
  const ipv4 = parseIpv4(ascii);
  if (ipv4 === 'invalid') return invalid(`${shown} ends in a number but is not an IPv4 address`);
  if (ipv4) return { kind: 'address', address: ipv4, written: inner };
  const absolute = ascii.endsWith('.');
  const name = (absolute ? ascii.slice(0, -1) : ascii).toLowerCase();
  const labelsValid = name.split('.').every((label) => label.length >= 1 && label.length <= 63);
  if (!labelsValid || name.length > 253) return invalid(`${shown} is not a valid host name`);
  return { kind: 'name', name, absolute };
}

function invalid(reason: string): ParsedHost {
  return { kind: 'invalid', reason };
}

/** An address as a resolver answers it or a setting writes it (`10.0.0.1`, `fe80::1%eth0`); any IPv4 spelling. */
export function parseIpAddress(text: string): IpAddress | undefined {
  if (text.includes(':')) return parseIpv6(text);
  const ipv4 = parseIpv4(text);
  return ipv4 === 'invalid' ? undefined : ipv4;
}

/**
 * IPv4 in every spelling inet_aton and the WHATWG URL parser accept: one to
 * four parts, each decimal, octal (leading 0) or hex (0x), the last one
 * filling the remaining bytes (`127.1`, `2130706433`), and one trailing dot.
 * Undefined when the text does not end in a number (so it is a name);
 * 'invalid' when it does but is no address, which a URL parser refuses.
 */
function parseIpv4(text: string): IpAddress | 'invalid' | undefined {
  const parts = text.split('.');
  if (parts.length > 1 && parts.at(-1) === '') parts.pop();
  if (!/^(?:[0-9]+|0x[0-9a-f]*)$/i.test(parts.at(-1)!)) return undefined;
  if (parts.length > 4) return 'invalid';
  const numbers = parts.map(parseIpv4Number);
  const last = numbers.pop();
  if (last === undefined || numbers.some((n) => n === undefined || n > 255)) return 'invalid';
  if (last >= 256 ** (4 - numbers.length)) return 'invalid';
  const value = numbers.reduce<number>((sum, n, i) => sum + n! * 256 ** (3 - i), 0) + last;
  return { family: 4, value: BigInt(value) };
}

function parseIpv4Number(part: string): number | undefined {
  if (/^0x[0-9a-f]*$/i.test(part)) return part.length === 2 ? 0 : Number.parseInt(part.slice(2), 16);
  if (/^0[0-7]+$/.test(part)) return Number.parseInt(part, 8);
  if (/^(?:0|[1-9][0-9]*)$/.test(part)) return Number(part);
  return undefined;
}

const DOTTED_QUAD = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** IPv6 as RFC 4291 writes it, with a dotted IPv4 tail and an optional `%zone`. */
function parseIpv6(text: string): IpAddress | undefined {
  const percent = text.indexOf('%');
  const zone = percent >= 0 ? text.slice(percent + 1) : undefined;
  if (zone !== undefined && !/^[a-zA-Z0-9_.~-]{1,64}$/.test(zone)) return undefined;
  let groups = percent >= 0 ? text.slice(0, percent) : text;
  const lastColon = groups.lastIndexOf(':');
  const tail = groups.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (!DOTTED_QUAD.test(tail)) return undefined;
    const v4 = tail.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
    groups = `${groups.slice(0, lastColon)}:${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = groups.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves[1] ? halves[1].split(':') : [];
  const count = head.length + rest.length;
  if (halves.length === 2 ? count > 7 : count !== 8) return undefined;
  const all = [...head, ...Array<string>(8 - count).fill('0'), ...rest];
  if (!all.every((group) => /^[0-9a-f]{1,4}$/i.test(group))) return undefined;
  const value = all.reduce((sum, group) => (sum << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
  return zone === undefined ? { family: 6, value } : { family: 6, value, zone };
}

/** IPv4 dotted; IPv6 as RFC 5952 prints it, IPv4-mapped with a dotted tail (`::ffff:127.0.0.1`). */
export function formatIp(address: IpAddress): string {
  if (address.family === 4) return formatIpv4(address.value);
  const zone = address.zone === undefined ? '' : `%${address.zone}`;
  if (address.value >> 32n === 0xffffn) return `::ffff:${formatIpv4(address.value & 0xffffffffn)}${zone}`;
  const groups = Array.from({ length: 8 }, (_, i) =>
    Number((address.value >> BigInt(112 - 16 * i)) & 0xffffn),
  );
  const run = longestZeroRun(groups);
  const hex = (part: number[]) => part.map((group) => group.toString(16)).join(':');
  if (run.length < 2) return hex(groups) + zone;
  return `${hex(groups.slice(0, run.start))}::${hex(groups.slice(run.start + run.length))}${zone}`;
}

function longestZeroRun(groups: number[]): { start: number; length: number } {
  let best = { start: 0, length: 0 };
  let start = -1;
  for (let i = 0; i <= groups.length; i++) {
    if (i < groups.length && groups[i] === 0) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      if (i - start > best.length) best = { start, length: i - start };
      start = -1;
    }
  }
  return best;
}

function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => (value >> shift) & 0xffn).join('.');
}
