import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SearchQuery, TextQuery } from '../collector/query/types.ts';
import { ElasticsearchStore } from '../collector/store/elasticsearch-store.ts';
import type { WriteOutcome } from '../collector/store/store.ts';
import type { LogRecord } from '../core/record/log-record.ts';
import { infraAddress } from './infra/control.ts';
import { describeLogStoreContract } from './support/log-store-contract.ts';

// Every index and template of this run starts with this, so runs never see each other's data.
const run = `lookout-test-${randomUUID().slice(0, 8)}`;
const DAY = 86_400_000;
const MARCH_1 = Date.UTC(2024, 2, 1);

let es: Client;

beforeAll(() => {
  es = new Client({ node: infraAddress('elasticsearch') });
});

afterAll(async () => {
  await es.indices.delete({ index: `${run}-*`, ignore_unavailable: true, allow_no_indices: true });
  await es.indices.deleteIndexTemplate({ name: `${run}-*` }).catch(() => {});
  await es.close();
});

const stores: ElasticsearchStore[] = [];
afterAll(async () => {
  for (const store of stores.splice(0)) await store.close();
});

/** A store with a pattern of its own; patterns of one run never overlap, so their templates can coexist. */
async function openStore(name: string) {
  const prefix = `${run}-${name}-`;
  const store = new ElasticsearchStore({
    nodes: [infraAddress('elasticsearch')],
    requestTimeout: 30_000,
    index: `${prefix}{yyyy.MM.dd}`,
    replicas: 0,
  });
  stores.push(store);
  await store.open();
  return {
    store,
    prefix,
    refresh: () =>
      es.indices.refresh({ index: `${prefix}*`, ignore_unavailable: true, allow_no_indices: true }),
  };
}

interface Line {
  time: number;
  offset: number;
  message?: string;
  namespace?: string;
  pod?: string;
  container?: string;
  path?: string;
  id?: string;
  fields?: Record<string, unknown>;
}

function record(line: Line): LogRecord {
  const namespace = line.namespace ?? 'shop';
  const pod = line.pod ?? 'web-1';
  const path = line.path ?? '/var/log/app.log';
  const id = line.id ?? `${namespace}.${pod}.${line.offset}`;
  const doc = {
    '@timestamp': new Date(line.time).toISOString(),
    message: line.message ?? `line at ${line.offset}`,
    log: { level: 'info', offset: line.offset, file: { path } },
    kubernetes: {
      namespace,
      pod: { name: pod },
      container: { name: line.container ?? 'app' },
      node: { name: 'node-1' },
    },
    event: { id },
    ...line.fields,
  };
  return { id, time: line.time, doc: Buffer.from(JSON.stringify(doc)) };
}

async function writeAll(store: ElasticsearchStore, records: LogRecord[]): Promise<void> {
  const outcomes = await store.write(records);
  const failed = outcomes.filter((o) => o.result !== 'ok');
  expect(failed).toEqual([]);
  expect(outcomes).toHaveLength(records.length);
}

function query(overrides: Partial<SearchQuery>): SearchQuery {
  return { from: 0, to: Date.UTC(2100, 0, 1), filters: [], order: 'asc', size: 100, ...overrides };
}

const word = (value: string): TextQuery => ({ kind: 'word', value });

/** Search requests each index has answered so far. */
async function queriesPerIndex(prefix: string): Promise<Record<string, number>> {
  const stats = await es.indices.stats({ index: `${prefix}*`, metric: 'search' });
  return Object.fromEntries(
    Object.entries(stats.indices ?? {}).map(([name, s]) => [name, s.total?.search?.query_total ?? 0]),
  );
}

describe('ElasticsearchStore (real Elasticsearch)', () => {
  it('answers ping, and throws on writes when the cluster is unreachable', async () => {
    const { store } = await openStore('ping');
    expect(await store.ping()).toBe(true);
    const away = new ElasticsearchStore({ nodes: ['http://127.0.0.1:9'], requestTimeout: 2_000 });
    stores.push(away);
    expect(await away.ping()).toBe(false);
    await expect(away.write([record({ time: MARCH_1, offset: 0 })])).rejects.toThrow(
      /Elasticsearch bulk write failed/,
    );
    await expect(away.search(query({}))).rejects.toThrow(/Elasticsearch/);
  });

  it('writes with create: duplicates are ok and stored once; mapping conflicts and bad documents are rejected', async () => {
    const { store, prefix, refresh } = await openStore('write');
    await store.open(); // again: installing the template is idempotent
    const first = record({ time: MARCH_1 + 1000, offset: 0, fields: { retries: 3 } });
    await writeAll(store, [first]);
    // Newlines between JSON tokens must not break the bulk body's one-document-per-line framing.
    const plain = record({ time: MARCH_1 + 2000, offset: 10 });
    const prettyPrinted = {
      ...plain,
      doc: Buffer.from(JSON.stringify(JSON.parse(String(plain.doc)), null, 2)),
    };
    const outcomes = await store.write([
      first,
      record({ time: MARCH_1 + 1500, offset: 5, fields: { retries: { count: 'many' } } }),
      { id: 'broken', time: MARCH_1, doc: Buffer.from('{"message": oops}') },
      { id: 'no-time', time: Number.NaN, doc: Buffer.from('{}') },
      prettyPrinted,
      record({ time: MARCH_1 + 3000, offset: 20, id: 'x'.repeat(513) }),
    ]);
    expect(outcomes[0]).toEqual({ result: 'ok', duplicate: true });
    expect(outcomes[1]).toMatchObject({ result: 'reject', status: 400 });
    expect((outcomes[1] as Extract<WriteOutcome, { result: 'reject' }>).reason).toMatch(/retries/);
    expect(outcomes[2]).toMatchObject({ result: 'reject', status: 400 });
    expect(outcomes[3]).toMatchObject({
      result: 'reject',
      status: 400,
      reason: expect.stringMatching(/@timestamp/),
    });
    expect(outcomes[4]).toEqual({ result: 'ok' });
    // The cluster would refuse the whole request for it, and the good records with it.
    expect(outcomes[5]).toMatchObject({
      result: 'reject',
      status: 400,
      reason: expect.stringMatching(/512/),
    });

    await refresh();
    const result = await store.search(query({}));
    expect(result.hits.map((h) => h.id)).toEqual([first.id, prettyPrinted.id]);
    expect(result.total).toEqual({ value: 2, exact: true });
    expect(result.hits[0]!.doc).toEqual(JSON.parse(first.doc.toString()));
    expect(result.hits[0]!.sort).toEqual([MARCH_1 + 1000, 0, first.id]);
    const indices = await es.indices.get({ index: `${prefix}*` });
    expect(Object.keys(indices)).toEqual([`${prefix}2024.03.01`]);
  });

  describe('answers the cluster gives a whole bulk request (stand-in server)', () => {
    type Answer = (body: string) => { status: number; body: unknown };
    let answer: Answer;
    let requests: string[];
    let url: string;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        requests.push(body);
        const { status, body: out } = answer(body);
        res.writeHead(status, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
        res.end(JSON.stringify(out));
      });
    });
    beforeAll(async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const standIn = (auth?: { username: string; password: string }) => {
      requests = [];
      const store = new ElasticsearchStore({ nodes: [url], requestTimeout: 5_000, auth });
      stores.push(store);
      return store;
    };
    const three = [0, 1, 2].map((offset) => record({ time: MARCH_1, offset }));
    const documentsIn = (body: string) => body.split('\n').filter(Boolean).length / 2;

    it('reports 429 and 5xx items as retry and keeps the others', async () => {
      answer = () => ({
        status: 200,
        body: {
          errors: true,
          items: [
            {
              create: {
                status: 429,
                error: { type: 'es_rejected_execution_exception', reason: 'queue full' },
              },
            },
            {
              create: { status: 409, error: { type: 'version_conflict_engine_exception', reason: 'exists' } },
            },
            {
              create: { status: 503, error: { type: 'unavailable_shards_exception', reason: 'no primary' } },
            },
          ],
        },
      });
      expect(await standIn().write(three)).toEqual([
        { result: 'retry', status: 429, reason: 'es_rejected_execution_exception: queue full' },
        { result: 'ok', duplicate: true },
        { result: 'retry', status: 503, reason: 'unavailable_shards_exception: no primary' },
      ]);
      // An answer with fewer items than records sent: the ones without an answer are sent again.
      answer = () => ({ status: 200, body: { errors: true, items: [{ create: { status: 201 } }] } });
      expect((await standIn().write(three)).map((o) => o.result)).toEqual(['ok', 'retry', 'retry']);
    });

    it('retries every record of a request the cluster is too busy for', async () => {
      answer = () => ({
        status: 429,
        body: { error: { type: 'circuit_breaking_exception', reason: 'busy' } },
      });
      const outcomes = await standIn().write(three);
      expect(outcomes.map((o) => o.result)).toEqual(['retry', 'retry', 'retry']);
      expect(outcomes[0]).toMatchObject({ status: 429, reason: expect.stringMatching(/circuit_breaking/) });
    });

    it('splits a request that is too large, and rejects a single record that is', async () => {
      answer = (body) =>
        documentsIn(body) > 1 || body.includes('"huge"')
          ? { status: 413, body: {} }
          : { status: 200, body: { errors: false, items: [{ create: { status: 201 } }] } };
      const huge = record({ time: MARCH_1, offset: 9, fields: { huge: true } });
      const outcomes = await standIn().write([...three, huge]);
      expect(outcomes.slice(0, 3)).toEqual([{ result: 'ok' }, { result: 'ok' }, { result: 'ok' }]);
      expect(outcomes[3]).toMatchObject({ result: 'reject', status: 413 });
    });

    it('throws on refused credentials, without them in the message', async () => {
      answer = () => ({
        status: 401,
        body: { error: { type: 'security_exception', reason: 'unable to authenticate' } },
      });
      const error = await standIn({ username: 'writer', password: 'hunter2-secret' })
        .write(three)
        .catch((err: Error) => err);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/bulk write failed: HTTP 401, security_exception/);
      expect((error as Error).message).not.toMatch(/hunter2/);
    });

    it('sends a bulk body of one action and one document per line, into the day of each record', async () => {
      answer = () => ({ status: 200, body: { errors: false } });
      const store = standIn();
      const late = record({ time: MARCH_1 + DAY - 1, offset: 7 });
      const next = record({ time: MARCH_1 + DAY, offset: 8 });
      expect(await store.write([late, next])).toEqual([{ result: 'ok' }, { result: 'ok' }]);
      const lines = requests[0]!.split('\n');
      expect(JSON.parse(lines[0]!)).toEqual({ create: { _index: 'lookout-logs-2024.03.01', _id: late.id } });
      expect(lines[1]).toBe(String(late.doc));
      expect(JSON.parse(lines[2]!)).toEqual({ create: { _index: 'lookout-logs-2024.03.02', _id: next.id } });
    });
  });

  describe('long index names', () => {
    let s: Awaited<ReturnType<typeof openStore>>;
    const JAN_1 = Date.UTC(2024, 0, 1);

    beforeAll(async () => {
      // Names of ~230 characters: a handful of days is already more than a request path may carry.
      s = await openStore(`long-${'x'.repeat(190)}`);
      await writeAll(
        s.store,
        Array.from({ length: 20 }, (_, day) => record({ time: JAN_1 + day * DAY + 1, offset: day })),
      );
      await es.index({
        index: `${s.prefix}audit-2024.01.05`,
        id: 'audit',
        document: JSON.parse(String(record({ time: JAN_1 + 4 * DAY, offset: 99, id: 'audit' }).doc)),
      });
      await s.refresh();
    });

    it('searches through the wildcard, narrowed to its own indices in the range', async () => {
      const before = await queriesPerIndex(s.prefix);
      const result = await s.store.search(query({ from: JAN_1 + 2 * DAY, to: JAN_1 + 19 * DAY }));
      expect(result.hits.map((h) => h.sort[1])).toEqual(Array.from({ length: 17 }, (_, i) => i + 2));
      const after = await queriesPerIndex(s.prefix);
      const touched = Object.keys(after).filter((name) => after[name]! > (before[name] ?? 0));
      expect(touched).toHaveLength(17);
      expect(touched).not.toContain(`${s.prefix}audit-2024.01.05`);
    });

    it('deletes more old days than one request path can name', async () => {
      const deleted = await s.store.deleteBefore(JAN_1 + 18 * DAY);
      expect(deleted).toHaveLength(18);
      const left = Object.keys(await es.indices.get({ index: `${s.prefix}*` })).sort();
      expect(left).toEqual([`${s.prefix}2024.01.19`, `${s.prefix}2024.01.20`, `${s.prefix}audit-2024.01.05`]);
    });
  });

  describe('daily indices', () => {
    let s: Awaited<ReturnType<typeof openStore>>;
    const dayName = (day: number) => `${s.prefix}2024.03.0${day}`;

    beforeAll(async () => {
      s = await openStore('days');
      // Five days, a line at 06:00 and one at 18:00 of each.
      const records: LogRecord[] = [];
      for (let day = 0; day < 5; day++) {
        for (const hour of [6, 18]) {
          records.push(record({ time: MARCH_1 + day * DAY + hour * 3_600_000, offset: day * 100 + hour }));
        }
      }
      await writeAll(s.store, records);
      // Another pattern under the same wildcard: never searched, never deleted by this store.
      await es.index({
        index: `${s.prefix}audit-2024.03.02`,
        id: 'audit',
        document: JSON.parse(record({ time: MARCH_1 + DAY, offset: 1, id: 'audit' }).doc.toString()),
      });
      await s.refresh();
    });

    it('searches only the indices of the days in the range', async () => {
      const before = await queriesPerIndex(s.prefix);
      // From the middle of day 2 to the start of day 4 (exclusive): days 2 and 3 only.
      const result = await s.store.search(
        query({ from: MARCH_1 + DAY + 12 * 3_600_000, to: MARCH_1 + 3 * DAY }),
      );
      expect(result.hits.map((h) => h.sort[1])).toEqual([118, 206, 218]);
      const after = await queriesPerIndex(s.prefix);
      const touched = Object.keys(after)
        .filter((name) => after[name]! > (before[name] ?? 0))
        .sort();
      expect(touched).toEqual([dayName(2), dayName(3)]);
    });

    it('names only existing indices of its pattern when the range is too long for a URL', async () => {
      const before = await queriesPerIndex(s.prefix);
      const result = await s.store.search(query({ from: Date.UTC(2000, 0, 1), to: Date.UTC(2030, 0, 1) }));
      expect(result.total.value).toBe(10);
      expect(result.hits.map((h) => h.id)).not.toContain('audit');
      const after = await queriesPerIndex(s.prefix);
      const touched = Object.keys(after).filter((name) => after[name]! > (before[name] ?? 0));
      expect(touched).not.toContain(`${s.prefix}audit-2024.03.02`);
      expect(touched.sort()).toEqual([1, 2, 3, 4, 5].map(dayName));
    });

    it('answers an empty range or a range without indices with nothing', async () => {
      const empty = await s.store.search(query({ from: MARCH_1, to: MARCH_1 }));
      expect(empty).toMatchObject({ hits: [], total: { value: 0, exact: true } });
      const none = await s.store.search(
        query({ from: Date.UTC(2023, 0, 1), to: Date.UTC(2023, 0, 3), histogramIntervalMs: DAY }),
      );
      expect(none.hits).toEqual([]);
      expect(none.total.value).toBe(0);
      expect(none.histogram).toEqual([
        { time: Date.UTC(2023, 0, 1), count: 0 },
        { time: Date.UTC(2023, 0, 2), count: 0 },
      ]);
    });

    it('counts per bucket over the whole query, empty buckets included', async () => {
      const result = await s.store.search(
        query({ from: MARCH_1, to: MARCH_1 + 2 * DAY, histogramIntervalMs: 12 * 3_600_000, size: 1 }),
      );
      expect(result.histogram).toEqual([
        { time: MARCH_1, count: 1 },
        { time: MARCH_1 + 12 * 3_600_000, count: 1 },
        { time: MARCH_1 + DAY, count: 1 },
        { time: MARCH_1 + 36 * 3_600_000, count: 1 },
      ]);
      expect(result.total).toEqual({ value: 4, exact: true });
      expect(result.hits).toHaveLength(1);
      expect(result.next).toBeDefined();
    });

    it('keeps context to its own indices', async () => {
      const context = await s.store.context({ id: 'shop.web-1.106', before: 5, after: 1 });
      expect(context?.before.map((h) => h.id)).toEqual(['shop.web-1.6', 'shop.web-1.18']);
      expect(context?.after.map((h) => h.id)).toEqual(['shop.web-1.118']);
      expect(await s.store.context({ id: 'audit', before: 1, after: 1 })).toBeUndefined();
    });

    it('deletes whole days of its own pattern before the cutoff day', async () => {
      // A cutoff in the middle of day 3 keeps day 3.
      const deleted = await s.store.deleteBefore(MARCH_1 + 2 * DAY + 10 * 3_600_000);
      expect(deleted).toEqual([dayName(1), dayName(2)]);
      const left = Object.keys(await es.indices.get({ index: `${s.prefix}*` })).sort();
      expect(left).toEqual([dayName(3), dayName(4), dayName(5), `${s.prefix}audit-2024.03.02`]);
      expect(await s.store.deleteBefore(MARCH_1 + 2 * DAY)).toEqual([]);
      const result = await s.store.search(query({}));
      expect(result.total.value).toBe(6);
    });
  });

  describe('across midnight: two daily indices', () => {
    let s: Awaited<ReturnType<typeof openStore>>;
    const midnight = Date.UTC(2024, 4, 2);
    /** Offset → id; ids are random so their order is not the lines' order. */
    const ids = new Map<number, string>();

    beforeAll(async () => {
      s = await openStore('midnight');
      const records: LogRecord[] = [];
      // 3,000 lines of one stream, ten per millisecond, from 150 ms before midnight to 150 ms after.
      for (let i = 0; i < 3_000; i++) {
        const id = randomUUID();
        ids.set(i, id);
        records.push(record({ time: midnight - 150 + Math.floor(i / 10), offset: i, id }));
      }
      // The same moments in a neighbouring stream, which context must leave out.
      for (let i = 0; i < 3_000; i += 3) {
        records.push(record({ time: midnight - 150 + Math.floor(i / 10), offset: i, container: 'proxy' }));
      }
      await writeAll(s.store, records.reverse());
      await s.refresh();
    });

    it.each(['asc', 'desc'] as const)(
      'pages %s through 3,000 hits with no gap and no repeat',
      async (order) => {
        const filters = [{ field: 'kubernetes.container.name', values: ['app'] }];
        const seen: number[] = [];
        let after: SearchQuery['after'];
        let pages = 0;
        for (;;) {
          const page = await s.store.search(query({ filters, order, size: 250, after }));
          pages++;
          expect(page.total).toEqual({ value: 3_000, exact: true });
          seen.push(...page.hits.map((h) => h.sort[1]));
          if (!page.next) break;
          after = page.next;
        }
        expect(pages).toBe(12);
        const expected = Array.from({ length: 3_000 }, (_, i) => i);
        expect(seen).toEqual(order === 'asc' ? expected : expected.reverse());
      },
    );

    it("gives context that continues into the next day's index", async () => {
      // Line 1,495 is 1 ms before midnight; 1,500 is the first line of the next day.
      const context = await s.store.context({ id: ids.get(1_495)!, before: 20, after: 30 });
      expect(context?.before.map((h) => h.sort[1])).toEqual(Array.from({ length: 20 }, (_, i) => 1_475 + i));
      expect(context?.after.map((h) => h.sort[1])).toEqual(Array.from({ length: 30 }, (_, i) => 1_496 + i));
      expect(context?.after.map((h) => h.id)).toEqual(context?.after.map((h) => ids.get(h.sort[1])));
      expect(new Set(context?.after.map((h) => (h.doc['@timestamp'] as string).slice(0, 10)))).toEqual(
        new Set(['2024-05-01', '2024-05-02']),
      );
    });
  });

  it('matches a word the analyzer splits as a phrase, as typed', async () => {
    const { store, refresh } = await openStore('split');
    await writeAll(store, [
      record({ time: MARCH_1, offset: 0, message: 'foo-bar baz' }),
      record({ time: MARCH_1 + 1, offset: 1, message: 'bar then foo' }),
    ]);
    await refresh();
    const found = await store.search(query({ text: word('foo-bar') }));
    expect(found.hits.map((h) => h.doc.message)).toEqual(['foo-bar baz']);
  });
});

let contractStores = 0;
describeLogStoreContract(
  'elasticsearch',
  async () => {
    const { store, prefix, refresh } = await openStore(`contract${++contractStores}`);
    return {
      store,
      refresh: async () => {
        await refresh();
      },
      cleanup: async () => {
        await store.close();
        await es.indices.delete({ index: `${prefix}*`, ignore_unavailable: true, allow_no_indices: true });
      },
    };
  },
  // The 50,000 hits; past 10,000, so the total also has to say it stopped counting.
  { pagingLines: 50_000 },
);
