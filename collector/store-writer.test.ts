import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../core/record/log-record.ts';
import type { LogStore, WriteOutcome } from './store/store.ts';
import { StoreWriter } from './store-writer.ts';

const record = (id: string): LogRecord => ({ id, time: 0, doc: Buffer.from('{}') });

/** A store that answers each write from a script: per call, an outcome per id. */
function scriptedStore(script: ((id: string) => WriteOutcome)[]) {
  const calls: string[][] = [];
  const store = {
    write: async (records: readonly LogRecord[]) => {
      calls.push(records.map((r) => r.id));
      const answer = script[calls.length - 1]!;
      return records.map((r) => answer(r.id));
    },
  } as unknown as LogStore;
  return { store, calls };
}

describe('StoreWriter', () => {
  it('writes again only what the store was too busy for, and returns what it refused', async () => {
    const busy: WriteOutcome = { result: 'retry', status: 429, reason: 'es_rejected_execution_exception' };
    const { store, calls } = scriptedStore([
      (id) =>
        id === 'b'
          ? busy
          : id === 'c'
            ? { result: 'reject', status: 400, reason: 'mapping' }
            : { result: 'ok' },
      () => busy,
      () => ({ result: 'ok' }),
    ]);
    const retried: number[] = [];
    const writer = new StoreWriter(store, { initialMs: 1, maxMs: 2 }, (n) => retried.push(n));
    const rejected = await writer.writeAll(
      [record('a'), record('b'), record('c')],
      new AbortController().signal,
    );
    expect(calls).toEqual([['a', 'b', 'c'], ['b'], ['b']]);
    expect(retried).toEqual([1, 1]);
    expect(rejected).toEqual([{ record: record('c'), status: 400, reason: 'mapping' }]);
  });

  it('gives up waiting when the caller stops', async () => {
    const { store } = scriptedStore(
      Array.from({ length: 100 }, () => () => ({ result: 'retry', status: 503, reason: 'x' })),
    );
    const writer = new StoreWriter(store, { initialMs: 50, maxMs: 50 }, () => {});
    const stop = new AbortController();
    const writing = writer.writeAll([record('a')], stop.signal);
    setTimeout(() => stop.abort(), 120);
    await expect(writing).rejects.toThrow();
  });
});
