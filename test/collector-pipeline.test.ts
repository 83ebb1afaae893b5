import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { infraAddress, kafkaBrokers, withServerDown } from './infra/control.ts';
import { elasticsearchDocs } from './support/log-stores.ts';
import { eventually, LookoutProcess, writeConfig } from './support/lookout-process.ts';
import { gapsAndRepeats } from './support/numbered-writer.ts';
import { numbersInElasticsearch, pause, startSidecarRun } from './support/sidecar-run.ts';

const running: LookoutProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.kill();
});

/** A collector reading `topic` into the run's own daily indices, with its own group and dead-letter topic. */
async function collectorFor(
  run: string,
  topic: string,
): Promise<{ process: LookoutProcess; second: () => LookoutProcess; dlq: string; index: string }> {
  const dir = await mkdtemp(join(tmpdir(), `lookout-collector-${run}-`));
  const dlq = `${topic}-dlq`;
  const file = await writeConfig(
    dir,
    `
http: { listen: "127.0.0.1:0", auth: { enabled: false } }
dataDir: ${join(dir, 'data')}
shutdown: { timeout: 20s }
collector:
  kafka: { brokers: ["${kafkaBrokers()[0]}"], topics: ["${topic}"], groupId: "it-${run}", deadLetterTopic: "${dlq}" }
  elasticsearch: { nodes: ["${infraAddress('elasticsearch')}"], index: "it-${run}-{yyyy.MM.dd}", replicas: 0 }
  retry: { initial: 100ms, max: 2s }
`,
  );
  const member = () => {
    const process = new LookoutProcess('collector', file);
    running.push(process);
    return process;
  };
  return { process: member(), second: member, dlq, index: `it-${run}-*` };
}

describe('collector: Kafka to Elasticsearch (real Kafka and Elasticsearch)', () => {
  it('stores every line of sidecar → Kafka exactly once through a kill -9, a rebalance and an Elasticsearch outage', async () => {
    const s = await startSidecarRun('coll', { sinks: ['kafka'] });
    running.push(s.sidecar);
    await s.writer.write(1);
    await s.sidecar.start();
    const collector = await collectorFor(s.run, s.topic);
    await collector.process.start();
    await s.writer.write(3_000);
    // Somewhere in the middle of the stream, not at a batch boundary chosen by the test.
    await eventually(
      async () => (await elasticsearchDocs(s.indexPattern, { match_all: {} }, ['event.id'])).length,
      (n) => n > 500,
      'the first lines in Elasticsearch',
      60_000,
    );
    await collector.process.kill();
    await s.writer.write(2_000);
    await collector.process.start();
    // A second member joins the group, then the first leaves: the partition moves twice mid-stream.
    const second = collector.second();
    await second.start();
    await s.writer.write(1_000);
    expect(await collector.process.stop()).toBe(0);
    await withServerDown('elasticsearch', async () => {
      await s.writer.write(2_000);
      await pause(5_000);
    });
    await s.writer.write(1_000);
    const numbers = await numbersInElasticsearch(s, s.writer.written, 180_000).catch((err: Error) => {
      throw new Error(`${err.message}\ncollector:\n${second.tail(40)}`);
    });
    expect(gapsAndRepeats(numbers, s.writer.written)).toEqual({ missing: [], repeated: [] });
    expect(await second.stop()).toBe(0);
  }, 400_000);

  it('sends records it cannot store to the dead-letter topic with the reason, and stores the rest', async () => {
    const run = `dlq${Date.now().toString(36)}`;
    const topic = `it-${run}`;
    const collector = await collectorFor(run, topic);
    const kafka = new kafkajs.Kafka({ brokers: kafkaBrokers(), logLevel: kafkajs.logLevel.NOTHING });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    const good = (n: number, extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        '@timestamp': new Date().toISOString(),
        message: `good ${n}`,
        log: { offset: n },
        kubernetes: { namespace: run },
        event: { id: `${run}-${n}` },
        ...extra,
      });
    const unstorable = [
      'not json at all',
      JSON.stringify({ message: 'no id or time' }),
      // Elasticsearch refuses it (a metadata field inside a document); the collector's own checks let it by.
      good(2, { _id: 'not allowed in a document' }),
    ];
    await producer.send({
      topic,
      messages: [good(1), ...unstorable, good(3)].map((value) => ({ value })),
    });
    await producer.disconnect();
    const address = await collector.process.start();
    const stored = await eventually(
      async () => elasticsearchDocs<{ message: string }>(collector.index, { match_all: {} }, ['message']),
      (docs) => docs.length >= 2,
      'the good records in Elasticsearch',
      60_000,
    );
    expect(stored.map((d) => d.message).sort()).toEqual(['good 1', 'good 3']);
    const dead: { value: string; reason: string; source: string }[] = [];
    const consumer = kafka.consumer({ groupId: `verify-${run}` });
    await consumer.connect();
    await consumer.subscribe({ topic: collector.dlq, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        dead.push({
          value: String(message.value),
          reason: String(message.headers?.['lookout-reason']),
          source: String(message.headers?.['lookout-source']),
        });
      },
    });
    await eventually(
      async () => dead.length,
      (n) => n >= 3,
      'three records in the dead-letter topic',
      60_000,
    );
    await consumer.disconnect();
    expect(dead.map((d) => d.value)).toEqual(unstorable);
    expect(dead[0]!.reason).toMatch(/^not JSON/);
    expect(dead[1]!.reason).toMatch(/event.id/);
    expect(dead[2]!.reason).toMatch(/^400: .*mapper_parsing_exception|^400: .*document_parsing_exception/);
    expect(dead.every((d) => d.source.startsWith(`${topic}/0/`))).toBe(true);
    const metrics = await (await fetch(`${address}/metrics`)).text();
    expect(metrics).toMatch(/lookout_collector_records_total\{outcome="dead_lettered"\} 3/);
  }, 180_000);

  it('on SIGTERM finishes the slices in flight and commits exactly what it stored', async () => {
    const run = `term${Date.now().toString(36)}`;
    const topic = `it-${run}`;
    const collector = await collectorFor(run, topic);
    const kafka = new kafkajs.Kafka({ brokers: kafkaBrokers(), logLevel: kafkajs.logLevel.NOTHING });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    const total = 150_000;
    for (let from = 0; from < total; from += 10_000) {
      const messages = Array.from({ length: 10_000 }, (_, i) => ({
        value: JSON.stringify({
          '@timestamp': new Date().toISOString(),
          message: `line ${from + i} ${'x'.repeat(200)}`,
          log: { offset: from + i },
          event: { id: `${run}-${from + i}` },
        }),
      }));
      // Gzip, as the sidecar sends by default; uncompressed, 10,000 lines pass the broker's message limit.
      await producer.send({ topic, compression: kafkajs.CompressionTypes.GZIP, messages });
    }
    await producer.disconnect();
    await collector.process.start();
    await eventually(
      async () => (await elasticsearchDocs(collector.index, { match_all: {} }, ['event.id'])).length,
      (n) => n > 0,
      'the first lines in Elasticsearch',
      60_000,
    );
    expect(await collector.process.stop()).toBe(0);
    const admin = kafka.admin();
    await admin.connect();
    const [offsets] = await admin.fetchOffsets({ groupId: `it-${run}`, topics: [topic] });
    await admin.disconnect();
    const committed = Number(offsets!.partitions[0]!.offset);
    const es = infraAddress('elasticsearch');
    await fetch(`${es}/${collector.index}/_refresh`, { method: 'POST' });
    const { count } = (await (await fetch(`${es}/${collector.index}/_count`)).json()) as { count: number };
    // Stopped mid-stream, with nothing stored beyond what was committed and nothing committed unstored.
    expect(committed).toBeGreaterThan(0);
    expect(committed).toBeLessThan(total);
    expect(count).toBe(committed);
  }, 180_000);
});
