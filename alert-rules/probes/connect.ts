/**
 * Connections to exactly the address the guard returned: a TCP connect and
 * a TLS handshake on top, each a step that can be timed and that ends when
 * the probe's signal aborts.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { ResolvedAddress } from './types.ts';

/**
 * Resolves when `socket` emits `event`; rejects on its error, on an early
 * close, or when `signal` aborts, and then destroys the socket.
 */
export function untilEvent(socket: Socket, event: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      socket.off(event, onEvent);
      socket.off('error', onError);
      socket.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
    };
    const onEvent = (): void => {
      done();
      resolve();
    };
    const onError = (err: Error): void => {
      done();
      socket.destroy();
      reject(err);
    };
    const onClose = (): void =>
      onError(Object.assign(new Error('connection closed'), { code: 'ECONNRESET' }));
    const onAbort = (): void => {
      done();
      socket.destroy();
      reject(signal.reason);
    };
    if (signal.aborted) return onAbort();
    socket.once(event, onEvent);
    socket.once('error', onError);
    socket.once('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export async function connectTcp(
  address: ResolvedAddress,
  port: number,
  signal: AbortSignal,
  localAddress?: string,
): Promise<Socket> {
  const socket = netConnect({ host: address.address, port, family: address.family, localAddress });
  await untilEvent(socket, 'connect', signal);
  return socket;
}

export async function startTls(
  socket: Socket,
  options: ConnectionOptions,
  signal: AbortSignal,
): Promise<TLSSocket> {
  const secure = tlsConnect({ ...options, socket });
  await untilEvent(secure, 'secureConnect', signal);
  return secure;
}

/**
 * Closes sockets opened in order (a TLS socket after the one it wraps),
 * outermost first: Node 24 crashes when a socket is destroyed under the
 * TLS socket that wraps it after the peer has ended.
 */
export function closeAll(sockets: readonly Socket[]): void {
  for (const socket of [...sockets].reverse()) socket.destroy();
}
