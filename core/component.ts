import type { HttpApp } from './http.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';

/** What the process gives every component it runs. */
export interface ComponentContext {
  log: Logger;
  metrics: Metrics;
  /** The process's HTTP server: components add their routes and readiness checks to it. */
  http: HttpApp;
  /** The component keeps its state (queues, checkpoints, stores) in a folder of its own below this. */
  dataDir: string;
}
