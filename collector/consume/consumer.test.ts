import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { kafkaConnectionSchema } from '../../core/kafka-config.ts';
import { createLogger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import { recordHeaders } from '../../core/record/headers.ts';
import type { LogRecord } from '../../core/record/log-record.ts';
import { collectorSchema } from '../config.ts';
import { recordRules } from '../records.ts';
import type { StoreWriter } from '../store-writer.ts';
import { LogConsumer, type Member } from './consumer.ts';
import type { FetchedBatch } from './partition-reader.ts';

const RECORD_BYTES = 1_000;
const PER_FETCH = 40;

function batchAt(offset: number, count: number): FetchedBatch {
  const doc = Buffer.from(`{"message":"${'x'.repeat(RECORD_BYTES - 15)}"}`);
  const records = Array.from({ length: count }, (_, i) => {
    const headers = [...recordHeaders(`id-${offset + i}`, Date.now())] as [Buffer, Buffer][];
    return { offset: BigInt(offset + i), record: { value: doc, key: null, headers } };
  });
  return {
    topic: 'logs',
    partition: 0,
    records: records as FetchedBatch['records'],
    highWatermark: 1_000n,
    leaderEpoch: 0,
  };
}

/** A store that takes each write only when the test lets it. */
class HeldStore {
  readonly waiting: { records: readonly LogRecord[]; done: () => void }[] = [];
  stored = 0;

  readonly writer = {
    writeAll: (records: readonly LogRecord[]) =>
      new Promise<never[]>((resolve) => {
        this.waiting.push({
          records,
          done: () => {
            this.stored += records.length;
            resolve([]);
          },
        });
      }),
  } as unknown as StoreWriter;

  releaseAll(): void {
    for (const write of this.waiting.splice(0)) write.done();
  }
}

const consumers: LogConsumer[] = [];
afterEach(async () => {
  for (const c of consumers.splice(0)) await c.stop(AbortSignal.timeout(5_000));
});

describe('LogConsumer', () => {
  it('fetches only while less than maxBytesInFlight is held, whatever the slices in flight allow', async () => {
    const budget = 100 * RECORD_BYTES;
    const total = 20 * PER_FETCH;
    const metrics = new Metrics({ defaults: false });
    const held = async () =>
      (await metrics.registry.getSingleMetric('lookout_collector_bytes_in_flight')?.get())?.values[0]
        ?.value ?? 0;
    const heldAtFetch: number[] = [];
    let next = 0;
    const member: Member = {
      consumer: { commit: async () => {}, close: async () => {} } as unknown as Member['consumer'],
      connections: { close: async () => {} } as unknown as Member['connections'],
      failed: new AbortController(),
      reader: {
        reads: () => true,
        fetch: async () => {
          heldAtFetch.push(await held());
          if (next >= total) {
            await delay(10);
            return [];
          }
          const batch = batchAt(next, PER_FETCH);
          next += PER_FETCH;
          return [batch];
        },
      },
    };
    const store = new HeldStore();
    const consumer = new LogConsumer({
      connection: kafkaConnectionSchema.parse({ brokers: ['127.0.0.1:9'] }),
      topics: ['logs'],
      groupId: 'g',
      deadLetterTopic: 'logs-dlq',
      fromBeginning: true,
      writer: store.writer,
      rules: recordRules(collectorSchema.parse({}).records),
      backoff: { initialMs: 10, maxMs: 10 },
      maxBytesInFlight: budget,
      log: createLogger({ level: 'silent' }),
      metrics,
      join: async () => member,
    });
    consumers.push(consumer);
    consumer.start();
    // Three slices of 40 records may be stored at once: after the third fetch 120 records are held, past
    // the budget, and only the budget keeps a fourth fetch from coming before a slice is stored.
    await expect.poll(() => store.waiting.length).toBe(3);
    while (store.stored < total) {
      store.releaseAll();
      await delay(5);
    }
    expect(Math.max(...heldAtFetch)).toBeLessThan(budget);
    await expect.poll(held).toBe(0);
  });
});
