/**
 * One DNS query and its response over UDP, TCP or TLS (DNS over TLS), to
 * the address the guard returned. Times are split as miekg/dns splits
 * them for blackbox: `connect` up to the query being written, `request`
 * from there to the response.
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ConnectionOptions } from 'node:tls';
import { closeAll, connectTcp, startTls } from './connect.ts';
import { type DnsMessage, decodeMessage } from './dns-wire.ts';
import type { ResolvedAddress } from './types.ts';

export interface DnsTransport {
  protocol: 'udp' | 'tcp';
  /** TLS options for DNS over TLS (TCP only). */
  tls?: ConnectionOptions;
  sourceAddress?: string;
}

export interface DnsExchangeRequest {
  query: Buffer;
  /** The query's id: a datagram with another id is not the response. */
  id: number;
  address: ResolvedAddress;
  port: number;
  transport: DnsTransport;
  signal: AbortSignal;
}

export interface DnsExchange {
  response: DnsMessage;
  connectSeconds: number;
  requestSeconds: number;
}

function abortable<T>(
  signal: AbortSignal,
  start: (resolve: (v: T) => void, reject: (e: unknown) => void) => () => void,
) {
  return new Promise<T>((resolve, reject) => {
    const stop = start(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
    const onAbort = (): void => {
      stop();
      reject(signal.reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Sends `query` as one datagram and waits for the response with its id; other datagrams are ignored. */
function overUdp({ query, id, address, port, transport, signal }: DnsExchangeRequest): Promise<DnsExchange> {
  const started = performance.now();
  let sent = started;
  const socket = createSocket(address.family === 6 ? 'udp6' : 'udp4');
  return abortable<DnsExchange>(signal, (resolve, reject) => {
    socket.on('error', reject);
    socket.on('message', (message) => {
      if (message.length < 2 || message.readUInt16BE(0) !== id) return;
      const received = performance.now();
      socket.close();
      try {
        resolve({
          response: decodeMessage(message),
          connectSeconds: (sent - started) / 1_000,
          requestSeconds: (received - sent) / 1_000,
        });
      } catch (err) {
        reject(err);
      }
    });
    socket.bind({ address: transport.sourceAddress }, () => {
      socket.connect(port, address.address, () => {
        sent = performance.now();
        socket.send(query);
      });
    });
    return () => socket.close();
  });
}

/** Reads one length-prefixed message from a TCP stream. */
function readFramed(socket: Socket, signal: AbortSignal): Promise<Buffer> {
  return abortable<Buffer>(signal, (resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length >= 2 && buffer.length >= 2 + buffer.readUInt16BE(0)) {
        socket.off('data', onData);
        resolve(buffer.subarray(2, 2 + buffer.readUInt16BE(0)));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('end', () => reject(new Error('connection closed before the response')));
    return () => socket.destroy();
  });
}

async function overTcp({
  query,
  address,
  port,
  transport,
  signal,
}: DnsExchangeRequest): Promise<DnsExchange> {
  const started = performance.now();
  const sockets: Socket[] = [];
  try {
    let socket = await connectTcp(address, port, signal, transport.sourceAddress);
    sockets.push(socket);
    if (transport.tls) {
      socket = await startTls(socket, transport.tls, signal);
      sockets.push(socket);
    }
    const length = Buffer.alloc(2);
    length.writeUInt16BE(query.length);
    const sent = performance.now();
    socket.write(Buffer.concat([length, query]));
    const message = await readFramed(socket, signal);
    const received = performance.now();
    return {
      response: decodeMessage(message),
      connectSeconds: (sent - started) / 1_000,
      requestSeconds: (received - sent) / 1_000,
    };
  } finally {
    closeAll(sockets);
  }
}

export function exchange(request: DnsExchangeRequest): Promise<DnsExchange> {
  return request.transport.protocol === 'tcp' ? overTcp(request) : overUdp(request);
}
