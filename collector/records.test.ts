import { describe, expect, it } from 'vitest';
import { RECORD_HEADER, recordHeaders } from '../core/record/headers.ts';
import { recordFromHeader } from './records.ts';

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
