import type { LookupFunction, TcpNetConnectOpts } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { parseHost } from './ip-address.ts';
import type { ResolvedAddress } from './types.ts';

/**
 * Connection options that reach exactly the address the guard checked.
 * Nothing may resolve the name a second time: a DNS server that answers a
 * public address to the guard and a private one a moment later (rebinding)
 * would otherwise choose where the probe goes.
 */

/**
 * A `lookup` for net, tls, http and undici that answers the checked address
 * whatever name it is asked, in both of Node's calling forms (`all` is what
 * happy-eyeballs connection attempts ask for).
 */
export function pinnedLookup(resolved: ResolvedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: resolved.address, family: resolved.family }]);
    else callback(null, resolved.address, resolved.family);
  };
}

/** `net.connect` options for the checked address. */
export function tcpConnectOptions(resolved: ResolvedAddress, port: number): TcpNetConnectOpts {
  return { host: resolved.address, port, family: resolved.family, lookup: pinnedLookup(resolved) };
}

/**
 * `tls.connect` options for the checked address, naming `host` (as the
 * target wrote it, in ASCII) in SNI and in the certificate check; an address literal
 * is sent no SNI, which RFC 6066 forbids for addresses, and is checked
 * against the certificate's IP entries.
 */
export function tlsConnectOptions(resolved: ResolvedAddress, host: string, port: number): ConnectionOptions {
  const parsed = parseHost(host);
  return {
    ...tcpConnectOptions(resolved, port),
    servername: parsed.kind === 'name' ? parsed.name : undefined,
  };
}
