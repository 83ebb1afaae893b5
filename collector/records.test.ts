import { describe, expect, it } from 'vitest';
import { RECORD_HEADER, recordHeaders } from '../core/record-headers.ts';
import { parseRecord, recordFromHeader } from './records.ts';

const record = (doc: unknown) => Buffer.from(JSON.stringify(doc));

describe('parseRecord', () => {
  it('reads id, time and namespace from a sidecar record, nested or dotted', () => {
    const nested = parseRecord(
      record({
        '@timestamp': '2026-11-23T03:12:00.123Z',
        event: { id: 'abc-1' },
        kubernetes: { namespace: 'shop' },
      }),
    );
    expect(nested).toMatchObject({
      ok: true,
      record: { id: 'abc-1', time: Date.UTC(2026, 10, 23, 3, 12, 0, 123) },
      namespace: 'shop',
    });
    expect(parseRecord(record({ '@timestamp': '2026-11-23T03:12:00Z', 'event.id': 'x' }))).toMatchObject({
      ok: true,
      namespace: undefined,
    });
  });

  it('reads a time without a zone as UTC, as the stores do', () => {
    expect(parseRecord(record({ '@timestamp': '2026-11-23T03:12:00.5', event: { id: 'a' } }))).toMatchObject({
      record: { time: Date.UTC(2026, 10, 23, 3, 12, 0, 500) },
    });
  });

  it('explains what makes a record unstorable', () => {
    expect(parseRecord(Buffer.from('{"@timestamp":'))).toMatchObject({ ok: false, reason: /^not JSON/ });
    expect(parseRecord(Buffer.from('[1]'))).toMatchObject({ ok: false, reason: 'not a JSON object' });
    expect(parseRecord(record({ '@timestamp': '2026-11-23T03:12:00Z' }))).toMatchObject({
      ok: false,
      reason: /event.id/,
    });
    expect(parseRecord(record({ '@timestamp': 'yesterday', event: { id: 'a' } }))).toMatchObject({
      ok: false,
      reason: /@timestamp/,
    });
    expect(
      parseRecord(record({ '@timestamp': '2026-11-23T03:12:00Z', event: { id: 'a/../b' } })),
    ).toMatchObject({
      ok: false,
    });
    expect(parseRecord(Buffer.from([0xff, 0xfe, 0x00]))).toMatchObject({ ok: false });
  });
});

describe('recordFromHeader', () => {
  const doc = Buffer.from('{"not":"parsed"}');
  const header = (text: string) => Buffer.from(text, 'latin1');

  it('takes id and time from the header the sidecar writes, without parsing the document', () => {
    const headers = [...recordHeaders('AbC_12-x', 1_700_000_000_123)];
    expect(headers.map(([key]) => key.toString())).toEqual([RECORD_HEADER]);
    expect(recordFromHeader(doc, headers[0]?.[1])).toEqual({ id: 'AbC_12-x', time: 1_700_000_000_123, doc });
  });

  it('leaves records with a missing or malformed header to the parser', () => {
    expect(recordFromHeader(doc, undefined)).toBeUndefined();
    for (const bad of [
      '',
      '1700000000123',
      '1700000000123 ',
      ' id',
      'yesterday id',
      '1.5 id',
      '-1 id',
      '1700000000123 has space',
      '1700000000123 a/../b',
      '1700000000123 caf\xe9',
      '9999999999999999 id',
    ]) {
      expect(recordFromHeader(doc, header(bad)), bad).toBeUndefined();
    }
  });
});
