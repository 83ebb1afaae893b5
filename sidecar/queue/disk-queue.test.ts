import {
  appendFile,
  type FileHandle,
  open as openFile,
  readdir,
  readFile,
  stat,
  truncate,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FRAME_HEADER } from '../../core/frames.ts';
import { type DiskQueue, type DiskQueueOptions, openDiskQueue } from './disk-queue.ts';
import {
  labels,
  payloads,
  readAvailable,
  readCount,
  scratch,
  settledWithin,
  texts,
} from './fixtures/helpers.ts';
import type { QueueRecord } from './queue.ts';

const scratchpad = scratch();
afterEach(() => scratchpad.cleanup());

async function open(dir: string, options: Partial<DiskQueueOptions> = {}): Promise<DiskQueue> {
  return scratchpad.keep(
    await openDiskQueue({ dir, sinks: ['a', 'b'], segmentBytes: 100, cursorFlushMs: 0, ...options }),
  );
}

async function reopen(
  queue: DiskQueue,
  dir: string,
  options: Partial<DiskQueueOptions> = {},
): Promise<DiskQueue> {
  await queue.close();
  return open(dir, options);
}

async function segmentNumbers(dir: string): Promise<number[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.seg')).map((f) => Number(f.slice(0, -4)));
}

function segmentPath(dir: string, record: QueueRecord): string {
  return join(dir, `${String(record.position.segment).padStart(20, '0')}.seg`);
}

/** Flips one byte of a file in place. */
async function flipByte(file: string, offset: number): Promise<void> {
  const data = await readFile(file);
  data[offset] = data[offset]! ^ 0xff;
  await writeFile(file, data);
}

describe('disk queue', () => {
  it('reads and acknowledges across many segments, deleting one only when every sink is past it', async () => {
    const dir = await scratchpad.dir();
    const queue = await open(dir);
    for (let i = 0; i < 50; i++) await queue.append(payloads('r', 2, i * 2));
    const all = await segmentNumbers(dir);
    expect(all.length).toBeGreaterThan(10);

    // Small reads cross every segment boundary.
    const a = await readCount(queue.reader('a'), 100, 64);
    expect(texts(a)).toEqual(labels('r', 100));
    await queue.reader('a').ack(a.at(-1)!);
    expect(await segmentNumbers(dir)).toEqual(all);

    const b = await readCount(queue.reader('b'), 100);
    await queue.reader('b').ack(b[49]!);
    expect((await segmentNumbers(dir))[0]).toBe(b[50]!.position.segment);

    await queue.reader('b').ack(b.at(-1)!);
    expect(await segmentNumbers(dir)).toEqual([all.at(-1)]);
    expect(queue.stats()).toMatchObject({ bytes: 0, oldestUnackedAt: undefined, segments: 1 });
  });

  it('serves readers while a writer appends and rolls segments concurrently', async () => {
    const dir = await scratchpad.dir();
    const queue = await open(dir, { segmentBytes: 150, cursorFlushMs: 20 });
    const consume = async (sink: string) => {
      const reader = queue.reader(sink);
      const got: string[] = [];
      while (got.length < 200) {
        const batch = await reader.read(sink === 'a' ? 50 : 400, AbortSignal.timeout(5_000));
        got.push(...texts(batch));
        await reader.ack(batch.at(-1)!);
      }
      return got;
    };
    const readers = Promise.all([consume('a'), consume('b')]);
    for (let i = 0; i < 40; i++) await queue.append(payloads('r', 5, i * 5));
    const [a, b] = await readers;
    expect(a).toEqual(labels('r', 200));
    expect(b).toEqual(labels('r', 200));
    expect(queue.stats().bytes).toBe(0);
  });

  it('keeps an append larger than a segment whole', async () => {
    const dir = await scratchpad.dir();
    const queue = await open(dir);
    await queue.append([Buffer.alloc(500, 7), Buffer.from('after')]);
    const read = await readCount(queue.reader('a'), 2, 1);
    expect(read[0]!.payload).toEqual(Buffer.alloc(500, 7));
    expect(texts(read.slice(1))).toEqual(['after']);
  });

  it('reads a frame a little over maxBytes whole in one read once its buffer has grown, and reuses that buffer', async () => {
    const dir = await scratchpad.dir();
    const queue = await open(dir, { segmentBytes: 1 << 20 });
    await queue.append([Buffer.alloc(120, 1), Buffer.alloc(120, 2), Buffer.alloc(120, 3)]);
    const reader = queue.reader('a');
    const [first] = await reader.read(100);
    expect(first!.payload).toEqual(Buffer.alloc(120, 1));
    const [second] = await reader.read(100);
    expect(second!.payload).toEqual(Buffer.alloc(120, 2));
    // One buffer per reader: a read's payloads are only good until its next read.
    expect(first!.payload).toEqual(Buffer.alloc(120, 2));
    expect((await reader.read(100)).map((r) => r.payload)).toEqual([Buffer.alloc(120, 3)]);
  });

  it('gives a frame far over maxBytes a buffer of its own', async () => {
    const dir = await scratchpad.dir();
    const queue = await open(dir, { segmentBytes: 1 << 20 });
    await queue.append([Buffer.alloc(1000, 1), Buffer.alloc(50, 2)]);
    const reader = queue.reader('a');
    const [big] = await reader.read(100);
    expect((await reader.read(100)).map((r) => r.payload)).toEqual([Buffer.alloc(50, 2)]);
    expect(big!.payload).toEqual(Buffer.alloc(1000, 1));
  });

  it('keeps cursors across a restart: unacknowledged records come again, acknowledged ones do not', async () => {
    const dir = await scratchpad.dir();
    let queue = await open(dir);
    await queue.append(payloads('r', 30));
    const a = await readCount(queue.reader('a'), 30);
    await queue.reader('a').ack(a[9]!);
    const b = await readCount(queue.reader('b'), 5);
    await queue.reader('b').ack(b[4]!);
    const bytes = queue.stats().bytes;

    queue = await reopen(queue, dir);
    expect(queue.stats().bytes).toBe(bytes);
    expect(texts(await readAvailable(queue.reader('a')))).toEqual(labels('r', 20, 10));
    expect(texts(await readAvailable(queue.reader('b')))).toEqual(labels('r', 25, 5));
    await queue.append(payloads('s', 2));
    expect(texts(await readCount(queue.reader('a'), 2))).toEqual(['s0', 's1']);
  });

  it('coalesces cursor writes within cursorFlushMs, and close writes what is pending', async () => {
    const dir = await scratchpad.dir();
    let queue = await open(dir, { cursorFlushMs: 60 });
    await queue.append(payloads('r', 4));
    const a = await readCount(queue.reader('a'), 4);
    await queue.reader('a').ack(a[0]!);
    const cursorFile = join(dir, 'a.cursor');
    await expect(stat(cursorFile)).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(JSON.parse(await readFile(cursorFile, 'utf8'))).toEqual(a[0]!.next);

    await queue.reader('a').ack(a[2]!);
    queue = await reopen(queue, dir);
    expect(texts(await readAvailable(queue.reader('a')))).toEqual(['r3']);
  });

  it('only shows readers what is durable, and fsyncs once per append under `always`', async () => {
    const dir = await scratchpad.dir();
    const queue = await open(dir, { fsync: 'always' });
    for (let i = 0; i < 5; i++) await queue.append(payloads('r', 3, i * 3));
    expect(queue.stats().fsyncs).toBe(5);
  });

  it('with an fsync interval, holds appends (and readers) until the timer fsyncs, sharing one fsync', async () => {
    const dir = await scratchpad.dir();
    const queue = await open(dir, { fsync: { intervalMs: 120 }, segmentBytes: 1 << 20 });
    const started = performance.now();
    const appends = Promise.all(Array.from({ length: 20 }, (_, i) => queue.append(payloads('r', 1, i))));
    const read = queue.reader('a').read(1 << 20);
    expect(await settledWithin(read, 60)).toBe('pending');
    await appends;
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    expect(queue.stats().fsyncs).toBe(1);
    expect(texts(await read)).toEqual(labels('r', 20));
  });

  type Damage = (file: string, last: QueueRecord) => Promise<void>;
  it.each<[string, Damage, number]>([
    ['a header cut short', (file, last) => truncate(file, last.position.offset + 7), 4],
    ['a payload cut short', (file, last) => truncate(file, last.position.offset + FRAME_HEADER + 1), 4],
    ['a checksum mismatch', (file, last) => flipByte(file, last.position.offset + FRAME_HEADER), 4],
    ['garbage after the last frame', (file) => appendFile(file, Buffer.alloc(40, 0xab)), 5],
  ])('truncates a torn tail (%s) once, counting it, and appends fine after', async (_name, damage, kept) => {
    const dir = await scratchpad.dir();
    let queue = await open(dir, { segmentBytes: 1 << 20 });
    await queue.append(payloads('record-', 5));
    const records = await readCount(queue.reader('a'), 5);
    const file = segmentPath(dir, records[0]!);
    await queue.close();
    await damage(file, records[4]!);

    queue = await open(dir, { segmentBytes: 1 << 20 });
    expect(queue.stats().tornRecords).toBe(1);
    expect((await stat(file)).size).toBe(records[kept - 1]!.next.offset);
    await queue.append([Buffer.from('after')]);
    const expected = [...labels('record-', kept), 'after'];
    expect(texts(await readAvailable(queue.reader('a')))).toEqual(expected);

    queue = await reopen(queue, dir, { segmentBytes: 1 << 20 });
    expect(queue.stats().tornRecords).toBe(0);
    expect(texts(await readAvailable(queue.reader('b')))).toEqual(expected);
  });

  it.each([
    ['a checksum mismatch', (offset: number) => offset + FRAME_HEADER],
    ['a garbled length', (offset: number) => offset + 3],
  ])('skips the rest of an older segment after a corrupt frame (%s), once', async (_name, where) => {
    const dir = await scratchpad.dir();
    let queue = await open(dir);
    for (let i = 0; i < 15; i++) await queue.append(payloads('r', 1, i));
    const records = await readCount(queue.reader('a'), 15);
    const first = records[0]!.position.segment;
    const inFirst = records.filter((r) => r.position.segment === first);
    expect(inFirst.length).toBeGreaterThanOrEqual(3);
    await queue.close();
    await flipByte(segmentPath(dir, records[0]!), where(inFirst[1]!.position.offset));

    queue = await open(dir);
    const expected = ['r0', ...labels('r', 15 - inFirst.length, inFirst.length)];
    const a = await readAvailable(queue.reader('a'));
    expect(texts(a)).toEqual(expected);
    expect(texts(await readAvailable(queue.reader('b')))).toEqual(expected);
    expect(queue.stats().tornRecords).toBe(1);

    await queue.reader('a').ack(a.at(-1)!);
    await queue.reader('b').ack(a.at(-1)!);
    expect(await segmentNumbers(dir)).toEqual([a.at(-1)!.position.segment]);
  });

  it('when the segment being written turns out corrupt, skips its rest and moves appends to a new one', async () => {
    const dir = await scratchpad.dir();
    const queue = await open(dir, { sinks: ['a'], segmentBytes: 1 << 20 });
    await queue.append(payloads('r', 3));
    const file = join(dir, '00000000000000000001.seg');
    const second = FRAME_HEADER + 'r0'.length;
    await flipByte(file, second + FRAME_HEADER);
    expect(texts(await readAvailable(queue.reader('a')))).toEqual(['r0']);
    expect(queue.stats().tornRecords).toBe(1);
    await queue.append([Buffer.from('after')]);
    expect(texts(await readAvailable(queue.reader('a')))).toEqual(['after']);
    expect(await segmentNumbers(dir)).toEqual([1, 2]);
  });

  it('at open, drops cursors of sinks no longer configured and never lets a bad cursor skip records', async () => {
    const dir = await scratchpad.dir();
    let queue = await openDiskQueue({ dir, sinks: ['a', 'old'], segmentBytes: 100, cursorFlushMs: 0 });
    await queue.append(payloads('r', 10));
    await queue.reader('old').ack((await readCount(queue.reader('old'), 1))[0]!);
    await queue.close();
    await writeFile(join(dir, 'garbled.cursor'), '{"segm');
    await writeFile(join(dir, 'ahead.cursor'), JSON.stringify({ segment: 99, offset: 5 }));
    await writeFile(join(dir, 'a.cursor.tmp'), 'half a curs');

    queue = await open(dir, { sinks: ['a', 'garbled', 'ahead'] });
    const files = await readdir(dir);
    expect(files).not.toContain('old.cursor');
    expect(files).not.toContain('a.cursor.tmp');
    expect(texts(await readAvailable(queue.reader('garbled')))).toEqual(labels('r', 10));
    expect(await readAvailable(queue.reader('ahead'))).toEqual([]);
    await queue.append([Buffer.from('new')]);
    expect(texts(await readAvailable(queue.reader('ahead')))).toEqual(['new']);
  });

  it('reports the oldest unacknowledged record, across a restart', async () => {
    const dir = await scratchpad.dir();
    let queue = await open(dir, { sinks: ['a'] });
    expect(queue.stats().oldestUnackedAt).toBeUndefined();
    await queue.append(payloads('r', 1));
    await new Promise((resolve) => setTimeout(resolve, 15));
    await queue.append(payloads('r', 1, 1));
    const [first, second] = await readCount(queue.reader('a'), 2);
    expect(second!.appendedAt).toBeGreaterThan(first!.appendedAt);
    expect(queue.stats().oldestUnackedAt).toBe(first!.appendedAt);

    queue = await reopen(queue, dir, { sinks: ['a'] });
    expect(queue.stats().oldestUnackedAt).toBe(first!.appendedAt);
    const again = await readCount(queue.reader('a'), 2);
    await queue.reader('a').ack(again[0]!);
    expect(queue.stats().oldestUnackedAt).toBe(second!.appendedAt);
  });

  it('starts a fresh directory, and numbers a new segment past any cursor left behind', async () => {
    const dir = join(await scratchpad.dir(), 'nested', 'queue');
    let queue = await open(dir, { sinks: ['a'] });
    await queue.append(payloads('r', 1));
    await queue.close();
    for (const n of await segmentNumbers(dir)) await unlink(join(dir, `${String(n).padStart(20, '0')}.seg`));
    await writeFile(join(dir, 'a.cursor'), JSON.stringify({ segment: 7, offset: 40 }));

    queue = await open(dir, { sinks: ['a'] });
    expect(await segmentNumbers(dir)).toEqual([8]);
    await queue.append([Buffer.from('kept')]);
    expect(texts(await readAvailable(queue.reader('a')))).toEqual(['kept']);
  });
});

describe('disk queue on a failing disk', () => {
  /** FileHandle's prototype, to make its methods fail on demand. */
  async function fileHandles(dir: string): Promise<FileHandle> {
    const handle = await openFile(join(dir, 'probe'), 'w');
    await handle.close();
    return Object.getPrototypeOf(handle) as FileHandle;
  }

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('fails an append whose write failed, and cuts off the partial frame it left', async () => {
    const dir = await scratchpad.dir();
    let queue = await open(dir, { sinks: ['a'] });
    await queue.append(payloads('r', 1));
    const handles = await fileHandles(dir);
    const realWrite = handles.write as (this: FileHandle, ...args: unknown[]) => Promise<unknown>;
    vi.spyOn(handles, 'writev').mockImplementationOnce(async function (this: FileHandle, ...args: unknown[]) {
      const [buffers, position] = args as [Buffer[], number];
      // Part of the frame reaches the file, then the disk is full.
      await realWrite.call(this, buffers[0], 0, 9, position);
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    } as never);
    await expect(queue.append(payloads('lost', 1))).rejects.toThrow('no space');

    queue = await reopen(queue, dir, { sinks: ['a'] });
    expect(queue.stats().tornRecords).toBe(0);
    await queue.append(payloads('r', 1, 1));
    expect(texts(await readAvailable(queue.reader('a')))).toEqual(['r0', 'r1']);
  });

  it('after a failed fsync, fails the appends it covered and every later one, and shows readers none of them', async () => {
    const dir = await scratchpad.dir();
    const queue = await open(dir, { sinks: ['a'] });
    await queue.append(payloads('r', 1));
    const eio = Object.assign(new Error('input/output error'), { code: 'EIO' });
    vi.spyOn(await fileHandles(dir), 'datasync').mockRejectedValueOnce(eio);
    await expect(queue.append(payloads('unsure', 1))).rejects.toThrow('input/output');
    await expect(queue.append(payloads('later', 1))).rejects.toThrow('input/output');
    expect(texts(await readAvailable(queue.reader('a')))).toEqual(['r0']);
  });
});
