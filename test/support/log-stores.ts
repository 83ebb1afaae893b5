import { Client } from '@elastic/elasticsearch';
import kafkajs from 'kafkajs';
import { infraAddress, kafkaBrokers } from '../infra/control.ts';

/** Every `message` in the indices matching a pattern. */
export async function elasticsearchMessages(
  pattern: string,
  query: Record<string, unknown> = { match_all: {} },
) {
  return (await elasticsearchDocs<{ message: string }>(pattern, query, ['message'])).map((d) => d.message);
}

/** Every document in the indices matching a pattern, read with search_after so nothing is skipped. */
export async function elasticsearchDocs<T>(
  pattern: string,
  query: Record<string, unknown> = { match_all: {} },
  fields: string[] | true = true,
): Promise<T[]> {
  const es = new Client({ node: infraAddress('elasticsearch') });
  try {
    await es.indices.refresh({ index: pattern, ignore_unavailable: true, allow_no_indices: true });
    const docs: T[] = [];
    let after: (string | number)[] | undefined;
    for (;;) {
      const page = await es.search<T>({
        index: pattern,
        size: 5_000,
        query,
        sort: [{ 'event.id': 'asc' }],
        search_after: after,
        ignore_unavailable: true,
        allow_no_indices: true,
        _source: fields,
      });
      for (const hit of page.hits.hits) docs.push(hit._source!);
      if (page.hits.hits.length < 5_000) return docs;
      after = page.hits.hits.at(-1)!.sort as (string | number)[];
    }
  } finally {
    await es.close();
  }
}

/** Every record's `message` in a topic, read from the beginning until `enough` says stop. */
export function kafkaMessages(
  topic: string,
  enough: (messages: string[]) => boolean,
  timeoutMs = 60_000,
): Promise<string[]> {
  return kafkaValues(topic, (value) => (JSON.parse(value) as { message: string }).message, enough, timeoutMs);
}

/** Reads a topic from the beginning in a throwaway consumer group until `enough` says stop. */
export async function kafkaValues<T>(
  topic: string,
  read: (value: string) => T,
  enough: (values: T[]) => boolean,
  timeoutMs = 60_000,
): Promise<T[]> {
  const kafka = new kafkajs.Kafka({ brokers: kafkaBrokers(), logLevel: kafkajs.logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `verify-${topic}-${Date.now()}` });
  const messages: T[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) messages.push(read(String(m.value)));
        if (enough(messages)) done();
      },
    });
    const timer = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs));
    await Promise.race([finished, timer]);
    return messages;
  } finally {
    await consumer.disconnect();
  }
}
