import { connect as connectTcp, isIP, type Socket } from 'node:net';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { BrokerAddress } from './broker-address.ts';
import { formatBrokerAddress } from './broker-address.ts';
import { KafkaConnectionError } from './errors.ts';

/**
 * A TCP or TLS connection to a broker, ready for requests. TLS names the
 * server (SNI, and the name the certificate must match) when the broker is
 * reached by host name: brokers behind a TLS router are told apart that way.
 * node:tls is loaded only when a connection needs it.
 */
export async function openSocket(
  address: BrokerAddress,
  timeoutMs: number,
  tls?: TlsOptions,
): Promise<Socket> {
  const { host, port } = address;
  const name = formatBrokerAddress(address);
  const socket = tls
    ? (await import('node:tls')).connect({
        ...tls,
        host,
        port,
        servername: isIP(host) === 0 ? host : undefined,
      })
    : connectTcp({ host, port });
  return new Promise<Socket>((resolve, reject) => {
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(
        new KafkaConnectionError(`cannot connect to the Kafka broker at ${name}: ${err.message}`, {
          cause: err,
        }),
      );
    };
    const timer = setTimeout(() => fail(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
    socket.once('error', fail);
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}
