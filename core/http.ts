import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest as IncomingRequest,
  LogController,
} from 'fastify';
import { z } from 'zod';
import {
  ANONYMOUS_ADMIN,
  type AuthConfig,
  authSchema,
  HttpError,
  hasRole,
  type Principal,
  type Role,
  TokenTable,
} from './auth.ts';
import { duration, hostPort } from './config-types.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    /**
     * Least role a route needs; "public" skips authentication; "health" and
     * "metrics" are public when the auth config opens them. Default: viewer.
     */
    role?: Role | 'public' | 'health' | 'metrics';
    /** One line for the index at `GET /`. */
    summary?: string;
  }
  interface FastifyRequest {
    /**
     * The principal this request's token stands for under the configuration
     * in force now; undefined once a reload removed the token or took the
     * route's role from it. Long-lived answers (live tails) ask again.
     */
    reauthorize(): Principal | undefined;
  }
}

export const httpSchema = z.strictObject({
  listen: hostPort().default('127.0.0.1:8080'),
  auth: authSchema.default({ enabled: true, tokens: [], openHealth: true, openMetrics: false }),
  /** Largest request body accepted (ingest batches). */
  bodyLimit: z
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
  /** Headers and body must have arrived within this (408 after); a client trickling a byte every few seconds is cut off. 0 turns it off. */
  requestTimeout: duration().default(60_000),
  /** The headers alone must have arrived within this (at most requestTimeout). */
  headersTimeout: duration().default(20_000),
});
export type HttpConfig = z.output<typeof httpSchema>;

const TIMEOUT_CHECK_MS = 1_000;

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

export interface HttpAppOptions {
  config: HttpConfig;
  log: Logger;
  metrics: Metrics;
  readiness?: Readiness;
}

export interface HttpApp {
  app: FastifyInstance;
  readiness: Readiness;
  /** Tokens can be swapped on reload without restarting the listener. */
  setAuth(auth: AuthConfig): void;
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** The HTTP server every service shares: health, readiness, metrics and token auth. */
export function createHttpApp(options: HttpAppOptions): HttpApp {
  const { config, log, metrics } = options;
  const readiness = options.readiness ?? new Readiness();
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimit,
    requestTimeout: config.requestTimeout,
    http: {
      headersTimeout: config.requestTimeout
        ? Math.min(config.headersTimeout, config.requestTimeout)
        : config.headersTimeout,
      // Node checks the timeouts every 30 s by default, which lets a slow client hold on that much longer.
      connectionsCheckingInterval: TIMEOUT_CHECK_MS,
    },
  });
  let auth = config.auth;
  let tokens = new TokenTable(auth);

  const authorize = (request: IncomingRequest): Principal | { status: 401 | 403; error: string } => {
    const role = effectiveRole(request.routeOptions.config.role, auth);
    if (role === 'public' || !auth.enabled) return ANONYMOUS_ADMIN;
    const principal = tokens.lookup(request.headers.authorization);
    if (!principal) return { status: 401, error: 'missing or invalid bearer token' };
    if (!hasRole(principal, role)) {
      return {
        status: 403,
        error: `this needs the ${role} role; token "${principal.name}" is ${principal.role}`,
      };
    }
    return principal;
  };

  app.decorateRequest('principal', null as unknown as Principal);
  app.decorateRequest('reauthorize', function (this: IncomingRequest) {
    const result = authorize(this);
    return 'status' in result ? undefined : result;
  });

  app.addHook('onRequest', async (request, reply) => {
    const result = authorize(request);
    if ('status' in result) {
      if (result.status === 401) reply.header('www-authenticate', 'Bearer');
      return reply.code(result.status).send({ error: result.error });
    }
    request.principal = result;
  });

  const endpoints: { method: string; path: string; summary?: string }[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') endpoints.push({ method, path: route.url, summary: route.config?.summary });
    }
  });

  app.setErrorHandler((error: Error & { statusCode?: number; validation?: unknown }, request, reply) => {
    const status = error instanceof HttpError ? error.statusCode : (error.statusCode ?? 500);
    if (status >= 500) request.log.error({ err: error, url: request.url }, 'request failed');
    reply.code(status).send({ error: status >= 500 ? 'internal error' : error.message });
  });

  app.get('/', { config: { role: 'public', summary: 'this list of endpoints' } }, async () => ({
    service: 'lookout',
    auth: auth.enabled ? 'send "Authorization: Bearer <token>"' : 'off',
    endpoints,
  }));
  app.get('/healthz', { config: { role: 'health', summary: 'liveness' } }, async () => ({ status: 'ok' }));
  app.get(
    '/readyz',
    { config: { role: 'health', summary: 'readiness, with each check' } },
    async (_request, reply) => {
      const state = await readiness.evaluate();
      return reply
        .code(state.ready ? 200 : 503)
        .send({ status: state.ready ? 'ready' : 'not ready', ...state });
    },
  );
  app.get(
    '/metrics',
    { config: { role: 'metrics', summary: 'Prometheus metrics' } },
    async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.text()),
  );

  return {
    app,
    readiness,
    setAuth(next) {
      auth = next;
      tokens = new TokenTable(next);
    },
    async listen() {
      const [host, port] = splitHostPort(config.listen);
      await app.listen({ host, port });
      const address = app.server.address();
      const actualPort = typeof address === 'object' && address ? address.port : port;
      return `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
    },
    close: () => app.close(),
  };
}

function effectiveRole(
  role: Role | 'public' | 'health' | 'metrics' | undefined,
  auth: AuthConfig,
): Role | 'public' {
  if (role === 'health') return auth.openHealth ? 'public' : 'viewer';
  if (role === 'metrics') return auth.openMetrics ? 'public' : 'viewer';
  return role ?? 'viewer';
}

function splitHostPort(value: string): [string, number] {
  const at = value.lastIndexOf(':');
  return [value.slice(0, at).replace(/^\[|\]$/g, ''), Number(value.slice(at + 1))];
}
