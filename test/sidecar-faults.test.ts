import { appendFile, mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { withServerDown } from './infra/control.ts';
import { kafkaValues } from './support/log-stores.ts';
import { eventually, type LookoutProcess } from './support/lookout-process.ts';
import { gapsAndRepeats } from './support/numbered-writer.ts';
import {
  expectAllDelivered,
  metricValue,
  numbersInElasticsearch,
  numbersInKafka,
  pause,
  type SidecarRun,
  type SidecarRunOptions,
  startSidecarRun,
} from './support/sidecar-run.ts';

const running: LookoutProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.kill();
});

async function started(
  name: string,
  options: SidecarRunOptions = {},
): Promise<SidecarRun & { address: string }> {
  const s = await startSidecarRun(name, options);
  running.push(s.sidecar);
  await s.writer.write(1);
  return { ...s, address: await s.sidecar.start() };
}

describe('sidecar when a destination fails (real Kafka and Elasticsearch)', () => {
  it('keeps Kafka flowing while Elasticsearch is down, then fills Elasticsearch exactly once', async () => {
    const s = await started('esdown');
    await s.writer.write(2_000);
    await numbersInElasticsearch(s, s.writer.written);
    await withServerDown('elasticsearch', async () => {
      await s.writer.write(3_000);
      const inKafka = await numbersInKafka(s, s.writer.written, 60_000);
      expect(gapsAndRepeats(inKafka, s.writer.written).missing).toEqual([]);
      // Still ready: one sink works.
      expect((await fetch(`${s.address}/readyz`)).status).toBe(200);
    });
    await s.writer.write(1_000);
    await expectAllDelivered(s, 120_000);
    expect(await s.sidecar.stop()).toBe(0);
  }, 300_000);

  it('loses nothing while Kafka is down for a minute', async () => {
    const s = await started('kafkadown');
    await s.writer.write(1_000);
    await numbersInElasticsearch(s, s.writer.written);
    await withServerDown('kafka', async () => {
      const until = Date.now() + 60_000;
      while (Date.now() < until) {
        await s.writer.write(200);
        await pause(2_000);
      }
      // Elasticsearch does not wait for Kafka.
      await numbersInElasticsearch(s, s.writer.written, 30_000);
    });
    await s.writer.write(500);
    await expectAllDelivered(s, 120_000);
    expect(await s.sidecar.stop()).toBe(0);
  }, 300_000);

  it('pauses reading when the queue is full, reports it, and loses nothing', async () => {
    const s = await started('queuefull', {
      sinks: ['elasticsearch'],
      extra: '  queue: { maxBytes: 256KiB, segmentBytes: 64KiB }',
    });
    await withServerDown('elasticsearch', async () => {
      // Far more than the queue holds: the files on disk are the buffer.
      await s.writer.write(20_000);
      await pause(4_000);
      expect(await metricValue(s.address, 'lookout_sidecar_backpressure_seconds')).toBeGreaterThan(0);
      expect(await metricValue(s.address, 'lookout_sidecar_queue_bytes')).toBeLessThan(1024 * 1024);
      // Every sink is failing: not ready.
      expect((await fetch(`${s.address}/readyz`)).status).toBe(503);
    });
    await expectAllDelivered(s, 180_000);
    expect(await s.sidecar.stop()).toBe(0);
  }, 300_000);
});

describe('sidecar when reading itself fails (real Elasticsearch)', () => {
  it('restarts reading with backoff, not ready meanwhile, and loses nothing', async () => {
    const s = await started('tailfail', { sinks: ['elasticsearch'] });
    await s.writer.write(100);
    await numbersInElasticsearch(s, s.writer.written);
    // A directory where the checkpoints' temporary file goes: saving them fails, even for root.
    const blocker = join(s.dir, 'data', 'sidecar', 'checkpoints.json.tmp');
    await mkdir(blocker);
    await s.writer.write(100);
    const readiness = () => fetch(`${s.address}/readyz`).then((r) => r.status);
    await eventually(readiness, (status) => status === 503, 'not ready while reading is down', 30_000);
    expect(await metricValue(s.address, 'lookout_sidecar_tailer_up')).toBe(0);
    expect(await metricValue(s.address, 'lookout_sidecar_tailer_restarts_total')).toBeGreaterThan(0);
    expect(s.sidecar.output.join('')).toContain(
      'tailer stopped unexpectedly; restarting from the checkpoints',
    );
    await rmdir(blocker);
    await eventually(readiness, (status) => status === 200, 'ready again', 30_000);
    await s.writer.write(100);
    await expectAllDelivered(s, 60_000);
    expect(await s.sidecar.stop()).toBe(0);
  }, 180_000);
});

describe('sidecar killed while reading (real Kafka)', () => {
  it('replays lines without a time of their own as identical records after kill -9', async () => {
    const s = await started('replay', { sinks: ['kafka'] });
    const total = 300_000;
    let text = '';
    for (let n = 1; n <= total; n++) text += `${s.run} replay=${n} has no time of its own\n`;
    await appendFile(s.writer.path, text);
    // Killed while the burst is read: batches are queued whose checkpoint is not saved yet.
    for (;;) {
      const read = await metricValue(s.address, 'lookout_sidecar_read_lines_total');
      if (read >= 20_000) break;
      await pause(20);
    }
    await s.sidecar.kill();
    await s.sidecar.start();
    const pattern = new RegExp(`${s.run} replay=(\\d+) `);
    const seen = new Set<number>();
    const records = await kafkaValues(
      s.topic,
      (value) => {
        const doc = JSON.parse(value) as { message: string; event: { id: string } };
        const n = Number(pattern.exec(doc.message)?.[1] ?? 0);
        if (n > 0) seen.add(n);
        return { id: doc.event.id, value };
      },
      () => seen.size === total,
      180_000,
    );
    expect(seen.size).toBe(total);
    const copies = new Map<string, Set<string>>();
    let replayed = 0;
    for (const { id, value } of records) {
      const same = copies.get(id) ?? new Set<string>();
      if (copies.has(id)) replayed++;
      copies.set(id, same.add(value));
    }
    // The kill came after batches were queued, so some lines were read twice: each time as the same record.
    expect(replayed).toBeGreaterThan(0);
    expect([...copies.values()].filter((values) => values.size > 1).slice(0, 3)).toEqual([]);
    expect(await s.sidecar.stop()).toBe(0);
  }, 300_000);
});
