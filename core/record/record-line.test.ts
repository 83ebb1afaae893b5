import { describe, expect, it } from 'vitest';
import { recordHeaderValue } from './headers.ts';
import { docLength, RecordLine, readEpochMs } from './record-line.ts';

const line = (text: string) => {
  const bytes = Buffer.from(`junk\n${text}\nmore`);
  return RecordLine.read(bytes, 5, 5 + Buffer.byteLength(text));
};

describe('RecordLine', () => {
  it('reads id, time and document in place, and writes its header value as recordHeaderValue spells it', () => {
    const record = line('abc-1z\t1700000000123\t{"message":"é\\t"}')!;
    expect(record).toMatchObject({ id: 'abc-1z', time: 1_700_000_000_123 });
    expect(record.doc.toString()).toBe('{"message":"é\\t"}');
    expect(record.doc).toBe(record.doc);
    expect(docLength(record)).toBe(record.doc.length);
    const out = Buffer.alloc(64, 0xff);
    const end = record.writeDoc(out, 3);
    expect(out.subarray(3, end).toString()).toBe('{"message":"é\\t"}');
    const value = Buffer.alloc(record.timeAndIdLength);
    expect(record.writeTimeAndId(value, 0)).toBe(value.length);
    expect(value.toString()).toBe(recordHeaderValue('abc-1z', 1_700_000_000_123));
  });

  it('reads every time String() may write', () => {
    for (const time of [0, -5, 1.5, 1e21, 1_234_567_890_123_456, Number.MAX_SAFE_INTEGER]) {
      expect(line(`id\t${time}\t{}`)?.time).toBe(time);
    }
  });

  it('refuses a line that is not id, time and document', () => {
    for (const text of ['id-only', 'id\t123', 'id\t\t{}', 'id\tNaN\t{}', 'id\tInfinity\t{}', 'id\t12x\t{}']) {
      expect(line(text)).toBeUndefined();
    }
    expect(line('\t1\t')).toMatchObject({ id: '', time: 1 });
  });
});

describe('readEpochMs', () => {
  const read = (text: string) => readEpochMs(Buffer.from(text), 0, text.length);
  it('reads plain digits up to 15 of them, and nothing else', () => {
    expect(read('0')).toBe(0);
    expect(read('999999999999999')).toBe(999_999_999_999_999);
    for (const text of ['', '1000000000000000', '-1', '1.5', '1e3', ' 1']) expect(read(text)).toBeUndefined();
  });
});
