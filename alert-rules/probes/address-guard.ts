import { lookup } from 'node:dns/promises';
import { type Clock, systemClock } from '../../core/clock.ts';
import { formatPrometheusDuration } from '../duration.ts';
import { AddressPolicy, describeRefusal } from './address-policy.ts';
import type { AddressGuardSettings } from './guard-config.ts';
import { formatIp, type IpAddress, parseHost, parseIpAddress } from './ip-address.ts';
import { type AddressGuard, AddressRefusedError, type ResolvedAddress } from './types.ts';

type ResolveOptions = Parameters<AddressGuard['resolve']>[1];

/** Every address of a name, in the resolver's order; `family` 0 asks for both. */
export type HostResolver = (
  name: string,
  family: 0 | 4 | 6,
  signal: AbortSignal,
) => Promise<ResolvedAddress[]>;

const DNS_ERRORS: Record<string, string> = {
  ENOTFOUND: 'no such host',
  ENODATA: 'no address',
  EAI_AGAIN: 'the DNS server did not answer (temporary failure)',
  ETIMEOUT: 'the DNS server did not answer in time',
  ESERVFAIL: 'the DNS server failed',
  ECONNREFUSED: 'the DNS server refused the connection',
};

/**
 * getaddrinfo, so names resolve as everywhere else on the host: /etc/hosts
 * and the cluster's search domains (`my-service.my-namespace`). It cannot be
 * cancelled; the guard stops waiting for it instead.
 */
export const systemResolver: HostResolver = async (name, family) => {
  try {
    const answers = await lookup(name, { all: true, family, order: 'verbatim' });
    return answers.map((answer) => ({ address: answer.address, family: answer.family === 4 ? 4 : 6 }));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`cannot resolve ${name}: ${(code && DNS_ERRORS[code]) ?? (err as Error).message}`);
  }
};

/** RFC 6761: `localhost` and every name under it are this host, whatever DNS would say. */
const LOCALHOST_ANSWERS: readonly IpAddress[] = [
  { family: 6, value: 1n },
  { family: 4, value: 0x7f000001n },
];

/**
 * The guard probes ask before every connection. An address literal is
 * checked without DNS. A name is resolved once, and every answer is checked:
 * when any of them is refused the target is, so a name that points partly
 * inside the cluster is refused every time rather than whenever DNS happens
 * to put the inside address first. The address returned is the one to
 * connect to (blackbox_exporter's choice: the first of the preferred family,
 * else, with fallback, the first of the other).
 */
export function createAddressGuard(
  settings: AddressGuardSettings,
  resolver: HostResolver = systemResolver,
  clock: Clock = systemClock,
): AddressGuard {
  const policy = new AddressPolicy(settings);

  function checkLiteral(address: IpAddress, written: string, { preferred, fallback }: ResolveOptions) {
    const refusal = policy.refusal(address, false);
    if (refusal) throw new AddressRefusedError(describeRefusal(refusal, { written }));
    if (address.family !== preferred && !fallback) {
      throw new Error(
        `${written} is an IPv${address.family} address and the module asks for IPv${preferred} without fallback`,
      );
    }
    return resolvedAddress(address);
  }

  async function resolveName(
    name: string,
    absolute: boolean,
    { preferred, fallback, signal }: ResolveOptions,
  ) {
    const family = fallback ? 0 : preferred;
    const answers = isLocalhost(name)
      ? LOCALHOST_ANSWERS.filter((answer) => family === 0 || answer.family === family)
      : (
          await withDeadline(
            (cancel) => resolver(absolute ? `${name}.` : name, family, cancel),
            settings.resolveTimeout,
            clock,
            signal,
            () => `resolving ${name} took longer than ${formatPrometheusDuration(settings.resolveTimeout)}`,
          )
        ).map((answer) => answerAddress(name, answer));
    const hostAllowed = policy.hostAllowed(name);
    for (const address of answers) {
      const refusal = policy.refusal(address, hostAllowed);
      if (refusal) throw new AddressRefusedError(describeRefusal(refusal, { name }));
    }
    const chosen =
      answers.find((address) => address.family === preferred) ?? (fallback ? answers[0] : undefined);
    if (!chosen) throw new Error(`${name} has no ${fallback ? '' : `IPv${preferred} `}address`);
    return resolvedAddress(chosen);
  }

  return {
    async resolve(host, options) {
      options.signal.throwIfAborted();
      const parsed = parseHost(host);
      if (parsed.kind === 'invalid') throw new AddressRefusedError(parsed.reason);
      if (parsed.kind === 'address') return checkLiteral(parsed.address, parsed.written, options);
      return resolveName(parsed.name, parsed.absolute, options);
    },
  };
}

function isLocalhost(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost');
}

function answerAddress(name: string, answer: ResolvedAddress): IpAddress {
  const address = parseIpAddress(answer.address);
  if (!address)
    throw new AddressRefusedError(`${name} resolves to ${JSON.stringify(answer.address)}, not an address`);
  return address;
}

function resolvedAddress(address: IpAddress): ResolvedAddress {
  return { address: formatIp(address), family: address.family };
}

/** Runs `work` until it settles, the signal aborts (its reason) or `ms` pass (an error saying `timeout()`). */
async function withDeadline<T>(
  work: (cancel: AbortSignal) => Promise<T>,
  ms: number,
  clock: Clock,
  signal: AbortSignal,
  timeout: () => string,
): Promise<T> {
  const settled = new AbortController();
  const cancel = AbortSignal.any([signal, settled.signal]);
  const deadline = clock.sleep(ms, cancel).then(() => {
    throw signal.aborted ? signal.reason : new Error(timeout());
  });
  try {
    return await Promise.race([work(cancel), deadline]);
  } finally {
    settled.abort();
  }
}
