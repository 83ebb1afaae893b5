import {
  ConnectionPool,
  type Consumer,
  IS_CONTROL,
  type KafkaRecord,
  ResponseError,
} from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { PartitionReader } from './partition-reader.ts';

type Fetch = (request: { fetchOffset: bigint; partition: number }[]) => Promise<unknown>;

function record(offsetDelta: number, value: string): KafkaRecord {
  return {
    length: 0,
    attributes: 0,
    timestampDelta: 0n,
    offsetDelta,
    key: null,
    value: Buffer.from(value),
    headers: [],
  };
}

function batch(firstOffset: bigint, values: string[], attributes = 0) {
  return {
    firstOffset,
    lastOffsetDelta: values.length - 1,
    attributes,
    partitionLeaderEpoch: 7,
    records: values.map((v, i) => record(i, v)),
  };
}

function answer(partition: number, records: unknown[], extra: Record<string, unknown> = {}) {
  return {
    responses: [
      {
        topicId: 'id-logs',
        partitions: [{ partitionIndex: partition, errorCode: 0, highWatermark: 100n, records, ...extra }],
      },
    ],
  };
}

/** A client whose group gave this member partitions 0 and 1 of `logs`; only partition 0 has a commit, at 10. */
function fakeConsumer(fetch: Fetch) {
  const asked: bigint[][] = [];
  const maxBytes: number[] = [];
  const consumer = {
    assignments: [{ topic: 'logs', partitions: [0, 1] }],
    listCommittedOffsets: async () => new Map([['logs', [10n, -1n]]]),
    listOffsets: async ({ timestamp }: { timestamp: bigint }) =>
      new Map([['logs', timestamp === -2n ? [0n, 3n] : [50n, 60n]]]),
    metadata: async () => ({
      topics: new Map([['logs', { id: 'id-logs', partitions: [{ leader: 1 }, { leader: 1 }] }]]),
    }),
    fetch: async (request: {
      maxBytes: number;
      topics: { partitions: { partition: number; fetchOffset: bigint }[] }[];
    }) => {
      const partitions = request.topics.flatMap((t) => t.partitions);
      asked.push(partitions.map((p) => p.fetchOffset));
      maxBytes.push(request.maxBytes);
      return fetch(partitions);
    },
  };
  return { consumer: consumer as unknown as Consumer, asked, maxBytes, state: consumer };
}

const options = {
  topics: ['logs'],
  fromBeginning: true,
  maxBytes: 4096,
  maxBytesPerPartition: 1024,
  maxWaitMs: 10,
  connections: new ConnectionPool('test'),
};
const signal = new AbortController().signal;

describe('PartitionReader', () => {
  it('reads from the commits, else the start, and moves past each answer, transaction markers included', async () => {
    const answers = [
      // A compressed batch comes whole: records 8 and 9 were asked for before.
      answer(0, [batch(8n, ['r8', 'r9', 'r10', 'r11']), batch(12n, ['marker'], IS_CONTROL)]),
      answer(0, []),
    ];
    const { consumer, asked } = fakeConsumer(async () => answers.shift());
    const reader = new PartitionReader(consumer, options);
    await reader.assign();
    expect(reader.reads('logs', 1)).toBe(true);
    const [first] = await reader.fetch(signal);
    expect(first?.records.map((r) => [r.offset, r.record.value?.toString()])).toEqual([
      [10n, 'r10'],
      [11n, 'r11'],
    ]);
    expect(first).toMatchObject({ topic: 'logs', partition: 0, highWatermark: 100n, leaderEpoch: 7 });
    expect(await reader.fetch(signal)).toEqual([]);
    // Each fetch asks for the partitions in a turned order, so a backlog in one cannot starve the other.
    expect(asked).toEqual([
      [10n, 3n],
      [3n, 13n],
    ]);
  });

  it('asks for at most maxBytes in all', async () => {
    const { consumer, maxBytes } = fakeConsumer(async () => answer(0, []));
    const reader = new PartitionReader(consumer, options);
    await reader.assign();
    await reader.fetch(signal);
    expect(maxBytes).toEqual([4096]);
  });

  it('starts a partition the group never committed at its end when not reading from the beginning', async () => {
    const { consumer, asked } = fakeConsumer(async () => answer(0, []));
    const reader = new PartitionReader(consumer, { ...options, fromBeginning: false });
    await reader.assign();
    await reader.fetch(signal);
    expect(asked).toEqual([[10n, 60n]]);
  });

  it('throws away an answer to a fetch made before the assignment changed', async () => {
    let reassign: () => Promise<void> = async () => {};
    const { consumer, state } = fakeConsumer(async () => {
      state.assignments = [{ topic: 'logs', partitions: [1] }];
      await reassign();
      return answer(0, [batch(10n, ['r10'])]);
    });
    const reader = new PartitionReader(consumer, options);
    reassign = () => reader.assign();
    await reader.assign();
    expect(await reader.fetch(signal)).toEqual([]);
    expect(reader.reads('logs', 0)).toBe(false);
  });

  it('reads a partition whose position left the log from its start again', async () => {
    let calls = 0;
    const { consumer, asked } = fakeConsumer(async () => {
      if (calls++ > 0) return answer(0, []);
      const response = answer(0, [], { errorCode: 1, logStartOffset: 40n });
      throw new ResponseError(1, 17, { '/responses/0/partitions/0': [1, null] }, response);
    });
    const reader = new PartitionReader(consumer, options);
    await reader.assign();
    expect(await reader.fetch(signal)).toEqual([]);
    await reader.fetch(signal);
    expect(asked).toEqual([
      [10n, 3n],
      [3n, 40n],
    ]);
  });
});
