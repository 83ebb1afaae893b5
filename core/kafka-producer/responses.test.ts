import { describe, expect, it } from 'vitest';
import { FrameReader } from './frame-reader.ts';
import { metadataRequest } from './metadata.ts';
import { produceRequest } from './produce.ts';

/** Big-endian fields as a broker writes them: [bytes, value] pairs. */
function bytes(...fields: [1 | 2 | 4 | 8, number | bigint][]): Buffer {
  return Buffer.concat(
    fields.map(([size, value]) => {
      const buf = Buffer.alloc(size);
      if (size === 8) buf.writeBigInt64BE(BigInt(value));
      else buf.writeIntBE(Number(value), 0, size);
      return buf;
    }),
  );
}
const text = (value: string) => Buffer.concat([bytes([2, value.length]), Buffer.from(value)]);

describe('response parsing', () => {
  it('reads each partition of a produce answer with the broker reason, past per-record errors', () => {
    const answer = Buffer.concat([
      bytes([4, 1]),
      text('logs'),
      bytes([4, 2]),
      bytes([4, 0], [2, 0], [8, 41n], [8, -1n], [8, 0n], [4, 0], [2, -1]),
      bytes([4, 1], [2, 87], [8, -1n], [8, -1n], [8, 0n], [4, 1], [4, 3]),
      text('bad field'),
      text('One or more records have been rejected'),
      bytes([4, 0]),
    ]);
    const request = produceRequest('c', 1000, []);
    expect(request.read(new FrameReader(answer))).toEqual([
      { topic: 'logs', partition: 0, errorCode: 0, errorMessage: null },
      { topic: 'logs', partition: 1, errorCode: 87, errorMessage: 'One or more records have been rejected' },
    ]);
  });

  it('reads the brokers and the leader of each partition, listed in any order, -1 without one', () => {
    const partition = (index: number, leader: number) =>
      bytes([2, 0], [4, index], [4, leader], [4, 7], [4, 1], [4, leader], [4, 0], [4, 0]);
    const answer = Buffer.concat([
      bytes([4, 0], [4, 1], [4, 5]),
      text('kafka-5'),
      bytes([4, 9092], [2, -1]),
      text('cluster'),
      bytes([4, 5], [4, 2], [2, 0]),
      text('logs'),
      bytes([1, 0], [4, 3]),
      partition(2, 5),
      partition(0, 5),
      partition(1, -1),
      bytes([2, 5]),
      text('new'),
      bytes([1, 0], [4, 0]),
    ]);
    const metadata = metadataRequest('c', ['logs', 'new'], true).read(new FrameReader(answer));
    expect(metadata).toEqual({
      brokers: new Map([[5, { host: 'kafka-5', port: 9092 }]]),
      topics: [
        { name: 'logs', errorCode: 0, leaders: [5, -1, 5] },
        { name: 'new', errorCode: 5, leaders: [] },
      ],
    });
  });

  it('refuses an answer cut short', () => {
    expect(() => metadataRequest('c', [], false).read(new FrameReader(bytes([4, 0], [4, 3])))).toThrow(
      /ended early/,
    );
  });
});
