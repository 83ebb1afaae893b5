import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../../core/log.ts';
import type { LogRecord } from '../../../core/record/log-record.ts';
import { parseTimestamp } from '../../../core/record/log-record.ts';
import { describeLogStoreContract, record } from '../../../test/support/log-store-contract.ts';
import type { SearchQuery } from '../../query/types.ts';
import { DayFile } from './day.ts';
import { plan } from './match.ts';
import { EmbeddedStore } from './store.ts';
import { tokenize } from './tokens.ts';

describeLogStoreContract(
  'embedded',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lookout-embedded-'));
    const store = new EmbeddedStore({ dir });
    await store.open();
    return {
      store,
      refresh: async () => {},
      cleanup: async () => {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  { pagingLines: 50_000 },
);

const T = Date.UTC(2024, 4, 1, 10);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function raw(doc: unknown, id = 'x'): LogRecord {
  return { id, time: T, doc: Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc)) };
}

const everything = (overrides: Partial<SearchQuery> = {}): SearchQuery => ({
  from: 0,
  to: Date.UTC(2100, 0),
  filters: [],
  order: 'asc',
  size: 10_000,
  ...overrides,
});

describe('embedded store', () => {
  let dir: string;
  let store: EmbeddedStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lookout-embedded-'));
    store = new EmbeddedStore({ dir });
    await store.open();
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('counts facet values over the newest 5,000 matching lines, leaving out values too long for a keyword', async () => {
    const line = (i: number, user: string) =>
      raw({ '@timestamp': T + i, message: 'm', event: { id: `f-${i}` }, user }, `f-${i}`);
    const records = Array.from({ length: 5_100 }, (_, i) => line(i, i < 100 ? 'old' : 'new'));
    records.push(line(6_000, 'x'.repeat(1_025)));
    expect((await store.write(records)).every((o) => o.result === 'ok')).toBe(true);
    expect(await store.facet(everything(), 'user', 10)).toEqual({
      values: [{ value: 'new', count: 4_999 }],
      lines: 5_000,
      sampled: true,
    });
  });

  it('keeps what it stored when closed and opened again', async () => {
    await store.write([
      record({ id: 'a', time: T, message: 'before closing', namespace: 'shop' }),
      record({ id: 'b', time: T + DAY, message: 'next day', namespace: 'shop' }),
    ]);
    await store.close();
    expect(await store.ping()).toBe(false);
    await expect(store.search(everything())).rejects.toThrow(/not open/);
    const again = new EmbeddedStore({ dir });
    await again.open();
    await again.open();
    expect(await again.ping()).toBe(true);
    const result = await again.search(everything({ text: { kind: 'word', value: 'closing' } }));
    expect(result.hits.map((h) => h.id)).toEqual(['a']);
    expect((await again.search(everything())).total).toEqual({ value: 2, exact: true });
    await again.close();
  });

  it('looks a line up by id in the days that may hold it, not in every day file', async () => {
    const days = 300;
    for (let d = 0; d < days; d++)
      await store.write([
        record({ id: `d-${d}`, time: T + d * DAY, message: `day ${d}`, namespace: 'shop' }),
      ]);
    await store.close();
    const again = new EmbeddedStore({ dir });
    await again.open();
    const probes = vi.spyOn(DayFile.prototype, 'anchor');
    try {
      expect(await again.context({ id: 'no-such-id', before: 1, after: 1 })).toBeUndefined();
      expect(probes.mock.calls.length).toBeLessThan(days / 10);
      probes.mockClear();
      expect((await again.context({ id: 'd-17', before: 1, after: 1 }))?.anchor.id).toBe('d-17');
      expect(probes.mock.calls.length).toBeLessThan(days / 10);
      // Written after the filters were built: found all the same, in an old day and a new one.
      await again.write([
        record({ id: 'late', time: T + 17 * DAY + 1, message: 'late line', namespace: 'shop' }),
        record({ id: 'new-day', time: T + days * DAY, message: 'new day', namespace: 'shop' }),
      ]);
      expect((await again.context({ id: 'late', before: 1, after: 0 }))?.before.map((h) => h.id)).toEqual([
        'd-17',
      ]);
      expect((await again.context({ id: 'new-day', before: 0, after: 0 }))?.anchor.id).toBe('new-day');
      expect(
        (await again.search(everything({ filters: [{ field: 'event.id', values: ['late'] }] }))).hits,
      ).toHaveLength(1);
    } finally {
      probes.mockRestore();
      await again.close();
    }
  }, 60_000);

  it('reads and extends a day file written before streams had a file id', async () => {
    const line = (n: number, extra: { path?: string; fileId?: string } = {}) =>
      record({ id: `m-${n}`, time: T + n, offset: n, message: `line ${n}`, namespace: 'shop', ...extra });
    await store.write([line(0), line(1)]);
    await store.close();
    // Version 1's streams table, as that version left it.
    const [file] = (await readdir(dir)).filter((name) => name.endsWith('.sqlite'));
    const db = new DatabaseSync(join(dir, file!));
    db.exec(`
      CREATE TABLE streams_v1 (id INTEGER PRIMARY KEY, namespace TEXT NOT NULL, pod TEXT NOT NULL,
        container TEXT NOT NULL, path TEXT NOT NULL, UNIQUE (namespace, pod, container, path)) STRICT;
      INSERT INTO streams_v1 SELECT id, namespace, pod, container, path FROM streams;
      DROP TABLE streams;
      ALTER TABLE streams_v1 RENAME TO streams;
      UPDATE meta SET value = '1' WHERE name = 'schema';`);
    db.close();
    const again = new EmbeddedStore({ dir });
    await again.open();
    try {
      await again.write([
        line(2),
        line(3, { fileId: 'f1' }),
        line(4, { path: '/var/log/app.log.1', fileId: 'f1' }),
      ]);
      const old = await again.context({ id: 'm-1', before: 5, after: 5 });
      expect(old?.before.map((h) => h.id)).toEqual(['m-0']);
      // Without a file id, context is the path's lines, those read later with an id included.
      expect(old?.after.map((h) => h.id)).toEqual(['m-2', 'm-3']);
      const renamed = await again.context({ id: 'm-4', before: 5, after: 5 });
      expect(renamed?.before.map((h) => h.id)).toEqual(['m-3']);
    } finally {
      await again.close();
    }
  });

  it('keeps every acknowledged write when the process is killed', async () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CRASHING_WRITER], {
      env: {
        ...process.env,
        STORE_DIR: dir,
        STORE_MODULE: new URL('./store.ts', import.meta.url).href,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let acked = 0;
    let errors = '';
    child.stderr.on('data', (chunk) => {
      errors += chunk;
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_, signal) => resolve(signal)),
    );
    await new Promise<void>((resolve, reject) => {
      let buffered = '';
      child.stdout.on('data', (chunk) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) acked = Number(line);
        // Past a day boundary, so two day files are being written when the kill comes.
        if (acked >= 1_600) resolve();
      });
      child.on('exit', () => reject(new Error(`the writer exited on its own: ${errors}`)));
    });
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const reopened = new EmbeddedStore({ dir });
    await reopened.open();
    const ids = new Set((await reopened.search(everything())).hits.map((h) => h.id));
    const missing = Array.from({ length: acked }, (_, n) => `k-${n}`).filter((id) => !ids.has(id));
    expect(missing).toEqual([]);
    expect(await reopened.write([record({ id: 'after', time: T, message: 'still writable' })])).toEqual([
      { result: 'ok' },
    ]);
    await reopened.close();
  }, 60_000);

  it('refuses records without a valid event.id or @timestamp, or with another id than the record', async () => {
    const ts = new Date(T).toISOString();
    const outcomes = await store.write([
      raw({ '@timestamp': ts, message: 'no id' }),
      raw({ '@timestamp': ts, message: 'empty id', event: { id: '' } }, ''),
      raw({ message: 'no time', event: { id: 'x' } }),
      raw({ '@timestamp': '2024-02-30T00:00:00Z', message: 'no such day', event: { id: 'x' } }),
      raw({ '@timestamp': '1969-12-31T23:59:59Z', message: 'too early', event: { id: 'x' } }),
      raw({ '@timestamp': ts, message: 'two ids', event: { id: 'y' } }, 'x'),
      raw({ '@timestamp': ts, log: { offset: 'far' }, event: { id: 'x' } }),
      raw('[1, 2]'),
      raw({ '@timestamp': ts, message: 'fine', event: { id: 'x' } }),
    ]);
    expect(outcomes.slice(0, -1).map((o) => o.result)).toEqual(Array(8).fill('reject'));
    for (const outcome of outcomes.slice(0, -1)) {
      expect(outcome).toMatchObject({ status: 400, reason: expect.stringMatching(/\w/) });
    }
    expect(outcomes.at(-1)).toEqual({ result: 'ok' });
  });

  it('reads @timestamp as Elasticsearch does: ISO 8601 with or without zone (UTC), or epoch ms', () => {
    expect(parseTimestamp('2024-05-01T10:00:00.123Z')).toBe(T + 123);
    expect(parseTimestamp('2024-05-01T10:00:00.123456789Z')).toBe(T + 123);
    expect(parseTimestamp('2024-05-01T12:30:00+02:30')).toBe(T);
    expect(parseTimestamp('2024-05-01T05:00:00-0500')).toBe(T);
    expect(parseTimestamp('2024-05-01T10:00:00')).toBe(T);
    expect(parseTimestamp('2024-05-01T10')).toBe(T);
    expect(parseTimestamp('2024-05-01')).toBe(T - 10 * HOUR);
    expect(parseTimestamp(T)).toBe(T);
    expect(parseTimestamp(String(T))).toBe(T);
    for (const bad of ['2024-05-01 10:00:00', 'yesterday', '2024-13-01', '2024-05-01T25:00', '', null, 1.5]) {
      expect(parseTimestamp(bad)).toBeUndefined();
    }
  });

  it('splits words as the standard analyzer does', () => {
    const cases: [string, string[]][] = [
      ["The Quick-Brown fox's", ['the', 'quick', 'brown', "fox's"]],
      [
        'example.com user_id=7 3.14 1,000 foo:bar a.b.',
        ['example.com', 'user_id', '7', '3.14', '1,000', 'foo:bar', 'a.b'],
      ],
      [
        'ERROR: connection refused (code=ECONNREFUSED)',
        ['error', 'connection', 'refused', 'code', 'econnrefused'],
      ],
      [
        'GET http://10.0.0.1:8080/api/v1?x=1 12ms',
        ['get', 'http', '10.0.0.1', '8080', 'api', 'v1', 'x', '1', '12ms'],
      ],
      ['__init__ ___ _x', ['__init__', '_x']],
      ['数据库连接超时', ['数', '据', '库', '连', '接', '超', '时']],
      ['请求超时timeout', ['请', '求', '超', '时', 'timeout']],
      ['ひらがな カタカナ 한국어 Café ÜBER', ['ひ', 'ら', 'が', 'な', 'カタカナ', '한국어', 'café', 'über']],
      ['𠀋𠀋 ext-b', ['𠀋', '𠀋', 'ext', 'b']],
      // Emoji as the standard tokenizer (Lucene's) makes them: each sequence one word.
      [
        '🔥 ok👍 👍🏽 👨\u200d👩\u200d👧 🇨🇳x ©️ © ™ 1️⃣ #️⃣ ☺ ☺️ 🏳️\u200d🌈 a🔥b',
        [
          '🔥',
          'ok',
          '👍',
          '👍🏽',
          '👨\u200d👩\u200d👧',
          '🇨🇳',
          'x',
          '©️',
          '©',
          '™',
          '1️⃣',
          '#️⃣',
          '☺',
          '☺️',
          '🏳️\u200d🌈',
          'a',
          '🔥',
          'b',
        ],
      ],
    ];
    for (const [text, words] of cases) expect(tokenize(text), text).toEqual(words);
    expect(tokenize('x'.repeat(300)).map((w) => w.length)).toEqual([255, 45]);
  });

  it('builds full-text expressions from quoted words only', () => {
    const match = (text: SearchQuery['text'], filters: SearchQuery['filters'] = []) =>
      plan({ ...everything(), text, filters }, () => []).match;
    expect(match({ kind: 'word', value: 'x" OR {keys} : "all' })).toBe(
      '{body} : "x" + "or" + "keys" + "all"',
    );
    expect(match({ kind: 'not', child: { kind: 'phrase', value: 'a* NEAR(b)' } })).toBe(
      '({keys} : "all" NOT ({body} : "a" + "near" + "b"))',
    );
    expect(match({ kind: 'word', value: '!!!' })).toBeUndefined();
    expect(match({ kind: 'not', child: { kind: 'word', value: '!!!' } })).toBe('{keys} : "all"');
    expect(match(undefined, [{ field: 'a"b', values: ['") OR ("'] }])).toMatch(
      /^\{keys\} : "k[0-9a-f]{24}"$/,
    );
    expect(() => match(undefined, [{ field: ' ', values: ['x'] }])).toThrow(/field name/);
  });

  it('writes big batches in slices, and finds lines across days', async () => {
    const lines: LogRecord[] = [];
    for (let i = 0; i < 4_500; i++) {
      lines.push(
        record({ id: `big-${i}`, time: T + i * 60_000, offset: i, message: `line ${i}`, namespace: 'shop' }),
      );
    }
    const outcomes = await store.write(lines);
    expect(outcomes.every((o) => o.result === 'ok')).toBe(true);
    expect((await readdir(dir)).filter((f) => f.endsWith('.sqlite'))).toHaveLength(4);
    const all = await store.search(
      everything({ from: T - DAY, to: T + 4 * DAY, size: 0, histogramIntervalMs: DAY }),
    );
    expect(all.total).toEqual({ value: 4_500, exact: true });
    expect(all.histogram!.filter((b) => b.count > 0).map((b) => b.count)).toEqual([840, 1440, 1440, 780]);
    // A filter on offsets is checked line by line, in steps.
    const offset = await store.search(
      everything({ filters: [{ field: 'log.offset', values: ['4000', '17'] }] }),
    );
    expect(offset.hits.map((h) => h.id)).toEqual(['big-17', 'big-4000']);
    const desc = await store.search(
      everything({ order: 'desc', size: 3, text: { kind: 'word', value: 'line' } }),
    );
    expect(desc.hits.map((h) => h.id)).toEqual(['big-4499', 'big-4498', 'big-4497']);
  });

  it('gives context across midnight', async () => {
    const midnight = Date.UTC(2024, 4, 2);
    const stream = { namespace: 'shop', pod: 'web-1', path: '/var/log/app.log' };
    await store.write([
      record({ ...stream, id: 'm1', time: midnight - 2, offset: 10, message: 'one' }),
      record({ ...stream, id: 'm2', time: midnight - 1, offset: 20, message: 'two' }),
      record({ ...stream, id: 'm3', time: midnight, offset: 30, message: 'three' }),
      record({ ...stream, id: 'm4', time: midnight + 1, offset: 40, message: 'four' }),
      record({ ...stream, pod: 'web-2', id: 'other', time: midnight - 1, offset: 25, message: 'other pod' }),
    ]);
    const context = await store.context({ id: 'm3', before: 5, after: 5 });
    expect(context?.before.map((h) => h.id)).toEqual(['m1', 'm2']);
    expect(context?.after.map((h) => h.id)).toEqual(['m4']);
    const fromYesterday = await store.context({ id: 'm1', before: 5, after: 2 });
    expect(fromYesterday?.after.map((h) => h.id)).toEqual(['m2', 'm3']);
  });

  it('deletes the files of old days', async () => {
    await store.write([
      record({ id: 'old', time: T - 2 * DAY, message: 'old' }),
      record({ id: 'new', time: T, message: 'new' }),
    ]);
    expect(await store.deleteBefore(T)).toEqual(['2024-04-29']);
    expect((await readdir(dir)).filter((f) => f.startsWith('2024-04-29'))).toEqual([]);
    expect((await store.search(everything())).hits.map((h) => h.id)).toEqual(['new']);
  });

  it('says once, as an error, when it has outgrown one machine', async () => {
    const errors: string[] = [];
    const log = { error: (_: unknown, message: string) => errors.push(message), info() {}, warn() {} };
    const small = new EmbeddedStore({
      dir: join(dir, 'small'),
      log: log as unknown as Logger,
      warnAtBytes: 1,
    });
    await small.open();
    await small.write([record({ id: 'a', time: T, message: 'first' })]);
    await small.close();
    await small.open();
    await small.write([record({ id: 'b', time: T, message: 'second' })]);
    await small.close();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/more than the 0\.0 GiB it is made for.*Elasticsearch/);
  });
});

/** Writes numbered lines, 50 a batch across days, and prints the count after each acknowledged batch. */
const CRASHING_WRITER = `
const { EmbeddedStore } = await import(process.env.STORE_MODULE);
const store = new EmbeddedStore({ dir: process.env.STORE_DIR });
await store.open();
for (let n = 0; ; ) {
  const records = [];
  for (let i = 0; i < 50; i++, n++) {
    const time = ${T} + n * 60000;
    const doc = { '@timestamp': new Date(time).toISOString(), message: 'line ' + n, event: { id: 'k-' + n } };
    records.push({ id: 'k-' + n, time, doc: Buffer.from(JSON.stringify(doc)) });
  }
  const outcomes = await store.write(records);
  if (outcomes.some((o) => o.result !== 'ok')) throw new Error(JSON.stringify(outcomes));
  process.stdout.write(n + '\\n');
}
`;
