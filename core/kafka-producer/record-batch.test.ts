import { describe, expect, it } from 'vitest';
import { recordHeaderValue } from '../record/headers.ts';
import type { LogRecord } from '../record/log-record.ts';
import { RecordLine } from '../record/record-line.ts';
import { decodeRecordBatch } from './fixtures/record-batch-decoder.ts';
import {
  BATCH_HEADER_BYTES,
  type Compression,
  encodeBatch,
  encodeRecords,
  type RecordRun,
  recordBytes,
  writeBatchHeader,
} from './record-batch.ts';

const record = (n: number, size = 20): LogRecord => ({
  id: `id-${n}`,
  time: 1_700_000_000_000 + n,
  doc: Buffer.from(`{"n":${n},"pad":"${'é'.repeat(size)}"}`),
});

async function batchOf(runs: RecordRun[], compression: Compression) {
  const encoded = await encodeBatch(runs, compression, 1_750_000_000_123);
  const header = Buffer.alloc(BATCH_HEADER_BYTES);
  writeBatchHeader(header, 0, encoded, { producerId: 4_000_000_001n, producerEpoch: 3, baseSequence: 77 });
  return decodeRecordBatch(Buffer.concat([header, encoded.payload]));
}

describe('record batches', () => {
  it.each(['none', 'gzip'] as const)(
    'hold every record with its key, value and header (%s)',
    async (compression) => {
      const first = Array.from({ length: 3 }, (_, n) => record(n));
      const second = Array.from({ length: 300 }, (_, n) => record(100 + n, n));
      const batch = await batchOf(
        [
          { key: Buffer.from('ns/pod-a'), records: first, from: 1, to: 3 },
          { key: Buffer.from('ns/pod-b'), records: second, from: 0, to: 300 },
        ],
        compression,
      );
      expect(batch).toMatchObject({
        baseOffset: 0n,
        partitionLeaderEpoch: -1,
        magic: 2,
        compression: compression === 'gzip' ? 1 : 0,
        lastOffsetDelta: 301,
        baseTimestamp: 1_750_000_000_123n,
        maxTimestamp: 1_750_000_000_123n,
        producerId: 4_000_000_001n,
        producerEpoch: 3,
        baseSequence: 77,
      });
      expect(batch.records).toHaveLength(302);
      const expected = [...first.slice(1), ...second].map((r, n) => ({
        offsetDelta: n,
        timestampDelta: 0,
        key: n < 2 ? 'ns/pod-a' : 'ns/pod-b',
        value: r.doc.toString(),
        headers: [['lookout-record', `${r.time} ${r.id}`]],
      }));
      expect(batch.records).toEqual(expected);
    },
  );

  it('writes the header value as recordHeaderValue spells it, for any time', async () => {
    const times = [0, 9, 10, 1_700_000_000_000, Number.MAX_SAFE_INTEGER, -5, 1.5, 1e300];
    const records = times.map((time, n) => ({
      id: n % 2 ? `id-${n}` : `ïd-${n}`,
      time,
      doc: Buffer.from('{}'),
    }));
    const batch = await batchOf([{ key: Buffer.from('k'), records, from: 0, to: records.length }], 'none');
    expect(batch.records.map((r) => r.headers[0]![1])).toEqual(
      records.map((r) => recordHeaderValue(r.id, r.time)),
    );
  });

  it('encodes records read in place from their lines exactly as the same records given whole', async () => {
    const times = [0, 1_700_000_000_000, Number.MAX_SAFE_INTEGER, -5, 1.5, 1e300];
    const records = times.map((time, n) => ({
      id: `ïd-${n}`,
      time,
      doc: Buffer.from(`{"n":${n},"é":"\\t"}`),
    }));
    const text = Buffer.from(records.map((r) => `${r.id}\t${r.time}\t${r.doc}`).join('\n'));
    const lines: RecordLine[] = [];
    for (let start = 0; start < text.length; ) {
      const end = text.indexOf('\n', start) < 0 ? text.length : text.indexOf('\n', start);
      lines.push(RecordLine.read(text, start, end)!);
      start = end + 1;
    }
    const key = Buffer.from('ns/pod');
    const whole = await batchOf([{ key, records, from: 0, to: records.length }], 'none');
    const inPlace = await batchOf([{ key, records: lines, from: 0, to: lines.length }], 'none');
    expect(inPlace).toEqual(whole);
    const run = { key, records: lines, from: 0, to: lines.length };
    expect(encodeRecords([run]).bytes.length).toBeLessThanOrEqual(
      lines.reduce((sum, l) => sum + recordBytes(l, key), 0),
    );
  });

  it('stays within the size bound it sizes batches by', () => {
    const key = Buffer.from('k');
    const records = [record(1, 0), record(2, 5_000)];
    const run = { key, records, from: 0, to: 2 };
    const { bytes, count } = encodeRecords([run]);
    expect(count).toBe(2);
    expect(bytes.length).toBeLessThanOrEqual(records.reduce((sum, r) => sum + recordBytes(r, key), 0));
  });
});
