/**
 * The requests of one HTTP probe: the target, then each redirect as Go's
 * client follows it (301/302/303 become GET without a body, 307/308 keep
 * both; at most `maxRedirects`), every hop resolved through the address
 * guard and connected to exactly the address it returned. Cookies set on
 * the way are sent on, as Go's cookie jar does.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connectTcp, startTls } from './connect.ts';
import { headerValues } from './http-checks.ts';
import type { HttpProbeConfig } from './http-config.ts';
import { CookieJar } from './http-cookies.ts';
import { alpnProtocols, type ProbeResponse, sendRequest } from './http-request.ts';
import type { ProbeSteps } from './probe-run.ts';
import { type Resolution, resolveTarget } from './resolve-target.ts';
import { nodeTlsOptions } from './tls-config.ts';
import type { AddressGuard } from './types.ts';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Headers Go's client drops when a redirect leaves the first host. */
const SENSITIVE_HEADERS = new Set(['authorization', 'www-authenticate', 'cookie', 'cookie2']);

/** When each step of one request ended (performance.now() milliseconds), as Go's httptrace sees them. */
export interface HopTrace {
  tls: boolean;
  start: number;
  dnsDone?: number;
  connectDone?: number;
  tlsStart?: number;
  tlsDone?: number;
  gotConn?: number;
  responseStart?: number;
  end?: number;
}

export interface HopSettings {
  guard: AddressGuard;
  maxRedirects: number;
  userAgent: string;
  /** The Authorization header from the module's credentials, sent to the target's origin only. */
  authorization?: string;
}

export interface Hops {
  firstResolution?: Resolution;
  traces: HopTrace[];
  resolveSeconds: number;
  redirects: number;
  final?: { response: ProbeResponse; socket: Socket; method: string };
  /** Why the final response, a redirect, was not followed. */
  stopped?: string;
  /** Every socket opened, to be closed when the probe is done with them. */
  sockets: Socket[];
}

export const newHops = (): Hops => ({ traces: [], resolveSeconds: 0, redirects: 0, sockets: [] });

interface Hop {
  url: URL;
  method: string;
  body?: string;
  /** The Host header: the target's, or the module's `Host` header, kept on relative redirects as Go does. */
  host: string;
}

function requestHeaders(
  hop: Hop,
  first: URL,
  config: HttpProbeConfig,
  settings: HopSettings,
  jar: CookieJar,
) {
  const sameOrigin = hop.url.origin === first.origin;
  const headers = new Map<string, [string, string]>([
    ['host', ['Host', hop.host]],
    ['user-agent', ['User-Agent', settings.userAgent]],
  ]);
  for (const [name, value] of Object.entries(config.headers)) {
    const key = name.toLowerCase();
    if (key === 'host' || (!sameOrigin && SENSITIVE_HEADERS.has(key))) continue;
    headers.set(key, [name, value]);
  }
  if (sameOrigin && settings.authorization)
    headers.set('authorization', ['Authorization', settings.authorization]);
  const configuredCookie = headers.get('cookie');
  const cookie = jar.header(hop.url.hostname, configuredCookie?.[1]);
  if (cookie) headers.set('cookie', [configuredCookie?.[0] ?? 'Cookie', cookie]);
  return Object.fromEntries(headers.values());
}

/** The request that follows a redirect, or why there is none. */
function redirected(hop: Hop, status: number, location: string): Hop {
  let url: URL;
  try {
    url = new URL(location, hop.url);
  } catch {
    throw new Error(`redirect to an invalid location ${JSON.stringify(location)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`redirect to unsupported protocol scheme ${JSON.stringify(url.protocol.slice(0, -1))}`);
  }
  const keepsMethod = status === 307 || status === 308 || hop.method === 'GET' || hop.method === 'HEAD';
  const relative = !/^[a-z][a-z0-9+.-]*:/i.test(location);
  return {
    url,
    method: keepsMethod ? hop.method : 'GET',
    ...(keepsMethod && hop.body !== undefined && { body: hop.body }),
    host: relative ? hop.host : url.host,
  };
}

/** The host header a module sets, which blackbox also takes as the TLS server name. */
export function configuredHost(config: HttpProbeConfig): string | undefined {
  return Object.entries(config.headers).find(([name]) => name.toLowerCase() === 'host')?.[1];
}

/** Runs the requests, filling `hops` as it goes so that a failure part way leaves what was measured. */
export async function runHops(
  target: URL,
  config: HttpProbeConfig,
  settings: HopSettings,
  signal: AbortSignal,
  steps: ProbeSteps,
  hops: Hops,
): Promise<void> {
  const hostOverride = configuredHost(config);
  const jar = new CookieJar();
  let hop: Hop = { url: target, method: config.method, body: config.body, host: hostOverride ?? target.host };
  for (;;) {
    const { url } = hop;
    const trace: HopTrace = { tls: url.protocol === 'https:', start: performance.now() };
    hops.traces.push(trace);
    steps.current = 'resolve';
    const resolution = await resolveTarget(settings.guard, url.hostname, config, signal);
    hops.firstResolution ??= resolution;
    hops.resolveSeconds += resolution.lookupSeconds;
    trace.dnsDone = performance.now();
    if (!resolution.address) throw resolution.error;

    steps.current = 'connect';
    let socket = await connectTcp(resolution.address, Number(url.port) || (trace.tls ? 443 : 80), signal);
    hops.sockets.push(socket);
    trace.connectDone = performance.now();
    if (trace.tls) {
      steps.current = 'tls handshake';
      trace.tlsStart = performance.now();
      const firstHost = url.host === target.host;
      const tlsConfig = firstHost ? config.tls_config : { ...config.tls_config, server_name: undefined };
      const name = firstHost ? (hostOverride ?? url.hostname) : url.hostname;
      const options = await nodeTlsOptions(tlsConfig, name.replace(/^\[(.*)\]$/, '$1'));
      socket = await startTls(
        socket,
        { ...options, ALPNProtocols: alpnProtocols(config.enable_http2) },
        signal,
      );
      hops.sockets.push(socket);
      trace.tlsDone = performance.now();
    }
    trace.gotConn = performance.now();

    steps.current = 'waiting for the response';
    const headers = requestHeaders(hop, target, config, settings, jar);
    const path = `${url.pathname}${url.search}`;
    const response = await sendRequest(socket, { method: hop.method, path, headers, body: hop.body }, signal);
    trace.responseStart = performance.now();
    jar.remember(url.hostname, response);
    const { status } = response;
    const location = headerValues(response, 'location')[0];
    if (!REDIRECT_STATUSES.has(status) || location === undefined) {
      hops.final = { response, socket, method: hop.method };
      return;
    }
    hops.redirects = hops.traces.length;
    if (!config.follow_redirects || hops.redirects > settings.maxRedirects) {
      hops.final = { response, socket, method: hop.method };
      hops.stopped = config.follow_redirects
        ? `stopped after ${settings.maxRedirects} redirects`
        : 'redirect not followed: follow_redirects is false';
      return;
    }
    response.close();
    socket.destroy();
    hop = redirected(hop, status, location);
  }
}
