import { describe, expect, it } from 'vitest';
import { type RecordRules, readRecord } from './read-record.ts';

const RULES: RecordRules = {
  maxDepth: 64,
  maxFields: 1_000,
  maxMessageBytes: 1024 ** 2,
  maxFutureSkewMs: 3_600_000,
};
const NOW = Date.UTC(2026, 10, 23, 3, 0, 0);
const TIME = '2026-11-23T03:12:00.123Z';
const line = (doc: unknown) => Buffer.from(JSON.stringify(doc));
const read = (doc: unknown, rules = RULES) => readRecord(Buffer.isBuffer(doc) ? doc : line(doc), rules, NOW);

/** The document a store receives. */
function stored(doc: unknown, rules = RULES): Record<string, unknown> {
  const result = read(doc, rules);
  if (!result.ok) throw new Error(result.reason);
  return JSON.parse(result.record.doc.toString('utf8'));
}

describe('readRecord', () => {
  it('reads id, time and namespace from a sidecar record, nested or dotted', () => {
    expect(
      read({ '@timestamp': TIME, event: { id: 'abc-1' }, kubernetes: { namespace: 'shop' } }),
    ).toMatchObject({
      ok: true,
      record: { id: 'abc-1', time: Date.UTC(2026, 10, 23, 3, 12, 0, 123) },
      namespace: 'shop',
    });
    expect(read({ '@timestamp': TIME, 'event.id': 'x', 'kubernetes.namespace': 'shop' })).toMatchObject({
      ok: true,
      record: { id: 'x' },
      namespace: 'shop',
    });
    expect(read({ '@timestamp': TIME, 'event.id': 'x' })).toMatchObject({ ok: true, namespace: undefined });
  });

  it('reads a time without a zone as UTC, as the stores do', () => {
    expect(read({ '@timestamp': '2026-11-23T03:12:00.5', event: { id: 'a' } })).toMatchObject({
      record: { time: Date.UTC(2026, 10, 23, 3, 12, 0, 500) },
    });
  });

  it('explains what makes a record unstorable', () => {
    expect(read(Buffer.from('{"@timestamp":'))).toMatchObject({ ok: false, reason: /^not JSON/ });
    expect(read(Buffer.from('[1]'))).toMatchObject({ ok: false, reason: 'not a JSON object' });
    expect(read({ '@timestamp': TIME })).toMatchObject({ ok: false, reason: /event.id/ });
    expect(read({ '@timestamp': 'yesterday', event: { id: 'a' } })).toMatchObject({
      ok: false,
      reason: /@timestamp/,
    });
    expect(read({ '@timestamp': '2026-02-30T00:00:00Z', event: { id: 'a' } })).toMatchObject({ ok: false });
    expect(read({ '@timestamp': TIME, event: { id: 'a/../b' } })).toMatchObject({ ok: false });
    expect(read(Buffer.from([0xff, 0xfe, 0x00]))).toMatchObject({ ok: false });
  });

  it('refuses a namespace given both dotted and nested with different values, whatever the order', () => {
    const forged = { '@timestamp': TIME, event: { id: 'f' } };
    for (const doc of [
      { ...forged, 'kubernetes.namespace': 'team-b', kubernetes: { namespace: 'team-a' } },
      { ...forged, kubernetes: { namespace: 'team-a' }, 'kubernetes.namespace': 'team-b' },
      { ...forged, kubernetes: { namespace: 'team-a', 'pod.name': 'p' }, 'kubernetes.pod': { name: 'q' } },
    ]) {
      expect(read(doc)).toEqual({
        ok: false,
        reason: expect.stringMatching(/^field "kubernetes\.(namespace|pod\.name)"/),
      });
    }
  });

  it('refuses every field a store derives anything from when it is given twice or with the wrong type', () => {
    const base = { '@timestamp': TIME, event: { id: 'd' } };
    const refused: [Record<string, unknown>, RegExp][] = [
      [{ ...base, '@timestamp': TIME, '@timestamp.x': 1 }, /"@timestamp" is both an object and a value/],
      [{ ...base, 'event.id': 'other' }, /"event\.id" is given twice/],
      [{ ...base, message: 'a', 'message.text': 'b' }, /"message" is both an object and a value/],
      [{ ...base, log: { offset: 1 }, 'log.offset': 2 }, /"log\.offset" is given twice/],
      [{ ...base, log: { file: { path: '/a' } }, 'log.file.path': '/b' }, /"log\.file\.path" is given twice/],
      [
        { ...base, kubernetes: 'shop', 'kubernetes.namespace': 'x' },
        /"kubernetes" is both an object and a value/,
      ],
      [
        { ...base, kubernetes: { namespace: ['team-a', 'team-b'] } },
        /"kubernetes\.namespace" must be a string/,
      ],
      [{ ...base, kubernetes: [{ namespace: 'team-a' }] }, /"kubernetes" must be an object/],
      [{ ...base, log: { offset: '12' } }, /"log\.offset" must be a number/],
      [{ ...base, log: { offset: 1.5 } }, /"log\.offset" must be a whole number/],
      [{ ...base, lookout: 'x' }, /"lookout" must be an object/],
      [{ ...base, 'a..b': 1 }, /"a\.\.b" has an empty part/],
      [{ ...base, '': 1 }, /"" has an empty part/],
    ];
    for (const [doc, reason] of refused)
      expect(read(doc), JSON.stringify(doc)).toEqual({ ok: false, reason: expect.stringMatching(reason) });
  });

  it('stores the document it checked: dotted names expanded, objects merged, a value given twice alike kept once', () => {
    const doc = stored({
      '@timestamp': TIME,
      event: { id: 'c' },
      kubernetes: { namespace: 'shop' },
      'kubernetes.namespace': 'shop',
      'kubernetes.pod.name': 'order-1',
      'user.id': 7,
      user: { name: 'ann' },
      items: [{ 'sku.id': 'a' }],
    });
    expect(doc).toEqual({
      '@timestamp': TIME,
      event: { id: 'c' },
      kubernetes: { namespace: 'shop', pod: { name: 'order-1' } },
      user: { id: 7, name: 'ann' },
      items: [{ sku: { id: 'a' } }],
    });
  });

  it('keeps a field named __proto__ as a field', () => {
    const text = `{"@timestamp":"${TIME}","event":{"id":"p"},"__proto__":{"x":1},"a.__proto__":2}`;
    const result = read(Buffer.from(text));
    expect(result.ok && result.record.doc.toString()).toBe(
      `{"@timestamp":"${TIME}","event":{"id":"p"},"__proto__":{"x":1},"a":{"__proto__":2}}`,
    );
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('keeps a line nested 100,000 deep as a plain message with the owned fields, without parsing its depth', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const text = `{"@timestamp":"${TIME}","event":{"id":"deep"},"kubernetes":{"namespace":"shop"},"x":${deep}}`;
    const result = read(Buffer.from(text));
    expect(result).toMatchObject({ ok: true, namespace: 'shop', record: { id: 'deep' } });
    const doc = JSON.parse(result.ok ? result.record.doc.toString() : '{}');
    expect(doc).toEqual({
      '@timestamp': TIME,
      event: { id: 'deep' },
      kubernetes: { namespace: 'shop' },
      message: text,
      lookout: { parse_error: 'kept as text: nested deeper than 64 levels' },
    });
  });

  it('keeps a record with too many fields, or dotted names too deep, as a plain message', () => {
    const wide: Record<string, unknown> = { '@timestamp': TIME, event: { id: 'wide' }, message: 'hello' };
    for (let i = 0; i < 1_000; i++) wide[`f${i}`] = i;
    expect(stored(wide)).toEqual({
      '@timestamp': TIME,
      event: { id: 'wide' },
      message: JSON.stringify(wide),
      lookout: { parse_error: 'kept as text: more than 1000 fields' },
    });
    const dotted = { '@timestamp': TIME, event: { id: 'dots' }, [`${'x.'.repeat(70)}y`]: 1 };
    expect(stored(dotted)).toMatchObject({
      lookout: { parse_error: 'kept as text: nested deeper than 64 levels' },
    });
  });

  it('refuses a record beyond the limits when the fields Lookout owns are beyond them too', () => {
    const labels: Record<string, string> = {};
    for (let i = 0; i < 1_000; i++) labels[`l${i}`] = 'x';
    expect(read({ '@timestamp': TIME, event: { id: 'l' }, kubernetes: { labels } })).toEqual({
      ok: false,
      reason: 'the fields Lookout owns are more than 1000 fields',
    });
  });

  it('refuses a forged namespace in a record kept as a plain message too', () => {
    const text = `{"@timestamp":"${TIME}","event":{"id":"f"},"kubernetes.namespace":"team-b","kubernetes":{"namespace":"team-a"},"x":${'['.repeat(100)}${']'.repeat(100)}}`;
    expect(read(Buffer.from(text))).toMatchObject({
      ok: false,
      reason: /"kubernetes\.namespace" is given twice/,
    });
  });

  it('cuts a message longer than the limit on a character boundary and flags it', () => {
    const base = { '@timestamp': TIME, event: { id: 'big' } };
    const rules = { ...RULES, maxMessageBytes: 10 };
    expect(stored({ ...base, message: 'abcdefgh€€' }, rules)).toEqual({
      ...base,
      message: 'abcdefgh',
      lookout: { truncated: true },
    });
    expect(stored({ ...base, message: 'abcdefg€' }, rules)).toEqual({ ...base, message: 'abcdefg€' });
    const huge = stored({ ...base, message: '界'.repeat(4 * 1024 ** 2), lookout: { parse_error: 'kept' } });
    expect(Buffer.byteLength(huge.message as string)).toBe(1024 ** 2 - 1);
    expect(huge.lookout).toEqual({ parse_error: 'kept', truncated: true });
  });

  it('replaces a time more than the skew ahead by the receive time, keeping the original', () => {
    const soon = new Date(NOW + 3_600_000).toISOString();
    expect(stored({ '@timestamp': soon, event: { id: 's' } })).toEqual({
      '@timestamp': soon,
      event: { id: 's' },
    });
    const result = read({ '@timestamp': '2248-06-01T00:00:00+08:00', event: { id: 'f' } });
    expect(result).toMatchObject({ ok: true, record: { time: NOW } });
    expect(stored({ '@timestamp': '2248-06-01T00:00:00+08:00', event: { id: 'f' } })).toEqual({
      '@timestamp': new Date(NOW).toISOString(),
      event: { id: 'f' },
      lookout: { original_timestamp: '2248-06-01T00:00:00+08:00' },
    });
  });

  it('keeps the owned fields of a record found too wide after dotted names were merged', () => {
    const doc: Record<string, unknown> = {
      '@timestamp': TIME,
      event: { id: 'm' },
      log: { file: { path: '/a' } },
    };
    doc['log.tags'] = ['x'];
    for (let i = 0; i < 1_000; i++) doc[`f${i}`] = i;
    expect(stored(doc)).toMatchObject({
      log: { file: { path: '/a' }, tags: ['x'] },
      lookout: { parse_error: 'kept as text: more than 1000 fields' },
    });
  });
});
