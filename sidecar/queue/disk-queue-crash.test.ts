import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FRAME_HEADER } from '../../core/frames.ts';
import { openDiskQueue } from './disk-queue.ts';
import { readAvailable, tempDirs, texts } from './fixtures/helpers.ts';

const WRITER = fileURLToPath(new URL('./fixtures/queue-writer.ts', import.meta.url));
const READ_BYTES = 300;
const SEGMENT_BYTES = 2048;
const ROUNDS = 6;

const dirs = tempDirs();
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await dirs.cleanup();
});

interface Said {
  /** Last confirmed sequence number per `round:writer`. */
  appended: Map<string, number>;
  /** Id of the last record whose ack resolved. */
  lastAcked: string | undefined;
}

/** `round:writer:seq` from a payload (which carries padding after it). */
function idOf(payload: string): string {
  return payload.split(':').slice(0, 3).join(':');
}

/** Runs the writer until it has confirmed some appends, then kills it at a random moment. */
async function runAndKill(dir: string, round: number, fsync: string, cursorFlushMs: number): Promise<Said> {
  const child = spawn(
    process.execPath,
    [WRITER, dir, String(round), fsync, String(cursorFlushMs), String(READ_BYTES), String(SEGMENT_BYTES)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\nA ')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`writer exited early (${code}): ${err}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 200));
  child.kill('SIGKILL');
  await once(child, 'exit');

  const said: Said = { appended: new Map(), lastAcked: undefined };
  // A line cut by the kill has no newline yet: only whole lines count.
  for (const line of out.split('\n').slice(0, -1)) {
    if (line.startsWith('A ')) {
      const id = line.slice(2);
      said.appended.set(id.slice(0, id.lastIndexOf(':')), Number(id.slice(id.lastIndexOf(':') + 1)));
    } else if (line.startsWith('K ')) {
      said.lastAcked = idOf(line.slice(2));
    }
  }
  return said;
}

describe('disk queue under kill -9', () => {
  it('keeps every confirmed append exactly once, and re-delivers acknowledged records only within the window', async () => {
    const dir = await dirs.make();
    const confirmed = new Map<string, number>();
    // Index (in the keeper's full list) of the last record the acker is known to have acknowledged.
    let ackedIndex = -1;

    for (let round = 0; round < ROUNDS; round++) {
      // Even rounds: fsync per append, cursor written before ack resolves. Odd: both coalesced.
      const strict = round % 2 === 0;
      const said = await runAndKill(dir, round, strict ? 'always' : '10', strict ? 0 : 25);
      for (const [key, seq] of said.appended) confirmed.set(key, seq);

      const queue = await openDiskQueue({ dir, sinks: ['acker', 'keeper'], segmentBytes: SEGMENT_BYTES });
      const kept = texts(await readAvailable(queue.reader('keeper')));
      const redelivered = texts(await readAvailable(queue.reader('acker')));
      await queue.close();
      const ids = kept.map(idOf);

      // Each writer's records are there once each, in order, up to at least the last confirmed one.
      const seqs = new Map<string, number[]>();
      for (const id of ids) {
        const key = id.slice(0, id.lastIndexOf(':'));
        seqs.set(key, [...(seqs.get(key) ?? []), Number(id.slice(id.lastIndexOf(':') + 1))]);
      }
      for (const [key, list] of seqs) expect(list, key).toEqual(list.map((_, i) => i));
      for (const [key, last] of confirmed) expect(seqs.get(key)?.length ?? 0, key).toBeGreaterThan(last);

      // The acker resumes somewhere in the same sequence and reads it to the end.
      expect(kept.slice(kept.length - redelivered.length)).toEqual(redelivered);
      const resumedAfter = kept.length - redelivered.length - 1;
      if (said.lastAcked !== undefined) {
        const printed = ids.indexOf(said.lastAcked);
        expect(printed).toBeGreaterThanOrEqual(0);
        // With cursors written before ack resolves, nothing confirmed as acknowledged comes again.
        if (strict) expect(resumedAfter).toBeGreaterThanOrEqual(printed);
        ackedIndex = Math.max(ackedIndex, printed);
      }
      // Never skipped: past what was seen acknowledged, at most the one read whose ack was in flight.
      const inFlight = kept.slice(ackedIndex + 1, resumedAfter + 1);
      const inFlightBytes = inFlight.reduce((n, p) => n + FRAME_HEADER + Buffer.byteLength(p), 0);
      expect(inFlight.length <= 1 || inFlightBytes <= READ_BYTES, `skipped ${inFlight.length}`).toBe(true);
      ackedIndex = Math.max(ackedIndex, resumedAfter);
    }
    expect(confirmed.size).toBeGreaterThan(0);
  });
});
