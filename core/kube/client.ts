import type { Agent as HttpAgent, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { connect as tlsConnect } from 'node:tls';
import { KubeApiError } from './api-requests.ts';
import type { KubernetesConfig } from './config.ts';
import { type KubeAccess, loadKubeAccess } from './kubeconfig.ts';

// As in core/http-server.ts: an ES import of node:http would load Node's bundled fetch into the node agent.
const http = process.getBuiltinModule('node:http');

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

export interface RequestOptions {
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  /** Aborts the request (with timeoutMs, whichever comes first). */
  signal?: AbortSignal;
  /** The request fails once this long has passed without an answer. */
  timeoutMs?: number;
  /** The Accept header; JSON by default. */
  accept?: string;
}

export interface WatchOptions {
  query?: Query;
  signal?: AbortSignal;
  /** Once the API server answered 200 and the events begin. */
  onOpened?: () => void;
  /** Each line of the watch: ADDED, MODIFIED, DELETED, BOOKMARK or ERROR, and its object. */
  onEvent: (type: string, object: unknown) => void;
  /** A watch that receives nothing for this long ends, as a TimeoutError. */
  idleTimeoutMs?: number;
}

/** Opens a watch and resolves when it ends; what EventWatcher watches with (tests substitute one). */
export type WatchFunction = (path: string, options: WatchOptions) => Promise<void>;

/** client-node's: a quiet watch is ended and opened again after 30 s. */
const DEFAULT_WATCH_IDLE_MS = 30_000;
/** Connections kept open to the API server; more requests wait for one. */
const MAX_SOCKETS = 16;
/** A watch line longer than this is not an Event (etcd keeps objects under 1.5 MiB): the stream is broken. */
const MAX_WATCH_LINE_BYTES = 16 * 1024 * 1024;

function timeoutError(message: string): Error {
  return Object.assign(new Error(message), { name: 'TimeoutError' });
}

/**
 * A small client for the Kubernetes API: JSON over one keep-alive connection pool, each object as the
 * server sent it. It replaces client-node's generated clients in the components that talk to the API
 * server: those take some 80 MiB of memory once loaded, and open a new connection pool (a TLS handshake
 * and a certificate store) for every request.
 */
export class KubeClient {
  readonly server: string;
  private readonly access: KubeAccess;
  private readonly agent: HttpAgent;
  private readonly secure: boolean;

  constructor(access: KubeAccess) {
    this.access = access;
    this.server = access.server;
    this.secure = access.server.startsWith('https:');
    const options = { keepAlive: true, maxSockets: MAX_SOCKETS, ...access.tls };
    this.agent = access.proxy
      ? tunnelAgent(access.proxy, this.secure, options)
      : this.secure
        ? new HttpsAgent(options)
        : new http.Agent(options);
  }

  get<T>(path: string, options?: RequestOptions): Promise<T> {
    return this.request('GET', path, options);
  }

  post<T>(path: string, body: unknown, options?: RequestOptions): Promise<T> {
    return this.request('POST', path, { ...options, body });
  }

  put<T>(path: string, body: unknown, options?: RequestOptions): Promise<T> {
    return this.request('PUT', path, { ...options, body });
  }

  /** The answer's JSON; rejects with KubeApiError when the server answers other than 2xx. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const signals = [options.signal, options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined];
    const signal = AbortSignal.any(signals.filter((s) => s !== undefined));
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const response = await this.send(method, path, options.query, signal, options.accept, payload);
    const text = await readAll(response, signal);
    if (response.statusCode! < 200 || response.statusCode! >= 300) {
      throw KubeApiError.fromResponse(response.statusCode!, text);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * Watches a collection until the server ends the watch (resolves), the signal aborts (resolves), it
   * stays quiet for idleTimeoutMs (rejects with a TimeoutError) or fails (rejects; a KubeApiError when
   * the server refused it, 410 Gone for a resourceVersion it no longer has).
   */
  async watch(path: string, options: WatchOptions): Promise<void> {
    const { signal } = options;
    if (signal?.aborted) return;
    const idleMs = options.idleTimeoutMs ?? DEFAULT_WATCH_IDLE_MS;
    const stop = new AbortController();
    const idle = setTimeout(() => stop.abort(timeoutError(`no watch event for ${idleMs} ms`)), idleMs);
    const stopWith = () => stop.abort(signal?.reason);
    signal?.addEventListener('abort', stopWith, { once: true });
    try {
      const query = { ...options.query, watch: true };
      const response = await this.send('GET', path, query, stop.signal, undefined, undefined);
      if (response.statusCode !== 200) {
        throw KubeApiError.fromResponse(response.statusCode!, await readAll(response, stop.signal));
      }
      options.onOpened?.();
      const decoder = new StringDecoder('utf8');
      let partial = '';
      for await (const chunk of abortable(response, stop.signal)) {
        idle.refresh();
        const lines = (partial + decoder.write(chunk as Buffer)).split('\n');
        partial = lines.pop()!;
        if (partial.length > MAX_WATCH_LINE_BYTES)
          throw new Error(`a watch line of over ${MAX_WATCH_LINE_BYTES} bytes`);
        for (const line of lines) {
          if (!line.trim()) continue;
          const { type, object } = JSON.parse(line) as { type: string; object: unknown };
          options.onEvent(type, object);
        }
      }
    } catch (err) {
      if (signal?.aborted) return;
      throw stop.signal.aborted && stop.signal.reason instanceof Error ? stop.signal.reason : err;
    } finally {
      clearTimeout(idle);
      signal?.removeEventListener('abort', stopWith);
      stop.abort();
    }
  }

  /** Closes the idle connections; requests under way finish. */
  close(): void {
    this.agent.destroy();
  }

  private async send(
    method: string,
    path: string,
    query: Query | undefined,
    signal: AbortSignal,
    accept: string | undefined,
    payload: string | undefined,
  ): Promise<IncomingMessage> {
    signal.throwIfAborted();
    const url = new URL(this.server + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const { headers: auth, cert, key } = await this.access.credentials.authenticate();
    const headers: OutgoingHttpHeaders = { ...auth, accept: accept ?? 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    const request = this.secure ? httpsRequest : http.request;
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers, agent: this.agent, signal, ...(cert && { cert, key }) });
      req.once('response', resolve);
      // An abort says why: a timeout is a TimeoutError, a stop whatever the caller gave.
      req.once('error', (err) => reject(signal.aborted ? signal.reason : err));
      req.end(payload);
    });
  }
}

export function createKubeClient(config: KubernetesConfig): KubeClient {
  return new KubeClient(loadKubeAccess(config));
}

/** The chunks of a response, ending with an error once the signal aborts. */
async function* abortable(response: IncomingMessage, signal: AbortSignal): AsyncGenerator<unknown> {
  const onAbort = () =>
    response.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    yield* response;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

async function readAll(response: IncomingMessage, signal: AbortSignal): Promise<string> {
  const decoder = new StringDecoder('utf8');
  let text = '';
  for await (const chunk of abortable(response, signal)) text += decoder.write(chunk as Buffer);
  return text + decoder.end();
}

/**
 * Connections through an HTTP proxy (a cluster's `proxy-url`): a CONNECT tunnel to the API server, with
 * TLS to the API server inside it when the server is https.
 */
function tunnelAgent(
  proxy: URL,
  secure: boolean,
  options: ConstructorParameters<typeof HttpsAgent>[0],
): HttpAgent {
  const Base = secure ? HttpsAgent : http.Agent;
  const agent = new Base(options);
  const auth = proxy.username
    ? {
        'proxy-authorization': `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`,
      }
    : undefined;
  type Connect = (
    opts: Record<string, unknown>,
    done: (err: Error | null, socket?: Duplex) => void,
  ) => undefined;
  (agent as unknown as { createConnection: Connect }).createConnection = (opts, done) => {
    const target = `${opts.host}:${opts.port}`;
    const connect = (proxy.protocol === 'https:' ? httpsRequest : http.request)({
      host: proxy.hostname,
      port: proxy.port || (proxy.protocol === 'https:' ? 443 : 80),
      method: 'CONNECT',
      path: target,
      headers: { host: target, ...auth },
    });
    connect.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        done(new Error(`the proxy ${proxy.host} refused a tunnel to ${target}: HTTP ${res.statusCode}`));
        return;
      }
      const host = String(opts.host);
      // SNI takes names only, never an address.
      const servername = (opts.servername as string | undefined) ?? (isIP(host) ? undefined : host);
      done(null, secure ? tlsConnect({ ...opts, socket, servername }) : socket);
    });
    connect.once('error', (err) => done(err));
    connect.end();
    return undefined;
  };
  return agent;
}
