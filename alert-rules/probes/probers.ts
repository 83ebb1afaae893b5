import { createDnsProber } from './dns-prober.ts';
import { createHttpProber } from './http-prober.ts';
import { createTcpProber } from './tcp-prober.ts';
import type { AddressGuard, Prober } from './types.ts';

/** One prober for every module: the module's `prober` picks http, tcp or dns, each connecting only where the guard allows. */
export function createProber(options: { guard: AddressGuard }): Prober {
  const probers = {
    http: createHttpProber(options),
    tcp: createTcpProber(options),
    dns: createDnsProber(options),
  };
  return (request) => probers[request.module.prober](request);
}
