import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest as IncomingRequest,
  LogController,
} from 'fastify';
import { HttpError, type Principal } from './auth.ts';
import { type ConsoleFiles, consolePage, registerConsole, wantsPage } from './console.ts';
import {
  Authorizer,
  baseUrl,
  builtInRoutes,
  type HttpServer,
  type HttpServerOptions,
  Readiness,
  type RouteRole,
  serverTimeouts,
  splitHostPort,
} from './http-server.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** Least role a route needs (default: viewer). */
    role?: RouteRole;
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

export interface HttpApp extends HttpServer {
  app: FastifyInstance;
}

export interface HttpAppOptions extends HttpServerOptions {
  /** The web console, served at `/` to browsers and at its pages' paths. */
  console?: ConsoleFiles;
}

/** The HTTP server every service shares: health, readiness, metrics and token auth. */
export function createHttpApp(options: HttpAppOptions): HttpApp {
  const { config, log, metrics } = options;
  const readiness = options.readiness ?? new Readiness();
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimit,
    http: serverTimeouts(config),
    requestTimeout: config.requestTimeout,
  });
  const authorizer = new Authorizer(config.auth);
  const authorize = (request: IncomingRequest) =>
    authorizer.check(request.routeOptions.config.role, request.headers.authorization);

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

  const page = options.console && consolePage(options.console);
  for (const route of builtInRoutes(
    readiness,
    metrics,
    () => authorizer.auth,
    () => endpoints,
  )) {
    app.get(route.path, { config: { role: route.role, summary: route.summary } }, async (request, reply) => {
      // A browser at the root gets the console; programs get the list of endpoints, as before.
      if (page && route.path === '/' && wantsPage(request)) return page(request, reply);
      const answer = await route.answer();
      return reply.code(answer.status).type(answer.type).send(answer.body);
    });
  }

  app.get(
    '/api/whoami',
    {
      config: {
        role: 'viewer',
        summary: "the token's name, role and namespaces (auth off: anonymous admin)",
      },
    },
    async (request) => {
      const { name, role, namespaces } = request.principal;
      return { name, role, namespaces: namespaces ?? null, auth: authorizer.auth.enabled };
    },
  );
  if (options.console) registerConsole(app, options.console);

  return {
    app,
    readiness,
    setAuth: (auth) => authorizer.set(auth),
    async listen() {
      const [host, port] = splitHostPort(config.listen);
      await app.listen({ host, port });
      return baseUrl(app.server, host, port);
    },
    close: () => app.close(),
  };
}
