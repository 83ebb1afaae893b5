import { isIP } from 'node:net';

export interface BrokerAddress {
  host: string;
  port: number;
}

/** `host:port` or `[ipv6]:port`, as the configuration validated it. */
export function parseBrokerAddress(text: string): BrokerAddress {
  const colon = text.lastIndexOf(':');
  return { host: text.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(text.slice(colon + 1)) };
}

export function formatBrokerAddress({ host, port }: BrokerAddress): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
