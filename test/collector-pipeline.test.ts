import { mkdtemp } from 'node:fs/promises';
import { type AddressInfo, connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  infraAddress,
  KAFKA_SECURITY_ENV,
  kafkaBrokers,
  kafkaSecurity,
  withServerDown,
} from './infra/control.ts';
import { elasticsearchDocs } from './support/log-stores.ts';
import { eventually, LookoutProcess, writeConfig } from './support/lookout-process.ts';
import { gapsAndRepeats } from './support/numbered-writer.ts';
import { numbersInElasticsearch, pause, startSidecarRun } from './support/sidecar-run.ts';

/** A client of the tests' own, to make topics and produce to them. */
const testKafka = () => new kafkajs.Kafka({ brokers: kafkaBrokers(), logLevel: kafkajs.logLevel.NOTHING });

const running: LookoutProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.kill();
});

/**
 * A collector reading `topic` (or what `subscribe` names) into the run's own daily indices, with its own group and
 * dead-letter topic; `connection` replaces the plain listener's brokers (YAML fields).
 */
async function collectorFor(
  run: string,
  topic: string,
  options: { subscribe?: string; elasticsearch?: string; connection?: string } = {},
): Promise<{ process: LookoutProcess; second: () => LookoutProcess; dlq: string; index: string }> {
  const dir = await mkdtemp(join(tmpdir(), `lookout-collector-${run}-`));
  const dlq = `${topic}-dlq`;
  // Made here, not by the tests' first send: a topic the broker is still creating can fail that send's
  // metadata request with UNKNOWN_TOPIC_OR_PARTITION, which the producer does not retry.
  const admin = testKafka().admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic }], waitForLeaders: true });
  await admin.disconnect();
  const file = await writeConfig(
    dir,
    `
http: { listen: "127.0.0.1:0", auth: { enabled: false } }
dataDir: ${join(dir, 'data')}
shutdown: { timeout: 20s }
collector:
  kafka: { ${options.connection ?? `brokers: ["${kafkaBrokers()[0]}"]`}, topics: ["${options.subscribe ?? topic}"], groupId: "it-${run}", deadLetterTopic: "${dlq}" }
  elasticsearch: { nodes: ["${options.elasticsearch ?? infraAddress('elasticsearch')}"], index: "it-${run}-{yyyy.MM.dd}", replicas: 0 }
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
    const kafka = testKafka();
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
    expect(await storedMessages(collector.index, 2)).toEqual(['good 1', 'good 3']);
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
    const kafka = testKafka();
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

  it('never consumes its own dead-letter topic, and matches a topic pattern against whole names', async () => {
    const run = `loop${Date.now().toString(36)}`;
    const topic = `it-${run}-x`;
    // The dead-letter topic (`it-<run>-x-dlq`) matches the pattern; so would `pre-it-<run>-x` if it were not anchored.
    const collector = await collectorFor(run, topic, { subscribe: `/it-${run}-.*/` });
    const kafka = testKafka();
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    const good = (n: number) =>
      JSON.stringify({
        '@timestamp': new Date().toISOString(),
        message: `good ${n}`,
        event: { id: `${run}-${n}` },
      });
    await producer.send({ topic, messages: [{ value: 'not json' }, { value: good(1) }] });
    await producer.send({ topic: `pre-${topic}`, messages: [{ value: good(2) }] });
    const admin = kafka.admin();
    await admin.connect();
    const deadLettered = async () =>
      (await admin.fetchTopicOffsets(collector.dlq)).reduce((n, p) => n + Number(p.high), 0);
    const messages = async () =>
      (await elasticsearchDocs<{ message: string }>(collector.index, { match_all: {} }, ['message']))
        .map((d) => d.message)
        .sort();
    try {
      await collector.process.start();
      await eventually(messages, (m) => m.length >= 1, 'the good record in Elasticsearch');
      await eventually(deadLettered, (n) => n >= 1, 'the record in the dead-letter topic');
      // Restarted, the pattern now finds the dead-letter topic among the existing topics.
      expect(await collector.process.stop()).toBe(0);
      await collector.process.start();
      await producer.send({ topic, messages: [{ value: good(3) }] });
      await eventually(messages, (m) => m.length >= 2, 'the record sent after the restart');
      await pause(5_000);
      expect(await deadLettered()).toBe(1);
      expect(await messages()).toEqual(['good 1', 'good 3']);
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  }, 180_000);

  it('consumes over TLS with SASL/SCRAM, configured as for the sidecar', async () => {
    const run = `sasl${Date.now().toString(36)}`;
    const topic = `it-${run}`;
    const security = kafkaSecurity();
    const secret = (name: string) => `"\${${name}}"`;
    const collector = await collectorFor(run, topic, {
      connection: `brokers: ${JSON.stringify(security.saslSslBrokers)}, tls: { caFile: "${security.caFile}" }, sasl: { mechanism: scram-sha-256, username: ${secret(KAFKA_SECURITY_ENV.username)}, password: ${secret(KAFKA_SECURITY_ENV.password)} }`,
    });
    const kafka = testKafka();
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        'not json',
        ...[1, 2].map((n) =>
          JSON.stringify({
            '@timestamp': new Date().toISOString(),
            message: `line ${n}`,
            event: { id: `${run}-${n}` },
          }),
        ),
      ].map((value) => ({ value })),
    });
    await producer.disconnect();
    const address = await collector.process.start();
    expect(await storedMessages(collector.index, 2)).toEqual(['line 1', 'line 2']);
    // The dead-letter topic is written over the same secured connection.
    await eventually(
      async () =>
        (await (await fetch(`${address}/metrics`)).text()).match(
          /lookout_collector_records_total\{outcome="dead_lettered"\} 1/,
        ),
      (found) => found !== null,
      'the record in the dead-letter topic',
      60_000,
    );
    expect(await collector.process.stop()).toBe(0);
  }, 180_000);

  it('starts while Elasticsearch is unreachable, not ready, and consumes once it can write', async () => {
    const run = `esdown${Date.now().toString(36)}`;
    const topic = `it-${run}`;
    // A port nothing listens on yet; later a proxy to the real cluster listens there.
    const port = await freePort();
    const collector = await collectorFor(run, topic, { elasticsearch: `http://127.0.0.1:${port}` });
    const kafka = testKafka();
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    await producer.send({
      topic,
      messages: [1, 2].map((n) => ({
        value: JSON.stringify({
          '@timestamp': new Date().toISOString(),
          message: `line ${n}`,
          event: { id: `${run}-${n}` },
        }),
      })),
    });
    await producer.disconnect();
    const address = await collector.process.start();
    const ready = async () => (await fetch(`${address}/readyz`)).status;
    await pause(3_000);
    expect(await ready()).toBe(503);
    expect(collector.process.tail()).toMatch(/cannot open the log store yet/);
    const proxy = await proxyTo(infraAddress('elasticsearch'), port);
    try {
      await eventually(
        ready,
        (status) => status === 200,
        'readiness once Elasticsearch is reachable',
        90_000,
      );
      expect(await storedMessages(collector.index, 2)).toEqual(['line 1', 'line 2']);
      expect(await collector.process.stop()).toBe(0);
    } finally {
      proxy.close();
    }
  }, 180_000);
});

/** The messages stored in `index`, sorted, once there are at least `count`. */
async function storedMessages(index: string, count: number): Promise<string[]> {
  const docs = await eventually(
    async () => elasticsearchDocs<{ message: string }>(index, { match_all: {} }, ['message']),
    (found) => found.length >= count,
    `${count} records in Elasticsearch`,
    60_000,
  );
  return docs.map((d) => d.message).sort();
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A TCP proxy on `port` to the server at `target` (an http:// address). */
async function proxyTo(target: string, port: number): Promise<Server> {
  const to = new URL(target);
  const server = createServer((client) => {
    const upstream = connect(Number(to.port), to.hostname);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}
