import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import { SIDECAR_METRICS } from '../metrics.ts';
import type { QueueReader, QueueRecord } from '../queue/queue.ts';
import { DeadLetterFile } from './dead-letter.ts';
import { ItemDelivery } from './item-retry.ts';
import { SinkRunner } from './runner.ts';
import type { Batch, Entry, Sink } from './sink.ts';
import { compileTemplate } from './template.ts';

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const fast = { initialMs: 1, maxMs: 5 };
const entry = (n: number): Entry => ({ id: `id${n}`, time: 0, doc: Buffer.from(`{"n":${n}}`) });

function fakeReader(payloads: string[]) {
  const records: QueueRecord[] = payloads.map((p, i) => ({
    position: { segment: 1, offset: i },
    next: { segment: 1, offset: i + 1 },
    appendedAt: 0,
    payload: Buffer.from(p),
  }));
  const acked: number[] = [];
  let position = 0;
  const reader: QueueReader = {
    async read(_max, signal) {
      if (position < records.length) return [records[position++]!];
      await new Promise((_r, reject) => signal?.addEventListener('abort', () => reject(signal.reason)));
      return [];
    },
    async ack(record) {
      acked.push(record.position.offset);
    },
    rewind() {},
  };
  return { reader, acked };
}

describe('sink runner', () => {
  it('acknowledges a record only after the sink confirmed it, retrying failures', async () => {
    const { reader, acked } = fakeReader(['a', 'b']);
    const seen: string[] = [];
    let failures = 2;
    const sink: Sink = {
      name: 'flaky',
      async deliver(batches) {
        const text = String(batches[0]!.header.text);
        if (text === 'b' && failures-- > 0) {
          expect(acked).toEqual([0]);
          throw new Error('connection refused');
        }
        seen.push(text);
      },
      async close() {},
    };
    const metrics = new Metrics({ defaults: false });
    const runner = new SinkRunner({
      sink,
      reader,
      decode: (p): Batch => ({ header: { text: String(p) }, entries: [entry(1)] }),
      batchBytes: 1024,
      backoff: fast,
      log: silent,
      metrics,
    });
    runner.start();
    for (let i = 0; i < 100 && acked.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    await runner.stop(AbortSignal.timeout(1000));
    expect(seen).toEqual(['a', 'b']);
    expect(acked).toEqual([0, 1]);
    expect(runner.healthy).toBe(true);
    const text = await metrics.text();
    expect(text).toContain('lookout_sidecar_sink_events_total{sink="flaky",outcome="failed"} 2');
    expect(text).toContain('lookout_sidecar_sink_events_total{sink="flaky",outcome="acked"} 2');
  });

  it('reports unhealthy while failing and stops without acknowledging', async () => {
    const { reader, acked } = fakeReader(['a']);
    const sink: Sink = {
      name: 'down',
      deliver: async () => {
        throw new Error('down');
      },
      close: async () => {},
    };
    const runner = new SinkRunner({
      sink,
      reader,
      decode: () => ({ header: {}, entries: [entry(1)] }),
      batchBytes: 1024,
      backoff: fast,
      log: silent,
      metrics: new Metrics({ defaults: false }),
    });
    runner.start();
    await new Promise((r) => setTimeout(r, 50));
    expect(runner.healthy).toBe(false);
    await runner.stop(AbortSignal.timeout(1000));
    expect(acked).toEqual([]);
  });
});

describe('per-item delivery', () => {
  it('retries only the failed items and dead-letters permanent refusals', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lookout-dlq-'));
    const metrics = new Metrics({ defaults: false });
    const counter = metrics.counter(SIDECAR_METRICS.deadLettered);
    const deadLetter = new DeadLetterFile({ dir, sink: 'es', maxBytes: 1 << 20, counter, log: silent });
    const attempts: string[][] = [];
    let retried = 0;
    const items = new ItemDelivery(deadLetter, fast, (n) => {
      retried += n;
    });
    await items.deliver(
      [entry(1), entry(2), entry(3)],
      async (pending) => {
        attempts.push(pending.map((e) => e.id));
        if (attempts.length === 1) {
          return {
            retry: [pending[1]!],
            rejected: [
              { entry: pending[2]!, status: 400, reason: 'mapper_parsing_exception: "quote" \n here' },
            ],
          };
        }
        return { retry: [], rejected: [] };
      },
      AbortSignal.timeout(1000),
    );
    expect(attempts).toEqual([['id1', 'id2', 'id3'], ['id2']]);
    expect(retried).toBe(1);
    const lines = (await readFile(join(dir, 'es.ndjson'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1);
    const dead = JSON.parse(lines[0]!);
    expect(dead).toMatchObject({ sink: 'es', status: 400, 'event.id': 'id3', record: { n: 3 } });
    expect(dead.reason).toContain('"quote"');
    expect(await metrics.text()).toContain('lookout_sidecar_dead_lettered_total{sink="es"} 1');
  });
});

describe('templates', () => {
  it('renders dotted fields from flat or nested headers, with a fallback', () => {
    const render = compileTemplate('logs-{kubernetes.namespace}-{service.name}');
    expect(render({ kubernetes: { namespace: 'shop' }, 'service.name': 'cart' })).toBe('logs-shop-cart');
    expect(render({})).toBe('logs-unknown-unknown');
    expect(compileTemplate('plain')({})).toBe('plain');
  });
});
