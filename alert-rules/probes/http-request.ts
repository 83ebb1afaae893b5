/**
 * One HTTP exchange on a connection already made (and checked): the
 * request goes out on that socket and nowhere else. HTTP/2 when TLS
 * negotiated it (blackbox's `enable_http2`, on by default), HTTP/1.1 with
 * keep-alive off otherwise, as blackbox has it.
 */
import { request as httpRequest } from 'node:http';
import { type ClientHttp2Session, connect as http2Connect, type IncomingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { TLSSocket } from 'node:tls';

export interface OutgoingRequest {
  method: string;
  /** Path and query. */
  path: string;
  /** Host first; names as configured. */
  headers: Record<string, string>;
  body?: string;
}

/** A response's head and its body still to read, whichever HTTP version carried it. */
export interface ProbeResponse {
  status: number;
  /** As Go's Response.Proto after `HTTP/`: `1.1`, `1.0`, `2.0`. */
  version: string;
  /** Name, value, name, value…: one pair per header line, as Go's http.Header keeps them. */
  rawHeaders: string[];
  body: Readable;
  /** Ends the exchange (its HTTP/2 session); the socket is closed by its owner. */
  close(): void;
}

/** The ALPN protocols offered over TLS. */
export const alpnProtocols = (http2: boolean): string[] => (http2 ? ['h2', 'http/1.1'] : ['http/1.1']);

function overHttp1(socket: Socket, outgoing: OutgoingRequest, signal: AbortSignal): Promise<ProbeResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...outgoing.headers };
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'connection'))
      headers.Connection = 'close';
    if (outgoing.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(outgoing.body));
    const request = httpRequest({
      method: outgoing.method,
      path: outgoing.path,
      headers,
      setHost: false,
      createConnection: () => socket,
      signal,
    });
    request.once('response', (response) =>
      resolve({
        status: response.statusCode ?? 0,
        version: response.httpVersion,
        rawHeaders: response.rawHeaders,
        body: response,
        close: () => response.destroy(),
      }),
    );
    request.once('error', reject);
    request.end(outgoing.body);
  });
}

/** Header fields HTTP/2 forbids (RFC 9113 §8.2.2); the Host header becomes `:authority`. */
const NOT_IN_HTTP2 = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

function rawHeadersOf(headers: IncomingHttpHeaders): string[] {
  return Object.entries(headers).flatMap(([name, value]) =>
    name.startsWith(':') || value === undefined ? [] : [value].flat().flatMap((v) => [name, v]),
  );
}

function overHttp2(
  socket: TLSSocket,
  outgoing: OutgoingRequest,
  signal: AbortSignal,
): Promise<ProbeResponse> {
  const host = Object.entries(outgoing.headers).find(([name]) => name.toLowerCase() === 'host')?.[1] ?? '';
  const session: ClientHttp2Session = http2Connect(`https://${host}`, { createConnection: () => socket });
  // Errors reach the request's stream; the session's own would otherwise be thrown.
  session.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      ':method': outgoing.method,
      ':path': outgoing.path,
      ':authority': host,
    };
    for (const [name, value] of Object.entries(outgoing.headers)) {
      if (!NOT_IN_HTTP2.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
    }
    if (outgoing.body !== undefined) headers['content-length'] = String(Buffer.byteLength(outgoing.body));
    const stream = session.request(headers, { endStream: outgoing.body === undefined, signal });
    stream.once('response', (head) =>
      resolve({
        status: Number(head[':status']),
        version: '2.0',
        rawHeaders: rawHeadersOf(head),
        body: stream,
        close: () => session.destroy(),
      }),
    );
    stream.once('error', (err) => {
      session.destroy();
      reject(err);
    });
    if (outgoing.body !== undefined) stream.end(outgoing.body);
  });
}

/** Resolves with the response once its head has arrived; the body is left to read. */
export function sendRequest(
  socket: Socket,
  outgoing: OutgoingRequest,
  signal: AbortSignal,
): Promise<ProbeResponse> {
  if (socket instanceof TLSSocket && socket.alpnProtocol === 'h2') return overHttp2(socket, outgoing, signal);
  return overHttp1(socket, outgoing, signal);
}
