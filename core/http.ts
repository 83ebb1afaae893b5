import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
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
import { hostPort } from './config-types.ts';
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
});
export type HttpConfig = z.output<typeof httpSchema>;

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
  });
  let auth = config.auth;
  let tokens = new TokenTable(auth);

  app.decorateRequest('principal', null as unknown as Principal);

  app.addHook('onRequest', async (request, reply) => {
    const role = effectiveRole(request.routeOptions.config.role, auth);
    if (role === 'public' || !auth.enabled) {
      request.principal = ANONYMOUS_ADMIN;
      return;
    }
    const principal = tokens.lookup(request.headers.authorization);
    if (!principal) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'missing or invalid bearer token' });
    }
    if (!hasRole(principal, role)) {
      return reply
        .code(403)
        .send({ error: `this needs the ${role} role; token "${principal.name}" is ${principal.role}` });
    }
    request.principal = principal;
  });

  app.setErrorHandler((error: Error & { statusCode?: number; validation?: unknown }, request, reply) => {
    const status = error instanceof HttpError ? error.statusCode : (error.statusCode ?? 500);
    if (status >= 500) request.log.error({ err: error, url: request.url }, 'request failed');
    reply.code(status).send({ error: status >= 500 ? 'internal error' : error.message });
  });

  app.get('/healthz', { config: { role: 'health' } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: { role: 'health' } }, async (_request, reply) => {
    const state = await readiness.evaluate();
    return reply
      .code(state.ready ? 200 : 503)
      .send({ status: state.ready ? 'ready' : 'not ready', ...state });
  });
  app.get('/metrics', { config: { role: 'metrics' } }, async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.text()),
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
