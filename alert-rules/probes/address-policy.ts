import { defaultDenial, type EmbeddedIpv4, embeddedIpv4 } from './address-ranges.ts';
import { type Cidr, cidrContains, formatCidr } from './cidr.ts';
import type { AddressGuardSettings, HostPattern } from './guard-config.ts';
import { formatIp, type IpAddress } from './ip-address.ts';

/**
 * The decision on one address. `probes.deny` wins over everything; then an
 * allowed host name, or an allowed CIDR holding the address itself, lets it
 * through; otherwise the address and every IPv4 address it carries must each
 * be outside the default list or allowed.
 */
export class AddressPolicy {
  private readonly allowed: Cidr[] = [];
  private readonly allowedHosts: HostPattern[] = [];
  private readonly denied: Cidr[];

  constructor(settings: Pick<AddressGuardSettings, 'allow' | 'deny'>) {
    for (const entry of settings.allow) {
      if ('cidr' in entry) this.allowed.push(entry.cidr);
      else this.allowedHosts.push(entry.host);
    }
    this.denied = settings.deny;
  }

  /** `name` as parseHost gives it: lower case, no trailing dot. */
  hostAllowed(name: string): boolean {
    return this.allowedHosts.some((pattern) =>
      pattern.subdomains ? name.endsWith(`.${pattern.name}`) : name === pattern.name,
    );
  }

  /** Why the address may not be reached; undefined when it may. */
  refusal(address: IpAddress, hostAllowed: boolean): Refusal | undefined {
    const views: { address: IpAddress; embedded?: EmbeddedIpv4 }[] = [
      { address },
      ...embeddedIpv4(address).map((embedded) => ({ address: embedded.address, embedded })),
    ];
    for (const view of views) {
      const cidr = this.denied.find((denied) => cidrContains(denied, view.address));
      if (cidr) {
        return {
          address,
          embedded: view.embedded,
          what: `in probes.deny (${formatCidr(cidr)})`,
          allowable: false,
        };
      }
    }
    if (hostAllowed || this.isAllowed(address)) return undefined;
    for (const view of views) {
      const range = defaultDenial(view.address);
      if (range && !this.isAllowed(view.address)) {
        return { address, embedded: view.embedded, what: range.what, allowable: true };
      }
    }
    return undefined;
  }

  private isAllowed(address: IpAddress): boolean {
    return this.allowed.some((cidr) => cidrContains(cidr, address));
  }
}

export interface Refusal {
  address: IpAddress;
  /** The IPv4 address inside `address` that is refused, when it is that one. */
  embedded?: EmbeddedIpv4;
  /** Completes "… is": `loopback`, `in probes.deny (203.0.113.0/24)`. */
  what: string;
  /** False when `probes.deny` refuses it, which `probes.allow` cannot undo. */
  allowable: boolean;
}

/**
 * The refusal in words, naming what to allow: `0x7f.1 (127.0.0.1) is
 * loopback; add 127.0.0.1 to probes.allow to probe it`, or for a name
 * `db.example resolves to 10.0.0.5, which is private (RFC 1918); …`.
 */
export function describeRefusal(refusal: Refusal, target: { written: string } | { name: string }): string {
  const canonical = formatIp(refusal.address);
  const refused = formatIp({ ...(refusal.embedded?.address ?? refusal.address), zone: undefined });
  const embedded = refusal.embedded && `${refusal.embedded.how} ${refused}`;
  let subject: string;
  let allowHint: string;
  if ('name' in target) {
    subject = `${target.name} resolves to ${canonical}${embedded ? ` (${embedded})` : ''}, which`;
    allowHint = `add ${target.name} or ${refused}`;
  } else {
    const note = embedded ?? (canonical === target.written ? undefined : canonical);
    subject = note ? `${target.written} (${note})` : target.written;
    allowHint = refused === target.written ? 'add it' : `add ${refused}`;
  }
  const outcome = refusal.allowable ? `; ${allowHint} to probes.allow to probe it` : '';
  return `${subject} is ${refusal.what}${outcome}`;
}
