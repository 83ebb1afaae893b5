import { sleep } from '../core/backoff.ts';
import type { Metrics } from '../core/metrics.ts';
import type { Aggregator } from './aggregate/aggregator.ts';
import type { EventArchive } from './archive/archive.ts';
import type { ObservedEvent } from './event.ts';
import type { Enricher } from './kube/enrich.ts';
import { EVENT_ROUTER_METRICS } from './metrics.ts';
import type { RoutingTree } from './routes/tree.ts';
import { Hold, type ResumePoint } from './watch/resume.ts';

/** How long routing waits for the involved object's labels and owner when no route matches on labels. */
const ENRICH_BUDGET_MS = 250;

export type DispatchMetrics = ReturnType<typeof dispatchMetrics>;

export function dispatchMetrics(metrics: Metrics) {
  return {
    events: metrics.counter(EVENT_ROUTER_METRICS.events),
    routed: metrics.counter(EVENT_ROUTER_METRICS.routed),
  };
}

export interface DispatchOptions {
  resume: ResumePoint;
  aggregator: Aggregator;
  /** The routing in force: a reload replaces it while events flow. */
  routing: () => RoutingTree;
  enricher: Enricher | undefined;
  archive: EventArchive | undefined;
  metrics: DispatchMetrics;
}

/**
 * Each watched event, while this replica leads: archived, judged by the resume
 * point (nothing old, nothing twice), enriched, routed and handed to the
 * aggregator.
 */
export class EventDispatcher {
  private readonly options: DispatchOptions;
  private closed = false;

  constructor(options: DispatchOptions) {
    this.options = options;
  }

  /** Events still being enriched are not routed after this: the aggregator they would go to has stopped. */
  close(): void {
    this.closed = true;
  }

  observe(event: ObservedEvent): void {
    if (this.closed) return;
    const { resume, aggregator, routing, enricher, archive, metrics } = this.options;
    archive?.add(event);
    const hold = new Hold();
    const verdict = resume.judge(event, hold);
    metrics.events.inc({ verdict });
    if (verdict !== 'new' && verdict !== 'update') return;
    const route = (enriched: ObservedEvent) => {
      // Closed while enriching: left unhandled, so whoever leads next tells it.
      if (this.closed) return;
      const targets = routing().route(enriched);
      if (targets.length > 0) {
        metrics.routed.inc();
        aggregator.add(enriched, verdict, targets, hold);
      }
      hold.done();
    };
    if (!enricher) route(event);
    else if (routing().matchesLabels) void enricher.enrich(event).then(route);
    // Labels and owner only decorate the message here: a slow API server must not hold it back.
    else void Promise.race([enricher.enrich(event), sleep(ENRICH_BUDGET_MS).then(() => event)]).then(route);
  }
}
