/**
 * One HTTP/1.1 exchange on a connection already made (and checked): the
 * request goes out on that socket and nowhere else, with keep-alive off
 * as blackbox has it.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

export interface OutgoingRequest {
  method: string;
  /** Path and query. */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** Resolves with the response once its head has arrived; the body is left to read. */
export function sendRequest(
  socket: Socket,
  outgoing: OutgoingRequest,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const headers = { ...outgoing.headers };
    if (outgoing.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(outgoing.body));
    const request = httpRequest({
      method: outgoing.method,
      path: outgoing.path,
      headers,
      setHost: false,
      createConnection: () => socket,
      signal,
    });
    request.once('response', resolve);
    request.once('error', reject);
    request.end(outgoing.body);
  });
}
