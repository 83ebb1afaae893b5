import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FRAME_HEADER } from '../../core/frames.ts';
import type { Entry } from '../compose.ts';
import { NO_MENTIONS } from '../message.ts';
import { Outbox } from './outbox.ts';

const NOW = Date.UTC(2024, 0, 1);

const entry = (title: string, text = 'details'): Entry => ({
  outgoing: { title, text, mentions: NO_MENTIONS },
  key: `fp-${title}`,
  enqueuedAt: NOW,
  shrunk: false,
});
const titles = (entries: Entry[]) => entries.map((e) => e.outgoing.title);

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lookout-outbox-'));
  file = join(dir, 'ops.outbox');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Opens, lets `write` change the outbox, closes, and opens it again as the next process would. */
function reopenAfter(write: (outbox: Outbox) => void) {
  const first = Outbox.open(file, 'always', NOW);
  write(first.outbox);
  first.outbox.close();
  return Outbox.open(file, 'always', NOW);
}

describe('outbox', () => {
  it('replays what was not removed, in the order it was queued, replaced messages in their place', () => {
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((t) => entry(t));
    const shorter = { ...b!, outgoing: { ...b!.outgoing, text: 'cut' }, shrunk: true };
    const reopened = reopenAfter((outbox) => {
      outbox.add([a!, b!], NOW);
      outbox.add([c!, d!], NOW);
      outbox.replace(b!, shorter, NOW);
      outbox.remove([a!, d!], NOW);
    });
    expect(reopened.entries).toEqual([shorter, c]);
    expect(reopened.tornBytes).toBe(0);
  });

  it('goes on from a replayed outbox: new messages follow, removing a replayed one sticks', () => {
    const first = reopenAfter((outbox) => outbox.add([entry('a'), entry('b')], NOW));
    const [a] = first.entries;
    first.outbox.remove([a!], NOW);
    first.outbox.add([entry('c')], NOW);
    first.outbox.close();
    expect(titles(Outbox.open(file, 'always', NOW).entries)).toEqual(['b', 'c']);
  });

  it('empties the file whenever nothing waits', () => {
    const a = entry('a');
    reopenAfter((outbox) => {
      outbox.add([a], NOW);
      outbox.remove([a], NOW);
    });
    expect(statSync(file).size).toBe(0);
  });

  it('rewrites the file with only what waits once deleted records make up most of it', () => {
    const big = Array.from({ length: 12 }, (_, i) => entry(`m${i}`, 'x'.repeat(100_000)));
    const reopened = reopenAfter((outbox) => {
      outbox.add(big, NOW);
      outbox.remove(big.slice(0, 11), NOW);
    });
    expect(statSync(file).size).toBeLessThan(110_000);
    expect(titles(reopened.entries)).toEqual(['m11']);
  });

  it('cuts a last record torn by a crash, keeping every whole one before it', () => {
    reopenAfter((outbox) => outbox.add([entry('a'), entry('b'), entry('c')], NOW)).outbox.close();
    const size = statSync(file).size;
    truncateSync(file, size - 5);
    const reopened = Outbox.open(file, 'always', NOW);
    expect(titles(reopened.entries)).toEqual(['a', 'b']);
    expect(reopened.tornBytes).toBeGreaterThan(FRAME_HEADER);
    reopened.outbox.add([entry('d')], NOW);
    reopened.outbox.close();
    expect(titles(Outbox.open(file, 'always', NOW).entries)).toEqual(['a', 'b', 'd']);
  });

  it('takes a bad checksum on the last record for a torn write', () => {
    reopenAfter((outbox) => outbox.add([entry('a'), entry('b')], NOW)).outbox.close();
    const bytes = readFileSync(file);
    bytes[bytes.length - 2] = bytes[bytes.length - 2]! ^ 0xff;
    writeFileSync(file, bytes);
    const reopened = Outbox.open(file, 'always', NOW);
    expect(titles(reopened.entries)).toEqual(['a']);
    expect(reopened.corrupt).toBeUndefined();
  });

  it('refuses a file corrupt in the middle: moves it aside untouched and starts empty', () => {
    reopenAfter((outbox) => outbox.add([entry('a'), entry('b'), entry('c')], NOW)).outbox.close();
    const bytes = readFileSync(file);
    const damaged = Buffer.from(bytes);
    damaged[FRAME_HEADER + 3] = damaged[FRAME_HEADER + 3]! ^ 0xff;
    writeFileSync(file, damaged);
    const opened = Outbox.open(file, 'always', NOW);
    expect(opened.entries).toEqual([]);
    expect(opened.corrupt?.error).toBe(
      `the outbox ${file} is corrupt at byte 0: checksum mismatch in a record that is not the last one`,
    );
    expect(opened.corrupt?.movedTo).toBe(`${file}.corrupt-2024-01-01T00-00-00.000Z`);
    expect(readdirSync(dir).sort()).toEqual(['ops.outbox', 'ops.outbox.corrupt-2024-01-01T00-00-00.000Z']);
    expect(readFileSync(opened.corrupt!.movedTo)).toEqual(damaged);
    opened.outbox.add([entry('new')], NOW);
    opened.outbox.close();
    expect(titles(Outbox.open(file, 'always', NOW).entries)).toEqual(['new']);
  });

  it('refuses a damaged length at the end rather than cutting everything after it', () => {
    reopenAfter((outbox) => outbox.add([entry('a'), entry('b')], NOW)).outbox.close();
    const damaged = readFileSync(file);
    damaged.writeUInt32LE(0x7fff_ffff, 0);
    writeFileSync(file, damaged);
    const opened = Outbox.open(file, 'always', NOW);
    expect(opened.corrupt?.error).toBe(
      `the outbox ${file} is corrupt at byte 0: a record claims 2147483647 bytes, more than any record has`,
    );
    expect(readFileSync(opened.corrupt!.movedTo)).toEqual(damaged);
    opened.outbox.close();
  });

  it('with an fsync interval, still has every record in the file when the call returns', () => {
    const opened = Outbox.open(file, { intervalMs: 60_000 }, NOW);
    opened.outbox.add([entry('a')], NOW);
    // Read while the outbox is open, as a process started after a kill -9 would.
    const next = Outbox.open(file, 'always', NOW);
    expect(titles(next.entries)).toEqual(['a']);
    next.outbox.close();
    opened.outbox.close();
  });
});
