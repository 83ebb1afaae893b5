import { appendFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/log.ts';
import type { ReportedResult } from '../probes/agent-protocol.ts';
import { ResultsBuffer } from './results-buffer.ts';

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'results-buffer-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const open = (maxBytes = 1024 * 1024) =>
  ResultsBuffer.open({ dir, maxBytes, fsyncIntervalMs: 10, log: silent, now: () => 0 });

const result = (seq: number, failure = 'status 503'): ReportedResult => ({
  seq,
  probe: 'shop',
  target: 'https://shop.example/',
  module: 'http_2xx',
  startedAtMs: seq * 1000,
  durationMs: 12,
  success: false,
  failure,
  samples: [],
});

const seqs = (results: ReportedResult[]) => results.map((r) => r.seq);

describe('ResultsBuffer', () => {
  it('numbers results from 1, hands out the oldest first, and forgets what was acknowledged', async () => {
    const buffer = await open();
    for (let i = 0; i < 5; i++) buffer.append((seq) => result(seq));
    expect(seqs(buffer.peek(3))).toEqual([1, 2, 3]);
    await buffer.ack(3);
    expect(seqs(buffer.peek(10))).toEqual([4, 5]);
    expect(buffer.pending).toBe(2);
    // Less than what was handed out acknowledged: the rest comes again.
    await buffer.ack(4);
    expect(seqs(buffer.peek(10))).toEqual([5]);
    await buffer.ack(5);
    expect(buffer.peek(10)).toEqual([]);
    expect(buffer.pending).toBe(0);
    buffer.close();
  });

  it('keeps its agent id and numbers over a restart, and what was not acknowledged', async () => {
    const first = await open();
    for (let i = 0; i < 4; i++) first.append((seq) => result(seq));
    await first.ack(2);
    first.close();
    const second = await open();
    expect(second.agent).toBe(first.agent);
    expect(seqs(second.peek(10))).toEqual([3, 4]);
    second.append((seq) => result(seq));
    expect(seqs(second.peek(10))).toEqual([3, 4, 5]);
    await second.ack(5);
    second.close();
    // Everything acknowledged and its files gone: numbering still goes on from the cursor.
    const third = await open();
    third.append((seq) => result(seq));
    expect(seqs(third.peek(10))).toEqual([6]);
    third.close();
  });

  it('cuts a torn last result written by a killed process, keeping the whole ones', async () => {
    const buffer = await open();
    for (let i = 0; i < 3; i++) buffer.append((seq) => result(seq));
    buffer.close();
    const [segment] = (await readdir(dir)).filter((name) => name.endsWith('.seg'));
    await appendFile(join(dir, segment!), Buffer.from([200, 0, 0, 0, 1, 2, 3]));
    const reopened = await open();
    expect(seqs(reopened.peek(10))).toEqual([1, 2, 3]);
    reopened.append((seq) => result(seq));
    expect(seqs(reopened.peek(10))).toEqual([1, 2, 3, 4]);
    reopened.close();
  });

  it('drops the oldest results when full, counting them, and keeps the newest', async () => {
    const buffer = await open(64 * 1024);
    const failure = 'x'.repeat(900);
    for (let i = 0; i < 400; i++) buffer.append((seq) => result(seq, failure));
    expect(buffer.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(buffer.dropped).toBeGreaterThan(0);
    expect(buffer.pending + buffer.dropped).toBe(400);
    const kept = seqs(buffer.peek(1000));
    expect(kept.at(-1)).toBe(400);
    expect(kept[0]).toBe(buffer.dropped + 1);
    buffer.close();
  });

  it('starts as a new agent when its cursor cannot be read', async () => {
    const first = await open();
    first.close();
    await writeFile(join(dir, 'cursor.json'), '{not json');
    const second = await open();
    expect(second.agent).not.toBe(first.agent);
    second.close();
  });
});
