import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import './kafka-client.ts';
import { decodeKafkaRecord, KAFKAJS_RECORD_DECODER } from './kafka-record-decoder.ts';

// kafkajs's internals, to write records as a broker sends them and to read them as kafkajs would.
const require = createRequire(import.meta.url);
const Encoder = require('kafkajs/src/protocol/encoder.js');
const Decoder = require('kafkajs/src/protocol/decoder.js');
const Long = require('kafkajs/src/utils/long.js');
const { RecordBatch: encodeBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js');
const kafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js');
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js');
const { Types: Compression } = require('kafkajs/src/protocol/message/compression/index.js');

/** kafkajs's own record decoder, compiled from its file: the module cache now holds ours. */
function kafkajsDecoder(): typeof decodeKafkaRecord {
  const module = { exports: {} };
  new Function('require', 'module', 'exports', readFileSync(KAFKAJS_RECORD_DECODER, 'utf8'))(
    createRequire(KAFKAJS_RECORD_DECODER),
    module,
    module.exports,
  );
  return module.exports as typeof decodeKafkaRecord;
}

interface RecordSpec {
  offsetDelta: number;
  /** A number, or a decimal string for deltas past 2^53. */
  timestampDelta: number | string;
  key: Buffer | null;
  value: Buffer | null;
  headers: [string, Buffer | null][];
}

/** One record as it sits in a record batch: its length, then its body. */
function encodeRecord(spec: RecordSpec) {
  const body = new Encoder()
    .writeInt8(0)
    .writeVarLong(Long.fromValue(spec.timestampDelta))
    .writeVarInt(spec.offsetDelta)
    .writeVarIntBytes(spec.key)
    .writeVarIntBytes(spec.value)
    .writeVarInt(spec.headers.length);
  for (const [name, value] of spec.headers) body.writeVarIntString(name).writeVarIntBytes(value);
  return new Encoder().writeVarInt(body.buffer.length).writeBuffer(body.buffer);
}

/** The record's bytes as kafkajs hands them to a record decoder. */
function recordBytes(spec: RecordSpec) {
  return () => new Decoder(new Decoder(encodeRecord(spec).buffer).readVarIntBytes());
}

const context = (fields: Record<string, unknown>) => ({
  firstOffset: '0',
  firstTimestamp: '1700000000000',
  maxTimestamp: '1700000009999',
  timestampType: 0,
  magicByte: 2,
  isControlBatch: false,
  ...fields,
});

const spec = (fields: Partial<RecordSpec>): RecordSpec => ({
  offsetDelta: 0,
  timestampDelta: 0,
  key: null,
  value: null,
  headers: [],
  ...fields,
});

/** A generator with a seed, so that a failure can be run again. */
function random(seed: number) {
  let state = seed;
  return (below: number) => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return Math.floor((state / 2 ** 31) * below);
  };
}

describe('kafka record decoder', () => {
  const theirs = kafkajsDecoder();

  it('is the decoder the collector’s kafkajs reads records with', async () => {
    expect(require.cache[KAFKAJS_RECORD_DECODER]?.exports).toBe(decodeKafkaRecord);
    const records = [0, 1, 2].map((i) => ({
      offsetDelta: i,
      timestampDelta: i * 10,
      key: Buffer.from('shop/order-7f9c'),
      value: Buffer.from(`{"n":${i}}`),
      headers: { 'lookout-record': `${1_700_000_000_000 + i * 10} id-${i}` },
    }));
    const batch = await encodeBatch({
      compression: Compression.GZIP,
      firstOffset: Long.fromString('41'),
      firstTimestamp: 1_700_000_000_000,
      maxTimestamp: 1_700_000_000_020,
      lastOffsetDelta: 2,
      records: records.map(kafkajsRecord),
    });
    const decoded = await decodeBatch(new Decoder(batch.buffer));
    expect(
      decoded.records.map((r: ReturnType<typeof decodeKafkaRecord>) => ({
        offset: r.offset,
        timestamp: r.timestamp,
        value: r.value?.toString(),
        header: r.headers['lookout-record']?.toString(),
      })),
    ).toEqual([
      { offset: '41', timestamp: '1700000000000', value: '{"n":0}', header: '1700000000000 id-0' },
      { offset: '42', timestamp: '1700000000010', value: '{"n":1}', header: '1700000000010 id-1' },
      { offset: '43', timestamp: '1700000000020', value: '{"n":2}', header: '1700000000020 id-2' },
    ]);
  });

  const cases: [string, RecordSpec, ReturnType<typeof context>][] = [
    ['an empty record', spec({}), context({})],
    [
      'key, value and one header',
      spec({
        offsetDelta: 7,
        timestampDelta: 1234,
        key: Buffer.from('shop/order-7f9c'),
        value: Buffer.from('{"message":"hello"}'),
        headers: [['lookout-record', Buffer.from('1700000001234 abc')]],
      }),
      context({}),
    ],
    [
      'a header repeated, a null header value, a non-ASCII header name',
      spec({
        headers: [
          ['a', Buffer.from('1')],
          ['ключ', Buffer.from('значение')],
          ['a', null],
          ['a', Buffer.from('3')],
          ['empty', Buffer.alloc(0)],
        ],
      }),
      context({}),
    ],
    ['a negative timestamp delta', spec({ timestampDelta: -5000 }), context({})],
    ['no timestamp (-1)', spec({ timestampDelta: 0 }), context({ firstTimestamp: '-1' })],
    [
      'the largest 32-bit offset delta',
      spec({ offsetDelta: 2 ** 31 - 1 }),
      context({ firstOffset: '123456789' }),
    ],
    ['offsets across 2^53', spec({ offsetDelta: 9 }), context({ firstOffset: '9007199254740990' })],
    [
      'a first offset a double cannot hold',
      spec({ offsetDelta: 3 }),
      context({ firstOffset: '9007199254740993' }),
    ],
    [
      'offsets near the end of int64',
      spec({ offsetDelta: 7 }),
      context({ firstOffset: '9223372036854775800' }),
    ],
    ['a 49-bit timestamp delta', spec({ timestampDelta: 2 ** 48 + 3 }), context({})],
    ['a 64-bit timestamp delta', spec({ timestampDelta: '4611686018427387904' }), context({})],
    ['the smallest timestamp delta', spec({ timestampDelta: '-9223372036854775808' }), context({})],
    ['log append time', spec({ timestampDelta: 99 }), context({ timestampType: 1 })],
    ['a control batch', spec({ offsetDelta: 1 }), context({ isControlBatch: true })],
  ];

  it.each(cases)('reads %s as kafkajs does', (_name, record, batch) => {
    const bytes = recordBytes(record);
    expect(decodeKafkaRecord(bytes(), batch)).toEqual(theirs(bytes(), batch));
  });

  it('keeps headers named like properties of every object as plain headers', () => {
    const names = ['__proto__', 'toString', 'constructor'];
    const read = recordBytes(spec({ headers: names.map((name) => [name, Buffer.from(name)]) }));
    const { headers } = decodeKafkaRecord(read(), context({}));
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.keys(headers)).toEqual(names);
    for (const name of names)
      expect(Object.getOwnPropertyDescriptor(headers, name)?.value).toEqual(Buffer.from(name));
  });

  it('reads random records as kafkajs does', () => {
    const next = random(20_261_130);
    const bytes = (length: number) => Buffer.from(Array.from({ length }, () => next(256)));
    let batch = context({});
    for (let i = 0; i < 500; i++) {
      // A new context every few records, as every batch brings its own.
      if (i % 10 === 0) {
        batch = context({
          firstOffset: String(next(2 ** 31) * 1_000),
          firstTimestamp: String(1_700_000_000_000 + i),
        });
      }
      const record = spec({
        offsetDelta: next(100_000),
        timestampDelta: next(2) === 0 ? next(1_000_000) : -next(1_000_000),
        key: next(4) === 0 ? null : bytes(next(40)),
        value: next(8) === 0 ? null : bytes(next(600)),
        headers: Array.from({ length: next(4) }, () => [
          `h${next(3)}`,
          next(5) === 0 ? null : bytes(next(50)),
        ]),
      });
      const read = recordBytes(record);
      expect(decodeKafkaRecord(read(), batch)).toEqual(theirs(read(), batch));
    }
  });
});
