import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeCluster } from '../../core/kafka-producer/fixtures/fake-broker.ts';
import { createLogger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import { SIDECAR_METRICS } from '../metrics.ts';
import { kafkaSinkSchema } from './config.ts';
import { DeadLetterFile } from './dead-letter.ts';
import { KafkaSink } from './kafka.ts';
import type { Entry } from './sink.ts';

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

const entry = (n: number, text = 'ok'): Entry => ({
  id: `id${n}`,
  time: 0,
  doc: Buffer.from(`{"n":${n},"t":"${text}"}`),
});
const INVALID_RECORD = 87;

describe('Kafka sink (fake broker)', () => {
  it('delivers the good records of a refused batch and dead-letters the bad ones alone', async () => {
    const cluster = await FakeCluster.start(1);
    open.push(cluster);
    cluster.leaders.set('logs-team-a', [0]);
    cluster.script = ({ batch }) =>
      batch.records.some((r) => r.value!.includes('BAD')) ? INVALID_RECORD : 0;
    const dir = await mkdtemp(join(tmpdir(), 'lookout-kafka-sink-'));
    const counter = new Metrics({ defaults: false }).counter(SIDECAR_METRICS.deadLettered);
    const deadLetter = new DeadLetterFile({ dir, sink: 'kafka', maxBytes: 1 << 20, counter, log: silent });
    const config = kafkaSinkSchema.parse({
      brokers: cluster.brokers,
      topic: 'logs-{kubernetes.namespace}',
      compression: 'none',
      maxMessageBytes: 100,
    });
    const sink = new KafkaSink('kafka', config, deadLetter);
    open.push(sink);
    const header = { kubernetes: { namespace: 'team-a', pod: { name: 'p' } } };
    const entries = Array.from({ length: 10 }, (_, n) => entry(n, n === 3 || n === 7 ? 'BAD' : 'ok'));
    entries.push(entry(10, 'x'.repeat(200)));
    await sink.deliver([{ header, entries }], new AbortController().signal);

    const delivered = cluster.appended.flatMap((call) =>
      call.batch.records.map((r) => JSON.parse(r.value!).n),
    );
    expect(delivered).toEqual([0, 1, 2, 4, 5, 6, 8, 9]);
    expect(cluster.appended[0]!.batch.records[0]!.key).toBe('team-a/p');
    const lines = (await readFile(join(dir, 'kafka.ndjson'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l['event.id'], l.status])).toEqual([
      ['id10', 'MESSAGE_TOO_LARGE'],
      ['id3', 'INVALID_RECORD'],
      ['id7', 'INVALID_RECORD'],
    ]);
  });
});
