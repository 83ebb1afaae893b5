import type { HttpServer } from './http-server.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';

/** What the process gives every component it runs. */
export interface ComponentContext<Http extends HttpServer = HttpServer> {
  log: Logger;
  metrics: Metrics;
  /** The process's HTTP server: components add their readiness checks, and routes where they serve an API. */
  http: Http;
  /** The component keeps its state (queues, checkpoints, stores) in a folder of its own below this. */
  dataDir: string;
}
