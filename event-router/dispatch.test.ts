import { describe, expect, it } from 'vitest';
import { Metrics } from '../core/metrics.ts';
import type { Aggregator } from './aggregate/aggregator.ts';
import { dispatchMetrics, EventDispatcher } from './dispatch.ts';
import type { ObservedEvent } from './event.ts';
import { observedEvent } from './fixtures/observed-event.ts';
import type { Enricher } from './kube/enrich.ts';
import { routingSchema } from './routes/config.ts';
import { RoutingTree } from './routes/tree.ts';
import { ResumePoint } from './watch/resume.ts';

function setup(routing: string, enricher?: Pick<Enricher, 'enrich'>) {
  const added: [string, string, string[]][] = [];
  const aggregator = {
    add: (event: ObservedEvent, verdict: string, targets: { id: string }[]) =>
      added.push([event.name, verdict, targets.map((t) => t.id)]),
  } as unknown as Aggregator;
  const tree = new RoutingTree(routingSchema.parse(JSON.parse(routing)));
  const dispatcher = new EventDispatcher({
    resume: new ResumePoint({ time: 0, keys: {} }),
    aggregator,
    routing: () => tree,
    enricher: enricher as Enricher | undefined,
    archive: undefined,
    metrics: dispatchMetrics(new Metrics({ defaults: false })),
  });
  return { dispatcher, added };
}

describe('EventDispatcher', () => {
  it('hands new events and updates to the aggregator with their routes, and the same event only once', () => {
    const { dispatcher, added } = setup('{"route":{"robots":["oncall"]}}');
    const event = observedEvent({ lastTime: 1_000 });
    dispatcher.observe(event);
    dispatcher.observe(event);
    dispatcher.observe({ ...event, count: 2, lastTime: 2_000 });
    expect(added).toEqual([
      ['order-7f9c', 'new', ['root']],
      ['order-7f9c', 'update', ['root']],
    ]);
  });

  it('routes on labels after enrichment, and nothing still being enriched once closed', async () => {
    let release: (() => void) | undefined;
    const enricher = {
      enrich: async (event: ObservedEvent) => {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return { ...event, labels: { team: 'web' } };
      },
    };
    const routing = '{"route":{"robots":["oncall"],"routes":[{"match":{"labels":{"team":"web"}}}]}}';
    const first = setup(routing, enricher);
    first.dispatcher.observe(observedEvent({ lastTime: 1_000 }));
    release?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(first.added).toEqual([['order-7f9c', 'new', ['root.0']]]);

    const second = setup(routing, enricher);
    second.dispatcher.observe(observedEvent({ lastTime: 1_000 }));
    second.dispatcher.close();
    release?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(second.added).toEqual([]);
  });
});
