import { afterEach, describe, expect, it } from 'vitest';
import { openDiskQueue } from './disk-queue.ts';
import * as fx from './fixtures/helpers.ts';
import { MemoryQueue } from './memory-queue.ts';
import type { Queue } from './queue.ts';
import { comparePositions } from './queue-base.ts';
import { QueueClosedError } from './space-gate.ts';

const scratchpad = fx.scratch();
afterEach(() => scratchpad.cleanup());

type Factory = (options: { sinks: string[]; maxBytes?: number }) => Promise<Queue>;

// The behaviour every queue shares; the disk queue's own (segments, restarts, corruption) is tested beside it.
const factories: [string, Factory][] = [
  ['memory', async (options) => new MemoryQueue(options)],
  [
    'disk',
    async (options) =>
      openDiskQueue({ dir: await scratchpad.dir(), segmentBytes: 200, cursorFlushMs: 0, ...options }),
  ],
];

describe.each(factories)('%s queue', (_name, factory) => {
  async function open(sinks = ['a', 'b'], maxBytes?: number): Promise<Queue> {
    return scratchpad.keep(await factory({ sinks, maxBytes }));
  }

  it('delivers appended records in order, and a waiting read wakes on append', async () => {
    const queue = await open(['a']);
    const reader = queue.reader('a');
    const waiting = reader.read(1 << 20);
    expect(await fx.settledWithin(waiting, 30)).toBe('pending');
    await queue.append(fx.payloads('r', 3));
    const first = (await waiting).map((r) => ({ ...r, payload: Buffer.from(r.payload) }));
    await queue.append(fx.payloads('r', 20, 3));
    const all = [...first, ...(await fx.readCount(reader, 23 - first.length))];
    expect(fx.texts(all)).toEqual(fx.labels('r', 23));
    // The next record starts where the previous ended, or at the start of a later segment.
    for (let i = 1; i < all.length; i++) {
      expect(comparePositions(all[i]!.position, all[i - 1]!.next)).toBeGreaterThanOrEqual(0);
      expect(comparePositions(all[i]!.position, all[i - 1]!.position)).toBeGreaterThan(0);
    }
  });

  it('keeps no reference to appended payloads: the appender may reuse their memory', async () => {
    const queue = await open(['a']);
    const payload = Buffer.from('first');
    await queue.append([payload]);
    payload.write('XXXXX');
    expect(fx.texts(await fx.readCount(queue.reader('a'), 1))).toEqual(['first']);
  });

  it('gives each sink its own cursor and forgets a record only when all acknowledged it', async () => {
    const queue = await open(['a', 'b']);
    await queue.append(fx.payloads('r', 10));
    const a = await fx.readCount(queue.reader('a'), 10);
    await queue.reader('a').ack(a.at(-1)!);
    // b has read nothing: everything is still held for it.
    expect(queue.stats().bytes).toBeGreaterThanOrEqual(20);
    expect(queue.stats().oldestUnackedAt).toBe(a[0]!.appendedAt);
    const b = await fx.readCount(queue.reader('b'), 10);
    expect(fx.texts(b)).toEqual(fx.texts(a));
    await queue.reader('b').ack(b[4]!);
    expect(fx.texts(await fx.readAvailable(queue.reader('a')))).toEqual([]);
    await queue.reader('b').ack(b[9]!);
    expect(queue.stats().bytes).toBe(0);
    expect(queue.stats().oldestUnackedAt).toBeUndefined();
  });

  it('returns at least one record however small maxBytes is, and batches up to about maxBytes', async () => {
    const queue = await open(['a']);
    await queue.append([Buffer.alloc(100, 1), ...fx.payloads('s', 10)]);
    const reader = queue.reader('a');
    expect((await reader.read(1)).length).toBe(1);
    const rest = await reader.read(1 << 20);
    expect(fx.texts(rest)).toEqual(fx.labels('s', 10));
  });

  it('rewinds to the acknowledged cursor and ignores stale or repeated acks', async () => {
    const queue = await open(['a']);
    await queue.append(fx.payloads('r', 6));
    const reader = queue.reader('a');
    const read = await fx.readCount(reader, 6);
    await reader.ack(read[2]!);
    await reader.ack(read[1]!);
    reader.rewind();
    expect(fx.texts(await fx.readCount(reader, 3))).toEqual(['r3', 'r4', 'r5']);
  });

  it('refuses an ack for a record the sink has not read', async () => {
    const queue = await open(['a', 'b']);
    await queue.append(fx.payloads('r', 3));
    const seenByB = await fx.readCount(queue.reader('b'), 3);
    await expect(queue.reader('a').ack(seenByB[2]!)).rejects.toThrow(/not read/);
  });

  it('makes appends wait while full, resumes them on ack, and counts the wait', async () => {
    const queue = await open(['a'], 60);
    await queue.append([Buffer.alloc(70)]);
    const blocked = queue.append([Buffer.from('later')]);
    expect(await fx.settledWithin(blocked, 80)).toBe('pending');
    const [first] = await queue.reader('a').read(1 << 20);
    await queue.reader('a').ack(first!);
    await blocked;
    expect(queue.stats().backpressureSeconds).toBeGreaterThanOrEqual(0.07);
    expect(fx.texts(await queue.reader('a').read(1 << 20))).toEqual(['later']);
  });

  it('keeps append order while appenders wait, and lets a waiting append be aborted', async () => {
    const queue = await open(['a'], 60);
    await queue.append([Buffer.alloc(70)]);
    const abort = new AbortController();
    const aborted = queue.append([Buffer.from('never')], abort.signal);
    const second = queue.append([Buffer.from('second')]);
    const third = queue.append([Buffer.from('third')]);
    abort.abort(new Error('gave up'));
    await expect(aborted).rejects.toThrow('gave up');
    const reader = queue.reader('a');
    const [big] = await reader.read(1 << 20);
    await reader.ack(big!);
    await Promise.all([second, third]);
    expect(fx.texts(await fx.readCount(reader, 2))).toEqual(['second', 'third']);
  });

  it('rejects a waiting read when its signal aborts, and reads again afterwards', async () => {
    const queue = await open(['a']);
    const abort = new AbortController();
    const reading = queue.reader('a').read(100, abort.signal);
    abort.abort(new Error('stop'));
    await expect(reading).rejects.toThrow('stop');
    await queue.append(fx.payloads('r', 1));
    expect(fx.texts(await queue.reader('a').read(100))).toEqual(['r0']);
  });

  it('on close, rejects waiting reads and appends with QueueClosedError', async () => {
    const queue = await open(['a'], 10);
    const reading = queue.reader('a').read(100);
    await queue.append([Buffer.alloc(20)]);
    await reading;
    const blocked = expect(queue.append([Buffer.from('x')])).rejects.toBeInstanceOf(QueueClosedError);
    const waitingRead = expect(queue.reader('a').read(100)).rejects.toBeInstanceOf(QueueClosedError);
    await queue.close();
    await blocked;
    await waitingRead;
    await expect(queue.append([Buffer.from('y')])).rejects.toBeInstanceOf(QueueClosedError);
  });

  it('rejects unknown sinks and bad sink lists', async () => {
    const queue = await open(['a']);
    expect(() => queue.reader('zzz')).toThrow(/not one of/);
    await expect(factory({ sinks: [] })).rejects.toThrow(/at least one sink/);
    await expect(factory({ sinks: ['../x'] })).rejects.toThrow(/sink name/);
    await expect(factory({ sinks: ['a', 'a'] })).rejects.toThrow(/twice/);
  });
});
