import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, facetQuery, facetsOf, groupByOf, searchQueryOf } from './request.ts';

const admin = { name: 'admin', role: 'admin' as const };
const shopOnly = { name: 'shop-dev', role: 'viewer' as const, namespaces: ['shop'] };
const limits = { maxPageSize: 1000, maxFilterValues: 256 };
const now = Date.UTC(2026, 10, 23, 3, 12);

describe('searchQueryOf', () => {
  it('reads time range, text, filters, order, size and histogram', () => {
    const q = searchQueryOf(
      {
        from: 'now-1h',
        q: 'timeout -debug',
        namespace: 'shop,pay',
        pod: ['order-1', 'order-2'],
        'f.http.status': '500',
        order: 'asc',
        size: '50',
        histogram: '1m',
      },
      admin,
      limits,
      now,
    );
    expect(q).toMatchObject({
      from: now - 3_600_000,
      to: now,
      order: 'asc',
      size: 50,
      histogramIntervalMs: 60_000,
      filters: [
        { field: 'kubernetes.namespace', values: ['shop', 'pay'] },
        { field: 'kubernetes.pod.name', values: ['order-1', 'order-2'] },
        { field: 'http.status', values: ['500'] },
      ],
    });
    expect(q.text).toEqual({
      kind: 'and',
      children: [
        { kind: 'word', value: 'timeout' },
        { kind: 'not', child: { kind: 'word', value: 'debug' } },
      ],
    });
    expect(q.namespaces).toBeUndefined();
  });

  it('bounds a scoped token to its namespaces and refuses others by name', () => {
    expect(searchQueryOf({}, shopOnly, limits, now).namespaces).toEqual(['shop']);
    expect(() => searchQueryOf({ namespace: 'kube-system' }, shopOnly, limits, now)).toThrow(/may not read/);
    // A namespace named in the query is one more condition on the lines, inside the scope.
    const asked = searchQueryOf({ q: 'kubernetes.namespace:kube-system' }, shopOnly, limits, now);
    expect(asked.namespaces).toEqual(['shop']);
    expect(asked.text).toEqual({ kind: 'field', field: 'kubernetes.namespace', value: 'kube-system' });
  });

  it('refuses what it cannot read, with the reason', () => {
    expect(() => searchQueryOf({ from: 'now', to: 'now-1h' }, admin, limits, now)).toThrow(/before/);
    expect(() => searchQueryOf({ size: '5000' }, admin, limits, now)).toThrow(/size/);
    expect(() => searchQueryOf({ q: '"open' }, admin, limits, now)).toThrow(/q: .*closing quote/);
    expect(() => searchQueryOf({ q: 'log.offset:5' }, admin, limits, now)).toThrow(/q: .*f\.log\.offset=/);
    expect(() => searchQueryOf({ 'f.a b': 'x' }, admin, limits, now)).toThrow(/field name/);
    expect(() => searchQueryOf({ cursor: 'garbage' }, admin, limits, now)).toThrow(/cursor/);
    const cursor = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');
    expect(() => searchQueryOf({ cursor: cursor([1e308, 0, 'x']) }, admin, limits, now)).toThrow(/cursor/);
    expect(() => searchQueryOf({ cursor: cursor([now, 0.5, 'x']) }, admin, limits, now)).toThrow(/cursor/);
    const many = Array.from({ length: 257 }, (_, i) => `p${i}`);
    expect(() => searchQueryOf({ pod: many.join(',') }, admin, limits, now)).toThrow(/at most 256 values/);
    expect(searchQueryOf({ pod: many.slice(1) }, admin, limits, now).filters[0]!.values).toHaveLength(256);
    expect(() => searchQueryOf({ from: 'now-30d', histogram: '1s' }, admin, limits, now)).toThrow(/buckets/);
  });

  it('round-trips cursors', () => {
    expect(decodeCursor(encodeCursor([now, 42, 'id-1']))).toEqual([now, 42, 'id-1']);
  });
});

describe('facets', () => {
  it('counts the filters by their short names or any field by its dotted name, a few at a time', () => {
    expect(facetsOf({ field: ['namespace', 'level', 'http.status'] })).toEqual({
      fields: [
        { name: 'namespace', field: 'kubernetes.namespace' },
        { name: 'level', field: 'log.level' },
        { name: 'http.status', field: 'http.status' },
      ],
      top: 20,
    });
    expect(() => facetsOf({})).toThrow(/name the fields/);
    expect(() => facetsOf({ field: 'message' })).toThrow(/nothing to count/);
    expect(() => facetsOf({ field: 'a b' })).toThrow(/not a field name/);
    expect(() => facetsOf({ field: Array.from({ length: 9 }, (_, i) => `f${i}`) })).toThrow(/at most 8/);
    expect(() => facetsOf({ field: 'pod', top: '0' })).toThrow(/top must be/);
  });

  it('counts a field over the search without its own filter, and the namespace over every namespace the token may read', () => {
    const query = searchQueryOf({ namespace: 'shop', pod: 'web-1', level: 'error' }, shopOnly, limits, now);
    const pods = facetQuery(query, 'kubernetes.pod.name', shopOnly);
    expect(pods.filters.map((f) => f.field)).toEqual(['kubernetes.namespace', 'log.level']);
    expect(pods.namespaces).toEqual(['shop']);
    const namespaces = facetQuery(query, 'kubernetes.namespace', shopOnly);
    expect(namespaces.filters.map((f) => f.field)).toEqual(['kubernetes.pod.name', 'log.level']);
    expect(namespaces.namespaces).toEqual(['shop']);
    const everyNamespace = facetQuery(
      searchQueryOf({ namespace: 'shop' }, admin, limits, now),
      'kubernetes.namespace',
      admin,
    );
    expect(everyNamespace.namespaces).toBeUndefined();
    expect(everyNamespace.filters).toEqual([]);
  });
});

describe('groupByOf', () => {
  it('reads the fields to group counts by and how many groups to list, within the limit', () => {
    expect(groupByOf({ groupBy: ['namespace', 'service.name'], maxGroups: '10' }, 1000)).toEqual({
      fields: [
        { name: 'namespace', field: 'kubernetes.namespace' },
        { name: 'service.name', field: 'service.name' },
      ],
      maxGroups: 10,
    });
    expect(groupByOf({}, 1000)).toEqual({ fields: [], maxGroups: 1000 });
    expect(() => groupByOf({ groupBy: 'event.id' }, 1000)).toThrow(/nothing to group by/);
    expect(() => groupByOf({ groupBy: 'a b' }, 1000)).toThrow(/not a field name/);
    expect(() => groupByOf({ groupBy: ['a', 'b', 'c', 'd', 'e'] }, 1000)).toThrow(/at most 4 fields/);
    expect(() => groupByOf({ maxGroups: '1001' }, 1000)).toThrow(/from 1 to 1000/);
  });
});
