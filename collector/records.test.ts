import { describe, expect, it } from 'vitest';
import { RECORD_HEADER, recordHeaders } from '../core/record/headers.ts';
import { collectorSchema } from './config.ts';
import { kafkaRecord, recordFromHeader, recordRules } from './records.ts';

const RULES = recordRules(collectorSchema.parse({}).records);
const NOW = Date.UTC(2026, 10, 23, 3, 0, 0);
const HOUR = 3_600_000;

describe('recordFromHeader', () => {
  const doc = Buffer.from('{"not":"parsed"}');
  const header = (text: string) => Buffer.from(text, 'latin1');

  it('takes id and time from the header the sidecar writes, without parsing the document', () => {
    const headers = [...recordHeaders('AbC_12-x', 1_700_000_000_123)];
    expect(headers.map(([key]) => key.toString())).toEqual([RECORD_HEADER]);
    expect(recordFromHeader(doc, headers[0]?.[1], NOW)).toEqual({
      id: 'AbC_12-x',
      time: 1_700_000_000_123,
      doc,
    });
  });

  it('leaves records with a missing or malformed header, or a time past the latest allowed, to the parser', () => {
    expect(recordFromHeader(doc, undefined, NOW)).toBeUndefined();
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
      `${NOW + 1} id`,
    ]) {
      expect(recordFromHeader(doc, header(bad), NOW), bad).toBeUndefined();
    }
  });
});

describe('kafkaRecord', () => {
  const record = (time: string) =>
    Buffer.from(JSON.stringify({ '@timestamp': time, message: 'm', event: { id: 'k1' } }));
  const headerFor = (time: number) => [...recordHeaders('k1', time)][0]![1];

  it('stores a record with a sane header time as it came', () => {
    const doc = record(new Date(NOW + HOUR).toISOString());
    expect(kafkaRecord(doc, headerFor(NOW + HOUR), RULES, NOW)).toEqual({ id: 'k1', time: NOW + HOUR, doc });
  });

  it('replaces a time more than the skew ahead by the receive time, in the header or in the document', () => {
    const future = '2248-01-01T00:00:00.000Z';
    for (const header of [headerFor(Date.parse(future)), undefined]) {
      const read = kafkaRecord(record(future), header, RULES, NOW);
      expect(read).toMatchObject({ id: 'k1', time: NOW });
      expect(JSON.parse((read as { doc: Buffer }).doc.toString())).toEqual({
        '@timestamp': new Date(NOW).toISOString(),
        message: 'm',
        event: { id: 'k1' },
        lookout: { original_timestamp: future },
      });
    }
  });

  it('says why a record without a good header cannot be stored', () => {
    expect(kafkaRecord(Buffer.from('{"not":"parsed"}'), undefined, RULES, NOW)).toMatch(/event.id/);
  });
});
