import { afterEach, describe, expect, it } from 'vitest';
import type { LogRecord } from '../record/log-record.ts';
import { FakeCluster } from './fixtures/fake-broker.ts';
import { partitionForKey } from './murmur2.ts';
import { KafkaProducer, type ProducerOptions } from './producer.ts';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

async function setup(options: Partial<ProducerOptions> = {}, nodes = 2) {
  const cluster = await FakeCluster.start(nodes);
  open.push(cluster);
  const producer = new KafkaProducer({
    brokers: cluster.brokers.slice(0, 1),
    clientId: 'test',
    connectTimeout: 2_000,
    requestTimeout: 2_000,
    compression: 'none',
    maxBatchBytes: 64 * 1024,
    maxRequestBytes: 256 * 1024,
    maxInFlight: 5,
    retries: 3,
    retryBackoff: { initialMs: 1, maxMs: 5 },
    metadataMaxAgeMs: 60_000,
    autoCreateTopics: true,
    ...options,
  });
  open.push(producer);
  return { cluster, producer };
}

const records = (from: number, count: number): LogRecord[] =>
  Array.from({ length: count }, (_, n) => ({
    id: `id${from + n}`,
    time: 1_700_000_000_000,
    doc: Buffer.from(`{"n":${from + n}}`),
  }));

/** The record numbers appended to a partition, in order. */
function appendedNumbers(cluster: FakeCluster, topic: string, partition: number): number[] {
  return cluster.appended
    .filter((call) => call.topic === topic && call.partition === partition)
    .flatMap((call) => call.batch.records.map((r) => JSON.parse(r.value!).n as number));
}

const key = Buffer.from('ns/pod-0');

/** A script that runs `first` on the first batch only and takes every batch after it. */
function onFirstBatch(first: () => number): () => number {
  let done = false;
  return () => {
    if (done) return 0;
    done = true;
    return first();
  };
}

describe('Kafka producer (fake brokers)', () => {
  it('sends each key to its partition in order, with the producer id and consecutive sequences', async () => {
    const { cluster, producer } = await setup({ maxBatchBytes: 4 * 1024 });
    cluster.leaders.set('logs', [0, 1, 0, 1]);
    const other = Buffer.from('ns/pod-7');
    expect(
      await producer.send([
        { topic: 'logs', key, records: records(0, 300) },
        { topic: 'logs', key: other, records: records(1000, 5) },
      ]),
    ).toEqual([]);
    expect(await producer.send([{ topic: 'logs', key, records: records(300, 10) }])).toEqual([]);
    const partition = partitionForKey(key, 4);
    expect(partition).not.toBe(partitionForKey(other, 4));
    expect(appendedNumbers(cluster, 'logs', partition)).toEqual(Array.from({ length: 310 }, (_, n) => n));
    expect(appendedNumbers(cluster, 'logs', partitionForKey(other, 4))).toEqual([
      1000, 1001, 1002, 1003, 1004,
    ]);
    const batches = cluster.appended.filter((call) => call.partition === partition).map((call) => call.batch);
    expect(batches.length).toBeGreaterThan(3);
    let sequence = 0;
    for (const batch of batches) {
      expect(batch).toMatchObject({ producerId: 1000n, producerEpoch: 0, baseSequence: sequence });
      sequence += batch.records.length;
    }
    expect(batches[0]!.records[0]).toMatchObject({
      key: 'ns/pod-0',
      headers: [['lookout-record', '1700000000000 id0']],
    });
  });

  it('follows a leader that moved, and sends the batches again in order', async () => {
    const { cluster, producer } = await setup({ maxBatchBytes: 2 * 1024 });
    cluster.leaders.set('logs', [0]);
    await producer.send([{ topic: 'logs', key, records: records(0, 50) }]);
    cluster.leaders.set('logs', [1]);
    await producer.send([{ topic: 'logs', key, records: records(50, 200) }]);
    expect(appendedNumbers(cluster, 'logs', 0)).toEqual(Array.from({ length: 250 }, (_, n) => n));
    expect(new Set(cluster.appended.slice(-3).map((call) => call.node))).toEqual(new Set([1]));
    // The first attempt went to the old leader; the metadata was asked again.
    expect(
      cluster.calls.some((call) => call.node === 0 && JSON.parse(call.batch.records[0]!.value!).n >= 50),
    ).toBe(true);
    expect(cluster.metadataRequests).toBe(2);
  });

  it('starts again under a new producer id when the broker lost its sequence', async () => {
    const { cluster, producer } = await setup();
    cluster.leaders.set('logs', [0]);
    await producer.send([{ topic: 'logs', key, records: records(0, 10) }]);
    cluster.script = onFirstBatch(() => 45); // OUT_OF_ORDER_SEQUENCE_NUMBER
    await producer.send([{ topic: 'logs', key, records: records(10, 10) }]);
    expect(appendedNumbers(cluster, 'logs', 0)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(cluster.appended.map((call) => [call.batch.producerId, call.batch.baseSequence])).toEqual([
      [1000n, 0],
      [1001n, 0],
    ]);
  });

  it('gives back a batch refused for its records, and delivers the rest', async () => {
    const { cluster, producer } = await setup();
    cluster.leaders.set('logs', [0, 0]);
    const bad = Buffer.from('ns/bad');
    const good = Buffer.from('ns/good-2');
    expect(partitionForKey(bad, 2)).not.toBe(partitionForKey(good, 2));
    cluster.script = (call) => (call.partition === partitionForKey(bad, 2) ? 10 : 0); // MESSAGE_TOO_LARGE
    const refusals = await producer.send([
      { topic: 'logs', key: bad, records: records(0, 3) },
      { topic: 'logs', key: good, records: records(3, 3) },
    ]);
    expect(refusals).toEqual([
      {
        code: 'MESSAGE_TOO_LARGE',
        message: undefined,
        sets: [{ topic: 'logs', key: bad, records: records(0, 3) }],
      },
    ]);
    expect(appendedNumbers(cluster, 'logs', partitionForKey(good, 2))).toEqual([3, 4, 5]);
    // A refused batch used no sequence numbers: the next batch starts a new producer rather than leave a gap.
    cluster.script = () => 0;
    await producer.send([{ topic: 'logs', key: bad, records: records(6, 1) }]);
    expect(cluster.appended.at(-1)!.batch).toMatchObject({ producerId: 1001n, baseSequence: 0 });
  });

  it('sends again what a dropped connection carried', async () => {
    const { cluster, producer } = await setup();
    cluster.leaders.set('logs', [0]);
    await producer.send([{ topic: 'logs', key, records: records(0, 5) }]);
    cluster.script = onFirstBatch(() => {
      cluster.dropConnections();
      return 0;
    });
    await producer.send([{ topic: 'logs', key, records: records(5, 5) }]);
    // The broker took the batch but its answer was lost: the batch goes again with the same sequence.
    const sent = cluster.calls.slice(-2).map((call) => [call.batch.producerId, call.batch.baseSequence]);
    expect(sent).toEqual([
      [1000n, 5],
      [1000n, 5],
    ]);
  });

  it('fails after its retries when a topic does not exist, and reconnects when brokers come back', async () => {
    const { cluster, producer } = await setup({ retries: 2 });
    await expect(producer.send([{ topic: 'missing', key, records: records(0, 1) }])).rejects.toThrow(
      /UNKNOWN_TOPIC_OR_PARTITION/,
    );
    expect(cluster.metadataRequests).toBe(3);
    cluster.leaders.set('missing', [0]);
    expect(await producer.send([{ topic: 'missing', key, records: records(0, 1) }])).toEqual([]);
  });

  it('fails when no broker can be reached', async () => {
    const { cluster, producer } = await setup({ retries: 1 });
    await cluster.close();
    await expect(producer.send([{ topic: 'logs', key, records: records(0, 1) }])).rejects.toThrow(
      /cannot connect to the Kafka broker at 127\.0\.0\.1:\d+/,
    );
  });

  it('stops a send at once when its signal aborts or the producer closes', async () => {
    const { cluster, producer } = await setup({
      retries: 1_000,
      retryBackoff: { initialMs: 1_000, maxMs: 1_000 },
    });
    await cluster.close();
    const aborting = new AbortController();
    const started = Date.now();
    const sending = producer.send([{ topic: 'logs', key, records: records(0, 1) }], aborting.signal);
    setTimeout(() => aborting.abort(new Error('deadline')), 50);
    await expect(sending).rejects.toThrow('deadline');
    const closing = producer.send([{ topic: 'logs', key, records: records(0, 1) }]);
    setTimeout(() => producer.close(), 50);
    await expect(closing).rejects.toThrow('the Kafka producer is closed');
    expect(Date.now() - started).toBeLessThan(900);
  });
});
