import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { ANONYMOUS_ADMIN, type AuthConfig, hasRole, type Principal, type Role, TokenTable } from './auth.ts';
import type { HttpConfig } from './http-config.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';

// Not `import { createServer } from 'node:http'`: an ES import of a built-in reads all its exports, and
// http's WebSocket getters load the fetch implementation Node bundles, some 14 MiB in every sidecar.
const { createServer } = process.getBuiltinModule('node:http');

type Check = () => boolean | Promise<boolean>;

/** Named readiness checks; /readyz is ready when all of them are. */
export class Readiness {
  private readonly checks = new Map<string, Check>();

  add(name: string, check: Check): void {
    this.checks.set(name, check);
  }

  remove(name: string): void {
    this.checks.delete(name);
  }

  async evaluate(): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
    const checks: Record<string, boolean> = {};
    for (const [name, check] of this.checks) {
      try {
        checks[name] = await check();
      } catch {
        checks[name] = false;
      }
    }
    return { ready: Object.values(checks).every(Boolean), checks };
  }
}

/** The process's HTTP server as a component without routes of its own sees it. */
export interface HttpServer {
  readiness: Readiness;
  /** Tokens can be swapped on reload without restarting the listener. */
  setAuth(auth: AuthConfig): void;
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface HttpServerOptions {
  config: HttpConfig;
  log: Logger;
  metrics: Metrics;
  readiness?: Readiness;
}

/**
 * Least role a route needs; "public" skips authentication; "health" and "metrics" are public when the
 * auth config opens them.
 */
export type RouteRole = Role | 'public' | 'health' | 'metrics';

export type Authorization = Principal | { status: 401 | 403; error: string };

/** Token auth as every route of the server applies it, swappable on reload. */
export class Authorizer {
  auth: AuthConfig;
  private tokens: TokenTable;

  constructor(auth: AuthConfig) {
    this.auth = auth;
    this.tokens = new TokenTable(auth);
  }

  set(auth: AuthConfig): void {
    this.auth = auth;
    this.tokens = new TokenTable(auth);
  }

  check(routeRole: RouteRole | undefined, authorization: string | undefined): Authorization {
    const role = this.effectiveRole(routeRole);
    if (role === 'public' || !this.auth.enabled) return ANONYMOUS_ADMIN;
    const principal = this.tokens.lookup(authorization);
    if (!principal) return { status: 401, error: 'missing or invalid bearer token' };
    if (!hasRole(principal, role)) {
      return {
        status: 403,
        error: `this needs the ${role} role; token "${principal.name}" is ${principal.role}`,
      };
    }
    return principal;
  }

  private effectiveRole(role: RouteRole | undefined): Role | 'public' {
    if (role === 'health') return this.auth.openHealth ? 'public' : 'viewer';
    if (role === 'metrics') return this.auth.openMetrics ? 'public' : 'viewer';
    return role ?? 'viewer';
  }
}

export interface BuiltInRoute {
  path: string;
  role: RouteRole;
  summary: string;
  answer(): Promise<{ status: number; type: string; body: string | object }>;
}

/** What every Lookout process serves: the index, liveness, readiness and metrics. */
export function builtInRoutes(
  readiness: Readiness,
  metrics: Metrics,
  auth: () => AuthConfig,
  endpoints: () => readonly { method: string; path: string; summary?: string }[],
): BuiltInRoute[] {
  const json = 'application/json; charset=utf-8';
  return [
    {
      path: '/',
      role: 'public',
      summary: 'this list of endpoints',
      answer: async () => ({
        status: 200,
        type: json,
        body: {
          service: 'lookout',
          auth: auth().enabled ? 'send "Authorization: Bearer <token>"' : 'off',
          endpoints: endpoints(),
        },
      }),
    },
    {
      path: '/healthz',
      role: 'health',
      summary: 'liveness',
      answer: async () => ({ status: 200, type: json, body: { status: 'ok' } }),
    },
    {
      path: '/readyz',
      role: 'health',
      summary: 'readiness, with each check',
      answer: async () => {
        const state = await readiness.evaluate();
        return {
          status: state.ready ? 200 : 503,
          type: json,
          body: { status: state.ready ? 'ready' : 'not ready', ...state },
        };
      },
    },
    {
      path: '/metrics',
      role: 'metrics',
      summary: 'Prometheus metrics',
      answer: async () => ({ status: 200, type: metrics.registry.contentType, body: await metrics.text() }),
    },
  ];
}

const TIMEOUT_CHECK_MS = 1_000;

/** Node's server options for the configured timeouts. */
export function serverTimeouts(config: HttpConfig) {
  return {
    requestTimeout: config.requestTimeout,
    headersTimeout: config.requestTimeout
      ? Math.min(config.headersTimeout, config.requestTimeout)
      : config.headersTimeout,
    // Node checks the timeouts every 30 s by default, which lets a slow client hold on that much longer.
    connectionsCheckingInterval: TIMEOUT_CHECK_MS,
  };
}

export function splitHostPort(value: string): [string, number] {
  const at = value.lastIndexOf(':');
  return [value.slice(0, at).replace(/^\[|\]$/g, ''), Number(value.slice(at + 1))];
}

export function baseUrl(server: Server, host: string, port: number): string {
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
}

/**
 * The built-in routes alone, on Node's own server: a process whose components add no routes (the
 * sidecar, the event router, a probe agent) does not load a web framework, which would cost every pod
 * some 20 MiB.
 */
export function createBasicHttpServer(options: HttpServerOptions): HttpServer {
  const { config, log, metrics } = options;
  const readiness = options.readiness ?? new Readiness();
  const authorizer = new Authorizer(config.auth);
  const routes = builtInRoutes(
    readiness,
    metrics,
    () => authorizer.auth,
    () => routes.map((r) => ({ method: 'GET', path: r.path, summary: r.summary })),
  );
  const send = (response: ServerResponse, status: number, type: string, body: string | object) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
    response.end(response.req.method === 'HEAD' ? undefined : text);
  };
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const json = 'application/json; charset=utf-8';
    const path = (request.url ?? '/').split('?')[0];
    const route = routes.find((r) => r.path === path);
    if (!route) return send(response, 404, json, { error: `Route ${request.method}:${path} not found` });
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      return send(response, 405, json, { error: `${request.method} is not allowed here` });
    }
    const result = authorizer.check(route.role, request.headers.authorization);
    if ('status' in result) {
      if (result.status === 401) response.setHeader('www-authenticate', 'Bearer');
      return send(response, result.status, json, { error: result.error });
    }
    const answer = await route.answer();
    send(response, answer.status, answer.type, answer.body);
  };
  const server = createServer(serverTimeouts(config), (request, response) => {
    // Nothing here takes a body; reading it to its end keeps the connection usable.
    request.resume();
    handle(request, response).catch((err: unknown) => {
      log.error({ err, url: request.url }, 'request failed');
      if (!response.headersSent) send(response, 500, 'application/json', { error: 'internal error' });
    });
  });
  return {
    readiness,
    setAuth: (auth) => authorizer.set(auth),
    async listen() {
      const [host, port] = splitHostPort(config.listen);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      return baseUrl(server, host, port);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
