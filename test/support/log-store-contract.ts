import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SearchQuery, SortKey, TextQuery } from '../../collector/query/types.ts';
import type { LogHit, LogStore, SearchResult } from '../../collector/store/store.ts';
import type { LogRecord } from '../../core/record/log-record.ts';

/**
 * The behaviour every LogStore shares, whatever engine is behind it. A store
 * passes when it answers these the same way as the others; nothing here knows
 * which store it talks to.
 */

export interface ContractStore {
  /** Opened and empty. */
  store: LogStore;
  /** Makes what was written searchable (an index refresh in Elasticsearch; nothing for others). */
  refresh(): Promise<void>;
  /** Closes the store and removes what it stored. */
  cleanup(): Promise<void>;
}

export interface ContractOptions {
  /** Lines in the paging test; past 10,000 the total must say it is not exact. */
  pagingLines?: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** 2024-05-01T10:00:00Z */
const T = Date.UTC(2024, 4, 1, 10);
const WRITE_BATCH = 1_000;

type Doc = Record<string, unknown>;

interface Line {
  id: string;
  time: number;
  message: string;
  namespace?: string;
  pod?: string;
  container?: string;
  node?: string;
  level?: string;
  path?: string;
  /** `log.file.id`: the file's identity across its names. */
  fileId?: string;
  offset?: number;
  /** Parsed fields, merged at the root as the sidecar does. */
  fields?: Doc;
}

function doc(line: Line): Doc {
  const out: Doc = {
    '@timestamp': new Date(line.time).toISOString(),
    message: line.message,
    log: {
      ...(line.level ? { level: line.level } : {}),
      file: { path: line.path ?? '/var/log/app.log', ...(line.fileId ? { id: line.fileId } : {}) },
      offset: line.offset ?? 0,
    },
  };
  if (line.namespace !== undefined) {
    out.kubernetes = {
      namespace: line.namespace,
      pod: { name: line.pod ?? 'pod-0', uid: `uid-${line.pod ?? 'pod-0'}` },
      container: { name: line.container ?? 'app' },
      node: { name: line.node ?? 'node-a' },
    };
  }
  out.host = { name: line.node ?? 'node-a' };
  out.event = { id: line.id };
  return { ...out, ...line.fields };
}

export function record(line: Line): LogRecord {
  return { id: line.id, time: line.time, doc: Buffer.from(JSON.stringify(doc(line))) };
}

async function writeAll(store: LogStore, records: LogRecord[]): Promise<void> {
  for (let i = 0; i < records.length; i += WRITE_BATCH) {
    const outcomes = await store.write(records.slice(i, i + WRITE_BATCH));
    const failed = outcomes.filter((o) => o.result !== 'ok');
    expect(failed, 'every record of the data set is stored').toEqual([]);
  }
}

function query(overrides: Partial<SearchQuery> = {}): SearchQuery {
  return { from: T - HOUR, to: T + HOUR, filters: [], order: 'asc', size: 100, ...overrides };
}

const word = (value: string): TextQuery => ({ kind: 'word', value });
const phrase = (value: string): TextQuery => ({ kind: 'phrase', value });
const and = (...children: TextQuery[]): TextQuery => ({ kind: 'and', children });
const or = (...children: TextQuery[]): TextQuery => ({ kind: 'or', children });
const not = (child: TextQuery): TextQuery => ({ kind: 'not', child });
const field = (name: string, value: string): TextQuery => ({ kind: 'field', field: name, value });

/** Every page of a search, following the cursor, with a bound so a cursor that loops fails the test. */
async function allPages(store: LogStore, q: SearchQuery, maxPages = 1_000): Promise<LogHit[][]> {
  const pages: LogHit[][] = [];
  let after: SortKey | undefined;
  for (let n = 0; n < maxPages; n++) {
    const result: SearchResult = await store.search({ ...q, after });
    pages.push(result.hits);
    if (!result.next) return pages;
    expect(result.hits.length, 'a page with a cursor is full').toBe(q.size);
    expect(result.next).toEqual(result.hits.at(-1)!.sort);
    after = result.next;
  }
  throw new Error(`still paging after ${maxPages} pages`);
}

function compareKeys(a: SortKey, b: SortKey): number {
  if (a[0] !== b[0]) return a[0] - b[0];
  if (a[1] !== b[1]) return a[1] - b[1];
  return a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0;
}

function keyOf(line: Line): SortKey {
  return [line.time, line.offset ?? 0, line.id];
}

/**
 * A small corpus, one line a minute from T, that every read-only search test
 * shares. Keys are short names; ids are `c-<key>`.
 */
const CORPUS: Record<string, Omit<Line, 'id' | 'time'>> = {
  cart: {
    message: 'GET /cart 200 in 12ms',
    namespace: 'shop',
    pod: 'web-1',
    level: 'info',
    fields: { user: { id: 'u1' }, http: { status: 200 } },
  },
  timeout: {
    message: 'Connection TIMEOUT talking to payments',
    namespace: 'shop',
    pod: 'web-1',
    level: 'error',
    fields: { 'user.id': 'u2' },
  },
  retry: { message: 'retrying payment for order 42', namespace: 'shop', pod: 'web-2', level: 'warn' },
  declined: {
    message: 'payment failed: card declined',
    namespace: 'billing',
    pod: 'invoice-0',
    container: 'worker',
    node: 'node-b',
    level: 'error',
    fields: { user: { id: 'u1' } },
  },
  invoice: {
    message: 'invoice 42 sent to the customer',
    namespace: 'billing',
    pod: 'invoice-0',
    container: 'worker',
    node: 'node-b',
    level: 'info',
  },
  reset: {
    message: 'connection reset by peer',
    namespace: 'ops',
    pod: 'probe-0',
    node: 'node-b',
    level: 'warn',
  },
  fox: {
    message: 'the quick brown fox jumps over the lazy dog',
    namespace: 'shop',
    pod: 'web-1',
    container: 'sidecar',
    level: 'debug',
  },
  dog: { message: 'a lazy brown dog sleeps', namespace: 'shop', pod: 'web-2', level: 'info' },
  cjkTimeout: { message: '数据库连接超时', namespace: 'shop', pod: 'web-1', level: 'error' },
  cjkOther: { message: '超过时间限制', namespace: 'shop', pod: 'web-2', level: 'warn' },
  cjkOk: { message: '连接成功', namespace: 'billing', pod: 'invoice-0', container: 'worker', level: 'info' },
  tokens: { message: 'user_id=7 logged in from example.com', namespace: 'shop', pod: 'web-1', level: 'info' },
  host: { message: 'kernel: connection tracking table full', level: 'warn' },
  rock: { message: 'rock and roll', namespace: 'ops', pod: 'probe-0', node: 'node-b' },
  hostile: {
    message: `he said "hi" (NEAR* {x}) OR '; DROP TABLE logs; --`,
    namespace: 'ops',
    pod: 'probe-0',
    node: 'node-b',
  },
};
const CORPUS_KEYS = Object.keys(CORPUS);
const CORPUS_LINES: Line[] = CORPUS_KEYS.map((key, i) => ({
  id: `c-${key}`,
  time: T + i * MINUTE,
  offset: 1_000 + i * 100,
  path: '/var/log/app.log',
  ...CORPUS[key]!,
}));

const keys = (hits: LogHit[]) => hits.map((h) => h.id.replace(/^c-/, ''));
const corpusWhere = (keep: (line: Line) => boolean) =>
  CORPUS_LINES.filter(keep).map((l) => l.id.replace(/^c-/, ''));

export function describeLogStoreContract(
  name: string,
  makeStore: () => Promise<ContractStore>,
  options: ContractOptions = {},
): void {
  const pagingLines = options.pagingLines ?? 5_000;

  /** A store of its own for a test that writes or deletes. */
  async function withStore(test: (s: ContractStore) => Promise<void>): Promise<void> {
    const s = await makeStore();
    try {
      await test(s);
    } finally {
      await s.cleanup();
    }
  }

  describe(`${name}: log store contract`, () => {
    describe('writing', () => {
      it('stores each record once, however often its id is written, and says which writes were duplicates', () =>
        withStore(async ({ store, refresh }) => {
          const a = record({ id: 'w-a', time: T, message: 'first line', namespace: 'shop' });
          const b = record({ id: 'w-b', time: T + 1, message: 'second line', namespace: 'shop' });
          const otherA = record({ id: 'w-a', time: T, message: 'other content', namespace: 'shop' });
          expect(await store.write([a, b, a])).toEqual([
            { result: 'ok' },
            { result: 'ok' },
            { result: 'ok', duplicate: true },
          ]);
          expect(await store.write([b, otherA])).toEqual([
            { result: 'ok', duplicate: true },
            { result: 'ok', duplicate: true },
          ]);
          await refresh();
          const result = await store.search(query());
          expect(result.hits.map((h) => h.id)).toEqual(['w-a', 'w-b']);
          expect(result.total).toEqual({ value: 2, exact: true });
          const hit = result.hits[0]!;
          expect(hit.sort).toEqual([T, 0, 'w-a']);
          expect(hit.doc).toMatchObject({ message: 'first line', event: { id: 'w-a' } });
        }));

      it('rejects malformed records with 400 and a reason, and keeps the good ones of the same write', () =>
        withStore(async ({ store, refresh }) => {
          const good1 = record({ id: 'w-good1', time: T, message: 'good one', namespace: 'shop' });
          const good2 = record({ id: 'w-good2', time: T + 5, message: 'good two', namespace: 'shop' });
          const notJson: LogRecord = { id: 'w-bad1', time: T + 1, doc: Buffer.from('{"message": "cut') };
          const badTime: LogRecord = {
            id: 'w-bad2',
            time: Number.NaN,
            doc: Buffer.from(
              JSON.stringify({ '@timestamp': 'yesterday', message: 'bad time', event: { id: 'w-bad2' } }),
            ),
          };
          const outcomes = await store.write([good1, notJson, badTime, good2]);
          expect(outcomes[0]).toEqual({ result: 'ok' });
          expect(outcomes[3]).toEqual({ result: 'ok' });
          for (const bad of [outcomes[1], outcomes[2]]) {
            expect(bad).toMatchObject({ result: 'reject', status: 400 });
            expect((bad as { reason: string }).reason.length).toBeGreaterThan(0);
          }
          await refresh();
          const result = await store.search(query());
          expect(result.hits.map((h) => h.id)).toEqual(['w-good1', 'w-good2']);
        }));
      it('answers searches and context around a document nested 5,000 levels deep or with 100,000 fields', () =>
        withStore(async ({ store, refresh }) => {
          const at = (n: number): Line => ({
            id: `h-${n}`,
            time: T + n,
            offset: n * 100,
            message: `hostile neighbour ${n}`,
            namespace: 'deep',
          });
          // Built as text: serialising such a document is exactly what cannot be done.
          const withField = (line: Line, json: string): LogRecord => {
            const text = JSON.stringify(doc(line));
            return { id: line.id, time: line.time, doc: Buffer.from(`${text.slice(0, -1)},"x":${json}}`) };
          };
          const deepObject = withField(at(1), `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`);
          const deepArray = withField(at(2), `${'['.repeat(5_000)}1${']'.repeat(5_000)}`);
          const wide = withField(
            at(3),
            JSON.stringify(Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`f${i}`, i]))),
          );
          await writeAll(store, [record(at(0)), record(at(4))]);
          // Each store may refuse them (Elasticsearch limits depth and fields); what it keeps must not break reads.
          const outcomes = await store.write([deepObject, deepArray, wide]);
          expect(outcomes.map((o) => o.result).every((r) => r === 'ok' || r === 'reject')).toBe(true);
          const kept = ['h-1', 'h-2', 'h-3'].filter((_, i) => outcomes[i]!.result === 'ok');
          await refresh();
          const found = await store.search(query({ namespaces: ['deep'] }));
          expect(found.hits.map((h) => h.id)).toEqual(['h-0', ...kept, 'h-4']);
          expect(() => JSON.stringify(found)).not.toThrow();
          const words = await store.search(query({ text: word('hostile'), namespaces: ['deep'] }));
          expect(words.hits).toHaveLength(kept.length + 2);
          expect(() => JSON.stringify(words)).not.toThrow();
          for (const id of ['h-0', ...kept]) {
            const around = await store.context({ id, before: 5, after: 5, namespaces: ['deep'] });
            expect(around?.anchor.id).toBe(id);
            expect(() => JSON.stringify(around)).not.toThrow();
          }
        }));
    });

    describe('searching', () => {
      let s: ContractStore;
      beforeAll(async () => {
        s = await makeStore();
        await writeAll(s.store, CORPUS_LINES.map(record));
        await s.refresh();
      }, 120_000);
      afterAll(async () => {
        await s?.cleanup();
      });

      const find = async (overrides: Partial<SearchQuery>) =>
        keys((await s.store.search(query(overrides))).hits);

      it('finds every line of a time range, from inclusive and to exclusive', async () => {
        expect(await find({})).toEqual(CORPUS_KEYS);
        expect(await find({ from: T + 2 * MINUTE, to: T + 5 * MINUTE })).toEqual([
          'retry',
          'declined',
          'invoice',
        ]);
        expect(await find({ from: T + 2 * MINUTE + 1, to: T + 5 * MINUTE + 1 })).toEqual([
          'declined',
          'invoice',
          'reset',
        ]);
        expect(await find({ from: T - DAY, to: T - 1 })).toEqual([]);
      });

      it('returns newest first or oldest first, with the sort key of each hit', async () => {
        const desc = (await s.store.search(query({ order: 'desc' }))).hits;
        expect(keys(desc)).toEqual([...CORPUS_KEYS].reverse());
        for (const hit of desc) {
          const line = CORPUS_LINES.find((l) => l.id === hit.id)!;
          expect(hit.sort).toEqual(keyOf(line));
          expect(hit.doc).toMatchObject({ message: line.message, event: { id: line.id } });
        }
        expect(await find({ order: 'asc', size: 3 })).toEqual(CORPUS_KEYS.slice(0, 3));
      });

      it('matches words as tokens, whatever their case, and no stems', async () => {
        expect(await find({ text: word('timeout') })).toEqual(['timeout']);
        expect(await find({ text: word('TimeOut') })).toEqual(['timeout']);
        expect(await find({ text: word('payment') })).toEqual(['retry', 'declined']);
        expect(await find({ text: word('42') })).toEqual(['retry', 'invoice']);
        expect(await find({ text: word('connection') })).toEqual(['timeout', 'reset', 'host']);
        expect(await find({ text: word('nowhere') })).toEqual([]);
      });

      it('splits words as the Elasticsearch standard analyzer does', async () => {
        expect(await find({ text: word('example.com') })).toEqual(['tokens']);
        expect(await find({ text: word('example') })).toEqual([]);
        expect(await find({ text: word('user_id') })).toEqual(['tokens']);
        expect(await find({ text: word('user') })).toEqual([]);
        expect(await find({ text: word('kernel') })).toEqual(['host']);
        expect(await find({ text: word('cart') })).toEqual(['cart']);
      });

      it('matches phrases as consecutive tokens', async () => {
        expect(await find({ text: phrase('brown fox') })).toEqual(['fox']);
        expect(await find({ text: phrase('lazy dog') })).toEqual(['fox']);
        expect(await find({ text: phrase('Lazy Brown') })).toEqual(['dog']);
        expect(await find({ text: phrase('brown dog') })).toEqual(['dog']);
        expect(await find({ text: phrase('fox brown') })).toEqual([]);
      });

      it('combines words and phrases with AND, OR and NOT', async () => {
        expect(await find({ text: and(word('payment'), word('failed')) })).toEqual(['declined']);
        expect(await find({ text: or(word('timeout'), word('reset')) })).toEqual(['timeout', 'reset']);
        expect(await find({ text: and(word('connection'), not(word('reset'))) })).toEqual([
          'timeout',
          'host',
        ]);
        expect(await find({ text: not(word('connection')) })).toEqual(
          CORPUS_KEYS.filter((k) => !['timeout', 'reset', 'host'].includes(k)),
        );
        expect(
          await find({ text: or(and(word('brown'), not(phrase('brown fox'))), word('declined')) }),
        ).toEqual(['declined', 'dog']);
        expect(await find({ text: and(word('lazy'), or(phrase('quick brown'), word('sleeps'))) })).toEqual([
          'fox',
          'dog',
        ]);
        expect(await find({ text: not(not(word('peer'))) })).toEqual(['reset']);
        expect(await find({ text: and(word('payment'), not(word('payment'))) })).toEqual([]);
      });

      it('finds a CJK word as the characters in a row, not scattered', async () => {
        expect(await find({ text: word('超时') })).toEqual(['cjkTimeout']);
        expect(await find({ text: word('连接') })).toEqual(['cjkTimeout', 'cjkOk']);
        expect(await find({ text: word('连接超时') })).toEqual(['cjkTimeout']);
        expect(await find({ text: phrase('连接超时') })).toEqual(['cjkTimeout']);
        expect(await find({ text: word('时') })).toEqual(['cjkTimeout', 'cjkOther']);
        expect(await find({ text: word('超连') })).toEqual([]);
      });

      it('takes any text literally: quotes, operators and SQL in a query change nothing', async () => {
        const hostile = [
          '"',
          '""',
          "'",
          '*',
          '(',
          ')',
          '{x}',
          'NEAR(a b)',
          "'; DROP TABLE logs; --",
          'message:*',
          '^a',
          '\\',
          '%',
          'a"b',
        ];
        for (const value of hostile) {
          await s.store.search(query({ text: word(value) }));
          await s.store.search(query({ text: phrase(value) }));
          await s.store.search(query({ filters: [{ field: 'kubernetes.namespace', values: [value] }] }));
        }
        expect(await find({ text: word('OR') })).toEqual(['hostile']);
        expect(await find({ text: word('and') })).toEqual(['rock']);
        expect(await find({ text: word('NEAR') })).toEqual(['hostile']);
        expect(await find({ text: phrase(`"hi" (NEAR*`) })).toEqual(['hostile']);
        expect(await find({ text: phrase('drop table') })).toEqual(['hostile']);
        expect(
          await find({ filters: [{ field: 'kubernetes.namespace', values: ["shop' OR '1'='1"] }] }),
        ).toEqual([]);
        for (const field of ['a"]', "$.kubernetes'", 'x) OR (1=1']) {
          expect(await find({ filters: [{ field, values: ['shop'] }] })).toEqual([]);
        }
      });

      it('filters on keyword fields by dotted name, any value of a filter and every filter', async () => {
        const ns = (values: string[]) => ({ field: 'kubernetes.namespace', values });
        expect(await find({ filters: [ns(['billing'])] })).toEqual(['declined', 'invoice', 'cjkOk']);
        expect(await find({ filters: [ns(['billing', 'ops'])] })).toEqual(
          corpusWhere((l) => l.namespace === 'billing' || l.namespace === 'ops'),
        );
        expect(await find({ filters: [{ field: 'kubernetes.pod.name', values: ['web-2'] }] })).toEqual([
          'retry',
          'dog',
          'cjkOther',
        ]);
        expect(
          await find({ filters: [{ field: 'kubernetes.container.name', values: ['sidecar'] }] }),
        ).toEqual(['fox']);
        expect(await find({ filters: [{ field: 'log.level', values: ['error'] }] })).toEqual([
          'timeout',
          'declined',
          'cjkTimeout',
        ]);
        expect(await find({ filters: [{ field: 'kubernetes.node.name', values: ['node-b'] }] })).toEqual(
          corpusWhere((l) => l.node === 'node-b'),
        );
        expect(
          await find({ filters: [ns(['shop']), { field: 'log.level', values: ['error', 'warn'] }] }),
        ).toEqual(['timeout', 'retry', 'cjkTimeout', 'cjkOther']);
        expect(await find({ filters: [ns(['shop'])], text: word('connection') })).toEqual(['timeout']);
        expect(await find({ filters: [{ field: 'no.such.field', values: ['shop'] }] })).toEqual([]);
        expect(await find({ filters: [ns(['nowhere'])] })).toEqual([]);
      });

      it('counts the values of a keyword field among the matching lines, most frequent first', async () => {
        const counted = (keep: (line: Line) => boolean, value: (line: Line) => string | undefined) => {
          const counts = new Map<string, number>();
          for (const line of CORPUS_LINES.filter(keep)) {
            const v = value(line);
            if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
          }
          return [...counts]
            .map(([v, count]) => ({ value: v, count }))
            .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1));
        };
        const namespaces = await s.store.facet(query(), 'kubernetes.namespace', 10);
        expect(namespaces).toEqual({
          values: counted(
            () => true,
            (l) => l.namespace,
          ),
          lines: CORPUS_LINES.length,
          sampled: false,
        });
        const shopLevels = await s.store.facet(
          query({ filters: [{ field: 'kubernetes.namespace', values: ['shop'] }], text: word('order') }),
          'log.level',
          10,
        );
        expect(shopLevels.values).toEqual(
          counted(
            (l) => l.namespace === 'shop' && /\border\b/i.test(l.message),
            (l) => l.level,
          ),
        );
        const top = await s.store.facet(query(), 'kubernetes.pod.name', 1);
        expect(top.values).toEqual(
          counted(
            () => true,
            (l) => (l.namespace ? (l.pod ?? 'pod-0') : undefined),
          ).slice(0, 1),
        );
        expect((await s.store.facet(query(), 'user.id', 10)).values).toEqual([
          { value: 'u1', count: 2 },
          { value: 'u2', count: 1 },
        ]);
        expect(await s.store.facet(query({ namespaces: [] }), 'kubernetes.namespace', 10)).toEqual({
          values: [],
          lines: 0,
          sampled: false,
        });
      });

      it('counts every matching line, in all and per combination of keyword values', async () => {
        const shop = query({ filters: [{ field: 'kubernetes.namespace', values: ['shop'] }] });
        const shopLines = CORPUS_LINES.filter((l) => l.namespace === 'shop');
        expect(await s.store.count(shop, [], 10)).toEqual({
          total: shopLines.length,
          groups: [],
          truncated: false,
        });
        const expected = new Map<string, { values: (string | null)[]; count: number }>();
        for (const line of CORPUS_LINES) {
          const values = [line.namespace ?? null, line.level ?? null];
          const key = JSON.stringify(values);
          expected.set(key, { values, count: (expected.get(key)?.count ?? 0) + 1 });
        }
        const byCount = (a: { count: number; values: unknown[] }, b: { count: number; values: unknown[] }) =>
          b.count - a.count || JSON.stringify(a.values).localeCompare(JSON.stringify(b.values));
        const all = await s.store.count(query(), ['kubernetes.namespace', 'log.level'], 100);
        expect(all.total).toBe(CORPUS_LINES.length);
        expect(all.truncated).toBe(false);
        expect(all.groups.sort(byCount)).toEqual([...expected.values()].sort(byCount));
        const one = await s.store.count(query(), ['kubernetes.namespace', 'log.level'], 1);
        expect(one).toMatchObject({ total: CORPUS_LINES.length, truncated: true });
        expect(one.groups).toHaveLength(1);
        expect(await s.store.count(query({ namespaces: [] }), ['kubernetes.namespace'], 10)).toEqual({
          total: 0,
          groups: [],
          truncated: false,
        });
      });

      it('filters on parsed fields, nested or with dotted keys alike', async () => {
        expect(await find({ filters: [{ field: 'user.id', values: ['u1'] }] })).toEqual(['cart', 'declined']);
        expect(await find({ filters: [{ field: 'user.id', values: ['u2'] }] })).toEqual(['timeout']);
        expect(await find({ filters: [{ field: 'user.id', values: ['u1', 'u2'] }] })).toEqual([
          'cart',
          'timeout',
          'declined',
        ]);
        expect(await find({ filters: [{ field: 'http.status', values: ['200'] }] })).toEqual(['cart']);
      });

      it('matches field terms in the query by exact value, combined with words and negated', async () => {
        expect(await find({ text: field('kubernetes.pod.name', 'web-2') })).toEqual([
          'retry',
          'dog',
          'cjkOther',
        ]);
        expect(await find({ text: field('kubernetes.pod.name', 'web') })).toEqual([]);
        expect(await find({ text: field('log.level', 'ERROR') })).toEqual([]);
        expect(await find({ text: and(field('log.level', 'error'), word('connection')) })).toEqual([
          'timeout',
        ]);
        expect(
          await find({
            text: and(field('kubernetes.namespace', 'billing'), not(field('log.level', 'info'))),
          }),
        ).toEqual(['declined']);
        expect(
          await find({ text: or(field('user.id', 'u2'), field('kubernetes.container.name', 'sidecar')) }),
        ).toEqual(['timeout', 'fox']);
        expect(await find({ text: field('http.status', '200') })).toEqual(['cart']);
        expect(await find({ text: field('http.status', '200.0') })).toEqual(['cart']);
        expect(await find({ text: field('http.status', 'abc') })).toEqual([]);
        expect(await find({ text: field('user.id', 'u1 ') })).toEqual([]);
        expect(await find({ text: field('no.such.field', 'x') })).toEqual([]);
        expect(await find({ text: not(field('kubernetes.namespace', 'shop')) })).toEqual(
          corpusWhere((l) => l.namespace !== 'shop'),
        );
        for (const value of ['"', "'; DROP TABLE logs; --", '*', 'a b']) {
          expect(await find({ text: field('kubernetes.namespace', value) })).toEqual([]);
        }
      });

      it('filters on event.id, log.offset and @timestamp like any other field', async () => {
        expect(
          await find({ filters: [{ field: 'event.id', values: ['c-fox', 'c-cart', 'c-none'] }] }),
        ).toEqual(['cart', 'fox']);
        expect(await find({ filters: [{ field: 'log.offset', values: ['1200'] }] })).toEqual(['retry']);
        const declined = new Date(T + 3 * MINUTE).toISOString();
        expect(await find({ filters: [{ field: '@timestamp', values: [declined] }] })).toEqual(['declined']);
        expect(
          await find({
            filters: [{ field: 'event.id', values: ['c-fox'] }],
            text: word('fox'),
            namespaces: ['ops'],
          }),
        ).toEqual([]);
      });

      it('counts per time bucket, aligned to the interval from the epoch, oldest first', async () => {
        for (const interval of [5 * MINUTE, 7 * MINUTE, HOUR]) {
          const from = T - 3 * MINUTE;
          const to = T + 13 * MINUTE + 1;
          const result = await s.store.search(query({ from, to, histogramIntervalMs: interval, size: 0 }));
          expect(result.hits).toEqual([]);
          const expected = new Map<number, number>();
          for (const line of CORPUS_LINES) {
            if (line.time < from || line.time >= to) continue;
            const bucket = Math.floor(line.time / interval) * interval;
            expected.set(bucket, (expected.get(bucket) ?? 0) + 1);
          }
          const histogram = result.histogram ?? [];
          // A store may list empty buckets or leave them out; the counts must be the same either way.
          const nonEmpty = histogram.filter((b) => b.count > 0);
          expect(nonEmpty).toEqual([...expected].map(([time, count]) => ({ time, count })));
          for (const b of histogram) {
            expect(b.time % interval).toBe(0);
            expect(b.time).toBeGreaterThan(from - interval);
            expect(b.time).toBeLessThan(to);
          }
          expect(histogram.map((b) => b.time)).toEqual(
            [...histogram.map((b) => b.time)].sort((a, b) => a - b),
          );
          expect(result.total).toEqual({
            value: CORPUS_LINES.filter((l) => l.time >= from && l.time < to).length,
            exact: true,
          });
        }
        const filtered = await s.store.search(
          query({ text: word('connection'), histogramIntervalMs: HOUR, size: 1 }),
        );
        expect(filtered.histogram?.filter((b) => b.count > 0)).toEqual([{ time: T, count: 3 }]);
        expect(filtered.total).toEqual({ value: 3, exact: true });
        expect(filtered.hits).toHaveLength(1);
        expect(filtered.next).toEqual(filtered.hits[0]!.sort);
      });

      describe('a namespace scope', () => {
        it('never returns or counts lines of other namespaces, whatever the query asks', async () => {
          const scoped = (overrides: Partial<SearchQuery>) =>
            s.store.search(query({ namespaces: ['shop'], histogramIntervalMs: HOUR, ...overrides }));
          const shop = corpusWhere((l) => l.namespace === 'shop');
          const all = await scoped({});
          expect(keys(all.hits)).toEqual(shop);
          expect(all.total).toEqual({ value: shop.length, exact: true });
          expect(all.histogram?.reduce((n, b) => n + b.count, 0)).toBe(shop.length);

          const asking = [
            { filters: [{ field: 'kubernetes.namespace', values: ['billing'] }] },
            {
              filters: [{ field: 'kubernetes.namespace', values: ['billing', 'ops'] }],
              text: word('payment'),
            },
            { text: word('declined') },
            { text: or(word('peer'), word('invoice'), word('kernel')) },
            { text: field('kubernetes.namespace', 'billing') },
            {
              text: or(
                field('kubernetes.namespace', 'ops'),
                field('log.level', 'warn'),
                field('kubernetes.namespace', 'billing'),
              ),
              filters: [{ field: 'kubernetes.namespace', values: ['billing'] }],
            },
          ];
          for (const overrides of asking) {
            const result = await scoped(overrides);
            expect(result.hits).toEqual([]);
            expect(result.total).toEqual({ value: 0, exact: true });
            expect(result.histogram?.reduce((n, b) => n + b.count, 0) ?? 0).toBe(0);
          }
          expect(keys((await scoped({ text: not(field('kubernetes.namespace', 'billing')) })).hits)).toEqual(
            shop,
          );
          const negated = await scoped({ text: not(word('payment')) });
          expect(keys(negated.hits)).toEqual(shop.filter((k) => k !== 'retry'));
          expect(keys((await scoped({ text: word('连接') })).hits)).toEqual(['cjkTimeout']);
          const desc = await scoped({ order: 'desc', size: 2 });
          expect(keys(desc.hits)).toEqual(shop.slice(-2).reverse());
          const rest = await scoped({ order: 'desc', size: 100, after: desc.next });
          expect(keys(rest.hits)).toEqual(shop.slice(0, -2).reverse());
        });

        it('of several namespaces sees each of them, and an empty scope sees nothing', async () => {
          const two = await s.store.search(query({ namespaces: ['billing', 'ops'] }));
          expect(keys(two.hits)).toEqual(
            corpusWhere((l) => l.namespace === 'billing' || l.namespace === 'ops'),
          );
          const none = await s.store.search(query({ namespaces: [], histogramIntervalMs: HOUR }));
          expect(none.hits).toEqual([]);
          expect(none.total).toEqual({ value: 0, exact: true });
          expect(none.histogram?.reduce((n, b) => n + b.count, 0) ?? 0).toBe(0);
          const unknown = await s.store.search(query({ namespaces: ['nowhere'] }));
          expect(unknown.hits).toEqual([]);
        });

        it('gives no context of a line in another namespace', async () => {
          expect(await s.store.context({ id: 'c-declined', before: 5, after: 5, namespaces: ['shop'] })).toBe(
            undefined,
          );
          expect(await s.store.context({ id: 'c-host', before: 5, after: 5, namespaces: ['shop'] })).toBe(
            undefined,
          );
          expect(await s.store.context({ id: 'c-cart', before: 5, after: 5, namespaces: [] })).toBe(
            undefined,
          );
          const own = await s.store.context({
            id: 'c-declined',
            before: 5,
            after: 5,
            namespaces: ['billing'],
          });
          expect(own?.anchor.id).toBe('c-declined');
        });
      });
    });

    describe('Chinese, Japanese, Korean and emoji', () => {
      let s: ContractStore;
      const LINES: Record<string, string> = {
        zhSearch: '搜索服务启动失败',
        zhServer: '服务器搜索超时',
        ja: 'カタカナのログ',
        ko: '한국어 로그',
        fire: 'deploy done 🔥🔥',
        thumbs: 'thumbs 👍🏽 from the team',
        family: 'family 👨\u200d👩\u200d👧 arrived',
        flag: 'flag 🇨🇳 raised',
      };
      beforeAll(async () => {
        s = await makeStore();
        const lines = Object.entries(LINES).map(([key, message], i) => ({
          id: `c-${key}`,
          time: T + i * MINUTE,
          message,
          namespace: 'intl',
        }));
        await writeAll(s.store, lines.map(record));
        await s.refresh();
      }, 120_000);
      afterAll(async () => {
        await s?.cleanup();
      });
      const find = async (text: TextQuery) => keys((await s.store.search(query({ text }))).hits);

      it('matches a Han word as its characters in a row, wherever they stand (no dictionary)', async () => {
        expect(await find(word('搜索'))).toEqual(['zhSearch', 'zhServer']);
        expect(await find(word('搜索服务'))).toEqual(['zhSearch']);
        expect(await find(word('服务器'))).toEqual(['zhServer']);
        expect(await find(phrase('超时'))).toEqual(['zhServer']);
        // Consecutive characters across a word boundary match too: the rule has no notion of words.
        expect(await find(word('索服'))).toEqual(['zhSearch']);
        expect(await find(word('搜务'))).toEqual([]);
        expect(await find(and(word('搜索'), not(word('服务器'))))).toEqual(['zhSearch']);
      });

      it('matches Katakana and Hangul by whole words', async () => {
        expect(await find(word('カタカナ'))).toEqual(['ja']);
        expect(await find(word('カタ'))).toEqual([]);
        // Hiragana is one word a character, as Han: it ends the Katakana word before it.
        expect(await find(word('ログ'))).toEqual(['ja']);
        expect(await find(word('한국어'))).toEqual(['ko']);
        expect(await find(word('한국'))).toEqual([]);
      });

      it('finds emoji, each sequence as one word', async () => {
        expect(await find(word('🔥'))).toEqual(['fire']);
        expect(await find(phrase('done 🔥'))).toEqual(['fire']);
        expect(await find(word('👍🏽'))).toEqual(['thumbs']);
        // Another skin tone, or none, is another emoji.
        expect(await find(word('👍'))).toEqual([]);
        expect(await find(word('👨\u200d👩\u200d👧'))).toEqual(['family']);
        expect(await find(word('🇨🇳'))).toEqual(['flag']);
      });
    });

    describe('paging with a cursor', () => {
      let s: ContractStore;
      const lines: Line[] = [];
      // Most lines share a few milliseconds, pairs share an offset (two files), so only the
      // whole key [time, offset, id] orders them.
      const P = Date.UTC(2024, 4, 2, 8);
      for (let i = 0; i < pagingLines; i++) {
        const crowded = i < pagingLines * 0.8;
        lines.push({
          id: `p-${((i * 7_919) % 100_003).toString(36).padStart(4, '0')}-${i}`,
          time: crowded ? P + (i % 4) : P + 10 + i,
          offset: crowded ? Math.floor(i / 8) * 10 : i * 10,
          path: (i >> 2) % 2 === 0 ? '/var/log/a.log' : '/var/log/b.log',
          message: `paging line ${i} ${i % 2 === 0 ? 'even' : 'odd'}`,
          namespace: i % 5 === 0 ? 'other' : 'shop',
          pod: 'pager',
        });
      }
      const from = P;
      const to = P + 20 + pagingLines;

      beforeAll(async () => {
        s = await makeStore();
        // Written out of order, as a replay would.
        const shuffled = [...lines].sort((a, b) => (a.id < b.id ? -1 : 1));
        await writeAll(s.store, shuffled.map(record));
        await s.refresh();
      }, 600_000);
      afterAll(async () => {
        await s?.cleanup();
      });

      const expectPaging = async (q: SearchQuery, expected: Line[]) => {
        const sorted = [...expected].sort((a, b) => compareKeys(keyOf(a), keyOf(b)));
        if (q.order === 'desc') sorted.reverse();
        const pages = await allPages(s.store, q);
        const hits = pages.flat();
        expect(new Set(hits.map((h) => h.id)).size, 'no line twice').toBe(hits.length);
        expect(hits.map((h) => h.id)).toEqual(sorted.map((l) => l.id));
        for (const hit of hits) {
          expect(hit.doc).toMatchObject({ event: { id: hit.id } });
        }
        expect(hits.map((h) => h.sort)).toEqual(sorted.map(keyOf));
      };

      it('walks every line newest first with no gap or repeat', async () => {
        await expectPaging({ from, to, filters: [], order: 'desc', size: 317 }, lines);
      }, 300_000);

      it('walks matching lines oldest first with no gap or repeat', async () => {
        await expectPaging(
          {
            from,
            to,
            filters: [{ field: 'kubernetes.pod.name', values: ['pager'] }],
            namespaces: ['shop'],
            text: word('odd'),
            order: 'asc',
            size: 250,
          },
          lines.filter((l) => l.message.endsWith('odd') && l.namespace === 'shop'),
        );
      }, 300_000);

      it('counts exactly up to 10,000 and says when there are more', async () => {
        const result = await s.store.search({ from, to, filters: [], order: 'desc', size: 10 });
        expect(result.total).toEqual(
          lines.length <= 10_000 ? { value: lines.length, exact: true } : { value: 10_000, exact: false },
        );
        expect(result.next).toEqual(result.hits.at(-1)!.sort);
      });

      it('starts after a cursor even when it is a line no longer there, and at the range edges', async () => {
        const desc = [...lines].sort((a, b) => compareKeys(keyOf(b), keyOf(a)));
        const middle = desc[100]!;
        const ghost: SortKey = [middle.time, middle.offset!, `${middle.id}~`];
        const page = await s.store.search({ from, to, filters: [], order: 'desc', size: 5, after: ghost });
        expect(page.hits.map((h) => h.id)).toEqual(desc.slice(100, 105).map((l) => l.id));
        const beyond = await s.store.search({
          from,
          to,
          filters: [],
          order: 'asc',
          size: 5,
          after: [to + 5, 0, ''],
        });
        expect(beyond.hits).toEqual([]);
        expect(beyond.next).toBeUndefined();
        const early = await s.store.search({
          from,
          to,
          filters: [],
          order: 'desc',
          size: 3,
          after: [to + 5, 0, ''],
        });
        expect(early.hits.map((h) => h.id)).toEqual(desc.slice(0, 3).map((l) => l.id));
      });
    });

    describe('context', () => {
      let s: ContractStore;
      const C = Date.UTC(2024, 4, 3, 12);
      /** The stream: 30 lines in one millisecond, then 10 more; offsets give the order. */
      const stream: Line[] = [];
      const others: Line[] = [];
      beforeAll(async () => {
        const base = { namespace: 'shop', pod: 'web-1', container: 'app', path: '/var/log/app.log' };
        for (let i = 0; i < 40; i++) {
          stream.push({
            ...base,
            id: `s-${(39 - i).toString().padStart(2, '0')}`,
            time: i < 30 ? C : C + i,
            offset: i * 120,
            message: `stream line ${i}`,
          });
        }
        const neighbours = [
          { ...base, container: 'sidecar' },
          { ...base, path: '/var/log/other.log' },
          { ...base, pod: 'web-2' },
          { ...base, namespace: 'billing' },
        ];
        neighbours.forEach((n, k) => {
          for (let i = 0; i < 40; i++) {
            others.push({
              ...n,
              id: `o-${k}-${i}`,
              time: i < 30 ? C : C + i,
              offset: i * 120 + 60,
              message: `neighbour ${k} line ${i}`,
            });
          }
        });
        s = await makeStore();
        const all = [...stream, ...others].sort((a, b) => (a.id < b.id ? 1 : -1));
        await writeAll(s.store, all.map(record));
        await s.refresh();
      }, 120_000);
      afterAll(async () => {
        await s?.cleanup();
      });

      const ids = (hits: LogHit[]) => hits.map((h) => h.id);
      const streamIds = (from: number, to: number) => stream.slice(from, to).map((l) => l.id);

      it('gives the lines before and after one line of the same stream, in written order', async () => {
        const result = await s.store.context({ id: stream[12]!.id, before: 5, after: 6 });
        expect(result).toBeDefined();
        expect(result!.anchor.id).toBe(stream[12]!.id);
        expect(result!.anchor.sort).toEqual(keyOf(stream[12]!));
        expect(result!.anchor.doc).toMatchObject({ message: 'stream line 12' });
        expect(ids(result!.before)).toEqual(streamIds(7, 12));
        expect(ids(result!.after)).toEqual(streamIds(13, 19));
        expect(result!.before.map((h) => h.sort)).toEqual(stream.slice(7, 12).map(keyOf));
      });

      it('crosses from crowded milliseconds to later ones and stops at the stream ends', async () => {
        const middle = await s.store.context({ id: stream[28]!.id, before: 2, after: 4 });
        expect(ids(middle!.before)).toEqual(streamIds(26, 28));
        expect(ids(middle!.after)).toEqual(streamIds(29, 33));
        const start = await s.store.context({ id: stream[1]!.id, before: 10, after: 1 });
        expect(ids(start!.before)).toEqual(streamIds(0, 1));
        expect(ids(start!.after)).toEqual(streamIds(2, 3));
        const end = await s.store.context({ id: stream[39]!.id, before: 3, after: 10 });
        expect(ids(end!.before)).toEqual(streamIds(36, 39));
        expect(end!.after).toEqual([]);
        const bare = await s.store.context({ id: stream[5]!.id, before: 0, after: 0 });
        expect(bare!.before).toEqual([]);
        expect(bare!.after).toEqual([]);
        expect(bare!.anchor.id).toBe(stream[5]!.id);
      });

      it('keeps to the scope and knows nothing of unknown ids', async () => {
        expect(await s.store.context({ id: 'no-such-id', before: 5, after: 5 })).toBeUndefined();
        const scoped = await s.store.context({
          id: stream[3]!.id,
          before: 2,
          after: 2,
          namespaces: ['shop'],
        });
        expect(ids(scoped!.before)).toEqual(streamIds(1, 3));
        const billing = others.find((l) => l.namespace === 'billing')!;
        expect(
          await s.store.context({ id: billing.id, before: 2, after: 2, namespaces: ['shop'] }),
        ).toBeUndefined();
      });
      it('follows a file by its identity across names, and keeps other files of the same name apart', () =>
        withStore(async ({ store, refresh }) => {
          const base = { namespace: 'shop', pod: 'web-1', container: 'app' };
          // Read as app.log until a restart during rotation, then the rest of it as app.log.2.
          const rotated: Line[] = Array.from({ length: 6 }, (_, i) => ({
            ...base,
            id: `f-a-${i}`,
            time: C + i * 1_000,
            offset: i * 100,
            path: i < 3 ? '/var/log/app.log' : '/var/log/app.log.2',
            fileId: 'file-a',
            message: `old generation ${i}`,
          }));
          // The next generation of app.log, written meanwhile.
          const next: Line[] = Array.from({ length: 6 }, (_, i) => ({
            ...base,
            id: `f-b-${i}`,
            time: C + i * 1_000 + 500,
            offset: i * 100,
            path: '/var/log/app.log',
            fileId: 'file-b',
            message: `new generation ${i}`,
          }));
          // The same file id in another namespace is another tenant's file.
          const elsewhere: Line = {
            ...base,
            namespace: 'billing',
            id: 'f-x',
            time: C + 2_500,
            offset: 250,
            fileId: 'file-a',
            message: 'another namespace',
          };
          await writeAll(store, [...rotated, ...next, elsewhere].map(record));
          await refresh();
          const around = async (id: string) => {
            const result = await store.context({ id, before: 10, after: 10 });
            return { before: ids(result!.before), after: ids(result!.after) };
          };
          expect(await around('f-a-2')).toEqual({
            before: ['f-a-0', 'f-a-1'],
            after: ['f-a-3', 'f-a-4', 'f-a-5'],
          });
          expect(await around('f-a-3')).toEqual({
            before: ['f-a-0', 'f-a-1', 'f-a-2'],
            after: ['f-a-4', 'f-a-5'],
          });
          expect(await around('f-b-1')).toEqual({
            before: ['f-b-0'],
            after: ['f-b-2', 'f-b-3', 'f-b-4', 'f-b-5'],
          });
          expect(await around('f-x')).toEqual({ before: [], after: [] });
        }));
    });

    describe('retention', () => {
      it('deletes whole UTC days before the cutoff and keeps the rest', () =>
        withStore(async ({ store, refresh }) => {
          const d1 = Date.UTC(2024, 3, 28);
          const d2 = d1 + DAY;
          const d3 = d2 + DAY;
          const lines: Line[] = [
            { id: 'r-1', time: d1 + 5 * HOUR, message: 'day one', namespace: 'shop' },
            { id: 'r-2', time: d2, message: 'day two starts', namespace: 'shop' },
            { id: 'r-3', time: d3 - 1, message: 'day two ends', namespace: 'shop' },
            { id: 'r-4', time: d3, message: 'day three starts', namespace: 'shop' },
            { id: 'r-5', time: d3 + 20 * HOUR, message: 'day three later', namespace: 'shop' },
          ];
          await writeAll(store, lines.map(record));
          await refresh();
          const everything = {
            from: d1 - DAY,
            to: d3 + 2 * DAY,
            filters: [],
            order: 'asc' as const,
            size: 100,
          };
          const deleted = await store.deleteBefore(d3 + 6 * HOUR);
          expect(deleted).toHaveLength(2);
          await refresh();
          const left = await store.search(everything);
          expect(left.hits.map((h) => h.id)).toEqual(['r-4', 'r-5']);
          expect(await store.context({ id: 'r-3', before: 1, after: 1 })).toBeUndefined();
          expect(await store.deleteBefore(d3 + 6 * HOUR)).toEqual([]);
          expect(await store.deleteBefore(d1)).toEqual([]);
          expect(await store.write([record(lines[0]!)])).toEqual([{ result: 'ok' }]);
          await refresh();
          expect((await store.search(everything)).hits.map((h) => h.id)).toEqual(['r-1', 'r-4', 'r-5']);
        }));
    });
  });
}
