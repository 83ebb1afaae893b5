import {
  appendFile,
  mkdir,
  mkdtemp,
  rename,
  rm,
  symlink,
  truncate,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/fixtures/manual-clock.ts';
import { createLogger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import { decodePayload, PayloadWriter, plainEntry } from '../record.ts';
import type { RawLine } from '../types.ts';
import { type FileCheckpoint, type LineProcessor, Tailer, type TailerOptions } from './tailer.ts';

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

/** Records every line it is given, with the file generation it came from. */
function recordingPipeline(sink: RawLine[], tag: { generation: number }): LineProcessor {
  return {
    push(line) {
      sink.push(line);
      return [
        plainEntry({ id: '', time: line.readAt, json: `${tag.generation}:${line.offset}:${line.text}` }),
      ];
    },
    flush: () => [],
    pendingOffset: () => undefined,
    payload: (start, fullBytes) => new PayloadWriter('{}', start, fullBytes),
  };
}

interface Harness {
  dir: string;
  lines: RawLine[];
  appended: string[];
  checkpoints: Map<string, FileCheckpoint>;
  tailer: Tailer;
  texts(): string[];
}

const running: Tailer[] = [];
afterEach(async () => {
  for (const t of running.splice(0)) await t.stop();
});

async function harness(
  options: Partial<Omit<TailerOptions, 'checkpoints'>> & {
    dir?: string;
    checkpoints?: Map<string, FileCheckpoint>;
    /** Called when the tailer saves its checkpoints. */
    onFlush?: () => void;
  } = {},
): Promise<Harness> {
  const { dir: given, checkpoints: saved, onFlush, ...overrides } = options;
  const dir = given ?? (await mkdtemp(join(tmpdir(), 'lookout-tail-')));
  const lines: RawLine[] = [];
  const appended: string[] = [];
  const checkpoints = saved ?? new Map<string, FileCheckpoint>();
  const tailer = new Tailer({
    inputs: [{ paths: [join(dir, '*.log')], exclude: ['*.gz'], readFrom: 'beginning' }],
    append: async (payloads) => {
      for (const p of payloads) appended.push(...decodePayload(p).entries.map((e) => e.doc.toString()));
    },
    checkpoints: {
      get: (k) => checkpoints.get(k),
      set: (k, v) => void checkpoints.set(k, v),
      delete: (k) => void checkpoints.delete(k),
      keys: () => checkpoints.keys(),
      flush: async () => onFlush?.(),
    },
    pipelineFor: ({ identity }) => recordingPipeline(lines, identity),
    log: silent,
    metrics: new Metrics({ defaults: false }),
    maxLineBytes: 64,
    chunkBytes: 32,
    batchBytes: 1024,
    scanIntervalMs: 50,
    partialLineTimeoutMs: 200,
    releaseAfterMs: 150,
    restartBackoff: { initialMs: 20, maxMs: 100 },
    ...overrides,
  });
  tailer.start();
  running.push(tailer);
  return {
    dir,
    lines,
    appended,
    checkpoints,
    tailer,
    texts: () => appended.map((a) => a.split(':').slice(2).join(':')),
  };
}

async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const numbered = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}\n`).join('');

describe('tailer', () => {
  it('reads existing and new files, across chunk boundaries, with byte offsets', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lookout-tail-'));
    await writeFile(join(dir, 'a.log'), 'first\nsecond line that spans chunks\n');
    await writeFile(join(dir, 'skip.gz'), 'nope\n');
    const h = await harness({ dir });
    await until(() => h.lines.length === 2, 'two lines');
    expect(h.lines.map((l) => [l.offset, l.end, l.text])).toEqual([
      [0, 6, 'first'],
      [6, 36, 'second line that spans chunks'],
    ]);
    await writeFile(join(dir, 'b.log'), 'from b\n');
    await appendFile(join(dir, 'a.log'), 'third\n');
    await until(() => h.lines.length === 4, 'new file and appended line');
    expect(h.texts().sort()).toEqual(['first', 'from b', 'second line that spans chunks', 'third']);
  });

  it('follows rename-and-create rotation, reading the old file to its end first', async () => {
    const h = await harness();
    const path = join(h.dir, 'app.log');
    await writeFile(path, numbered(1, 50));
    await until(() => h.lines.length === 50, 'first 50');
    await rename(path, join(h.dir, 'app.log.1'));
    // The application still has the old file open for a moment after the rename.
    await appendFile(join(h.dir, 'app.log.1'), numbered(51, 60));
    await writeFile(path, numbered(61, 100));
    await until(() => h.lines.length === 100, 'all 100');
    expect(h.texts()).toEqual(expect.arrayContaining(numbered(1, 100).trim().split('\n')));
    expect(new Set(h.texts()).size).toBe(100);
  });

  it('detects copytruncate and reads the file again from 0 under a new generation', async () => {
    const h = await harness();
    const path = join(h.dir, 'app.log');
    await writeFile(path, numbered(1, 20));
    await until(() => h.lines.length === 20, 'first 20');
    await truncate(path, 0);
    await appendFile(path, numbered(21, 25));
    await until(() => h.lines.length === 25, 'after truncation');
    expect(h.appended.at(-1)).toBe('1:32:line 25');
    expect(h.appended[20]).toBe('1:0:line 21');
  });

  it('notices a truncated file rewritten past the old position between scans', async () => {
    const h = await harness({ scanIntervalMs: 300 });
    const path = join(h.dir, 'app.log');
    await writeFile(path, 'a\n');
    await until(() => h.lines.length === 1, 'first line');
    await writeFile(path, numbered(1, 10));
    await until(() => h.lines.length === 11, 'rewritten content');
    expect(h.texts().slice(1)).toEqual(numbered(1, 10).trim().split('\n'));
  });

  it('follows symlinks and a symlink swapped to a new target', async () => {
    const h = await harness();
    const real = join(h.dir, 'real');
    await mkdir(real);
    await writeFile(join(real, 'c1'), 'one\n');
    await symlink(join(real, 'c1'), join(h.dir, 'pod.log'));
    await until(() => h.lines.length === 1, 'through the link');
    await writeFile(join(real, 'c2'), 'two\n');
    await symlink(join(real, 'c2'), join(h.dir, 'tmp.link'));
    await rename(join(h.dir, 'tmp.link'), join(h.dir, 'pod.log'));
    await until(() => h.lines.length === 2, 'after the swap');
    expect(h.texts()).toEqual(['one', 'two']);
  });

  it('reads a deleted file that is still being written to its end', async () => {
    const h = await harness();
    const path = join(h.dir, 'gone.log');
    await writeFile(path, numbered(1, 3));
    await until(() => h.lines.length === 3, 'first lines');
    const { open } = await import('node:fs/promises');
    const writer = await open(path, 'a');
    await unlink(path);
    await writer.write(numbered(4, 6));
    await writer.close();
    await until(() => h.lines.length === 6, 'lines written after delete');
  });

  it('cuts long lines on a character boundary and flags them, and keeps reading', async () => {
    const h = await harness();
    const long = `${'é'.repeat(100)}\n`; // 200 bytes of two-byte characters
    await writeFile(join(h.dir, 'long.log'), `${long}after\n${'x'.repeat(10_000)}\nlast\n`);
    await until(() => h.lines.length === 4, 'four lines');
    expect(h.lines[0]).toMatchObject({ text: 'é'.repeat(32), truncated: true, offset: 0, end: 201 });
    expect(h.lines[1]).toMatchObject({ text: 'after', truncated: false, offset: 201 });
    expect(h.lines[2]).toMatchObject({ text: 'x'.repeat(64), truncated: true });
    expect(h.lines[3]).toMatchObject({ text: 'last', offset: 201 + 6 + 10_001 });
  });

  it('replaces invalid UTF-8 and survives binary garbage', async () => {
    const h = await harness();
    await writeFile(
      join(h.dir, 'bin.log'),
      Buffer.concat([Buffer.from('ok '), Buffer.from([0xff, 0xfe, 0x00, 0xc3]), Buffer.from('\nnext\n')]),
    );
    await until(() => h.lines.length === 2, 'two lines');
    expect(h.lines[0]!.text).toBe('ok \ufffd\ufffd\u0000\ufffd');
    expect(h.lines[1]!.text).toBe('next');
  });

  it('emits a line without a newline after the idle time, and only once', async () => {
    const h = await harness();
    await writeFile(join(h.dir, 'p.log'), 'complete\npartial');
    await until(() => h.lines.length === 2, 'the partial line', 3_000);
    expect(h.lines[1]).toMatchObject({ text: 'partial', offset: 9, end: 16 });
    await appendFile(join(h.dir, 'p.log'), ' rest\n');
    await until(() => h.lines.length === 3, 'the rest');
    expect(h.lines[2]).toMatchObject({ text: ' rest', offset: 16 });
  });

  it('measures the idle time of a line without a newline on the clock it is given', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const h = await harness({ clock });
    await writeFile(join(h.dir, 'p.log'), 'complete\npartial');
    await until(() => h.lines.length === 1, 'the complete line');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(h.lines).toHaveLength(1);
    const deadline = Date.now() + 5_000;
    while (h.lines.length < 2 && Date.now() < deadline) {
      await clock.advance(50);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(h.lines[1]).toMatchObject({ text: 'partial', offset: 9, end: 16 });
  });

  it('resumes from its checkpoint after a restart without repeating or skipping', async () => {
    const checkpoints = new Map<string, FileCheckpoint>();
    const first = await harness({ checkpoints });
    const path = join(first.dir, 'app.log');
    await writeFile(path, numbered(1, 10));
    await until(() => first.lines.length === 10, 'first run');
    await first.tailer.stop();
    await appendFile(path, numbered(11, 15));
    const second = await harness({ dir: first.dir, checkpoints });
    await until(() => second.lines.length === 5, 'second run');
    expect(second.texts()).toEqual(numbered(11, 15).trim().split('\n'));
  });

  it('gives a line read again after a crash the read time it was queued with', async () => {
    const memory = new Map<string, FileCheckpoint>();
    /** The checkpoints on disk: what the last save wrote, until the crash. */
    let disk = new Map<string, FileCheckpoint>();
    let crashed = false;
    const save = () => {
      if (!crashed) disk = structuredClone(memory);
    };
    const first = await harness({
      checkpoints: memory,
      onFlush: save,
      append: async (payloads) => {
        // The crash: right after the lines from 6 on are queued, before their checkpoint is saved.
        if (payloads.some((p) => String(p).includes('line 6'))) crashed = true;
      },
    });
    const path = join(first.dir, 'app.log');
    await writeFile(path, numbered(1, 5));
    await until(() => first.lines.length === 5, 'first lines');
    // Past one read time's step, so the next lines get a new one.
    await new Promise((r) => setTimeout(r, 1_100));
    await appendFile(path, numbered(6, 10));
    await until(() => crashed, 'lines 6 to 10 queued');
    await first.tailer.stop();
    const [saved] = disk.values();
    expect(saved!.offset).toBe(Buffer.byteLength(numbered(1, 5)));

    const second = await harness({ dir: first.dir, checkpoints: structuredClone(disk) });
    await until(() => second.lines.length === 5, 'lines 6 to 10 read again');
    const times = (lines: RawLine[]) => lines.map((l) => [l.offset, l.readAt]);
    expect(times(second.lines)).toEqual(times(first.lines.slice(5)));
    expect(first.lines[5]!.readAt).toBeGreaterThan(first.lines[0]!.readAt);
    // Lines nobody read before get a time of their own.
    await new Promise((r) => setTimeout(r, 1_100));
    await appendFile(path, numbered(11, 11));
    await until(() => second.lines.length === 6, 'a new line');
    expect(second.lines[5]!.readAt).toBeGreaterThan(first.lines[5]!.readAt + 1_000);
  });

  it('finds a file renamed away while it was stopped and reads what was left', async () => {
    const checkpoints = new Map<string, FileCheckpoint>();
    const first = await harness({ checkpoints });
    const path = join(first.dir, 'app.log');
    await writeFile(path, numbered(1, 5));
    await until(() => first.lines.length === 5, 'first run');
    await first.tailer.stop();
    await appendFile(path, numbered(6, 8));
    await rename(path, join(first.dir, 'app.log.1'));
    await writeFile(path, numbered(9, 9));
    const second = await harness({ dir: first.dir, checkpoints });
    await until(() => second.lines.length === 4, 'rest of the old file and the new one');
    expect(second.texts().sort()).toEqual(['line 6', 'line 7', 'line 8', 'line 9']);
  });

  it('starts at the end of existing files when told to, but at 0 for files created later', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lookout-tail-'));
    await writeFile(join(dir, 'old.log'), 'history\n');
    const h = await harness({ dir, inputs: [{ paths: [join(dir, '*.log')], exclude: [], readFrom: 'end' }] });
    await new Promise((r) => setTimeout(r, 200));
    await appendFile(join(dir, 'old.log'), 'fresh\n');
    await writeFile(join(dir, 'new.log'), 'brand new\n');
    await until(() => h.lines.length === 2, 'new lines only');
    expect(h.texts().sort()).toEqual(['brand new', 'fresh']);
    await rm(dir, { recursive: true, force: true });
  });
});

describe('tailer when something fails', () => {
  it('restarts from its checkpoints with backoff, reporting itself down meanwhile', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lookout-tail-'));
    const metrics = new Metrics({ defaults: false });
    const lines: RawLine[] = [];
    let poisoned = true;
    const h = await harness({
      dir,
      metrics,
      pipelineFor: ({ identity }) => {
        const inner = recordingPipeline(lines, identity);
        return {
          ...inner,
          push(line) {
            if (poisoned && line.text === 'poison') throw new RangeError('Maximum call stack size exceeded');
            return inner.push(line);
          },
        };
      },
    });
    await writeFile(
      join(dir, 'app.log'),
      `${numbered(1, 3)}poison
${numbered(4, 5)}`,
    );
    await until(() => !h.tailer.healthy, 'the failure');
    await until(() => lines.filter((l) => l.text === 'line 1').length >= 2, 'a restart reading again');
    let text = await metrics.text();
    expect(text).toContain('lookout_sidecar_tailer_up 0');
    expect(text).toMatch(/lookout_sidecar_tailer_restarts_total [2-9]/);
    expect(h.tailer.healthy).toBe(false);
    poisoned = false;
    await until(() => h.tailer.healthy && lines.at(-1)?.text === 'line 5', 'reading again');
    expect(lines.slice(-6).map((l) => l.text)).toEqual([
      'line 1',
      'line 2',
      'line 3',
      'poison',
      'line 4',
      'line 5',
    ]);
    text = await metrics.text();
    expect(text).toContain('lookout_sidecar_tailer_up 1');
    await appendFile(join(dir, 'app.log'), numbered(6, 6));
    await until(() => lines.at(-1)?.text === 'line 6', 'new lines after the restart');
  });
});

describe('tailer under quick rotations', () => {
  it('reads a symlink target that lived only briefly between two swaps', async () => {
    const h = await harness({ chunkBytes: 64 * 1024, releaseAfterMs: 300 });
    const real = join(h.dir, 'real');
    await mkdir(real);
    const path = join(h.dir, 'app.log');
    await writeFile(path, numbered(1, 10));
    await until(() => h.lines.length === 10, 'first file');
    for (let gen = 1; gen <= 6; gen++) {
      const target = join(real, `c${gen}.log`);
      await writeFile(target, '');
      await symlink(target, join(h.dir, 'next.link'));
      await rename(join(h.dir, 'next.link'), path);
      await appendFile(path, numbered(gen * 100, gen * 100 + 49));
      await new Promise((r) => setTimeout(r, gen * 15));
    }
    await until(() => h.lines.length === 310, 'every line', 5_000).catch((err: Error) => {
      throw new Error(`${err.message}: got ${h.lines.length}`);
    });
  });
});

describe('tailer with inputs added and removed while it runs', () => {
  const input = (dir: string, pattern = '*.log') => ({
    paths: [join(dir, pattern)],
    exclude: [],
    readFrom: 'beginning' as const,
  });

  it('reads an added input, and a removed one to the end of every file, even one never opened, before releasing it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'lookout-tail-'));
    const [a, b, c] = ['a', 'b', 'c'].map((name) => join(root, name));
    for (const dir of [a, b, c]) await mkdir(dir!);
    const released: string[] = [];
    const metrics = new Metrics({ defaults: false });
    const h = await harness({
      dir: root,
      inputs: [],
      metrics,
      gauges: {
        filesOpen: { type: 'gauge', name: 'test_files_open', help: 'files' },
        up: { type: 'gauge', name: 'test_up', help: 'up' },
      },
      onInputReleased: (i) => released.push(i.paths[0]!),
    });
    const inputA = input(a!);
    await writeFile(join(a!, 'one.log'), numbered(1, 5));
    h.tailer.addInput(inputA);
    await until(() => h.lines.length === 5, 'the added input');

    // Removed while it still has lines nobody read, and one more written before it is released.
    await appendFile(join(a!, 'one.log'), numbered(6, 8));
    h.tailer.removeInput(inputA);
    await appendFile(join(a!, 'one.log'), numbered(9, 9));
    await until(() => released.length === 1, 'the removed input released');
    expect(h.texts()).toEqual(numbered(1, 9).trim().split('\n'));
    expect(await metrics.text()).toContain('lookout_test_files_open 0');
    // The files stay where they were, but nothing reads them any more.
    await appendFile(join(a!, 'one.log'), numbered(10, 10));
    await new Promise((r) => setTimeout(r, 300));
    expect(h.lines).toHaveLength(9);

    // Added and removed before any scan: its file is still read once, to its end.
    const inputB = input(b!);
    await writeFile(join(b!, 'two.log'), numbered(11, 12));
    h.tailer.addInput(inputB);
    h.tailer.removeInput(inputB);
    await until(() => released.length === 2, 'the second input released');
    expect(h.texts().slice(9)).toEqual(['line 11', 'line 12']);

    // A file another input still matches is not let go with the removed one.
    const wide = input(c!, '*');
    const narrow = input(c!, '*.log');
    await writeFile(join(c!, 'three.log'), numbered(13, 13));
    h.tailer.addInput(narrow);
    h.tailer.addInput(wide);
    await until(() => h.lines.length === 12, 'the third file');
    h.tailer.removeInput(narrow);
    await until(() => released.length === 3, 'the narrow input released');
    await appendFile(join(c!, 'three.log'), numbered(14, 14));
    await until(() => h.lines.length === 13, 'the file read on through the wide input');
    expect(released).toEqual([inputA.paths[0], inputB.paths[0], narrow.paths[0]]);
    await rm(root, { recursive: true, force: true });
  });

  it('reads no file whose path leads out of the directory its input is confined to', async () => {
    const root = await mkdtemp(join(tmpdir(), 'lookout-tail-'));
    const volume = join(root, 'volume');
    await mkdir(join(volume, 'sub'), { recursive: true });
    await writeFile(join(root, 'secret'), 'not yours\n');
    await symlink(join(root, 'secret'), join(volume, 'leak.log'));
    await symlink(root, join(volume, 'up'));
    await writeFile(join(volume, 'sub', 'kept.log'), 'inside\n');
    await symlink(join(volume, 'sub', 'kept.log'), join(volume, 'link.log'));
    const metrics = new Metrics({ defaults: false });
    const h = await harness({
      dir: root,
      metrics,
      inputs: [
        { ...input(volume), within: volume },
        { paths: [join(volume, 'up', 'secret')], exclude: [], readFrom: 'beginning', within: volume },
      ],
    });
    await until(() => h.lines.length === 1, 'the file inside');
    await new Promise((r) => setTimeout(r, 300));
    expect(h.texts()).toEqual(['inside']);
    expect(await metrics.text()).toContain('lookout_sidecar_file_errors_total{code="EOUTSIDE"} 2');
    await rm(root, { recursive: true, force: true });
  });
});
