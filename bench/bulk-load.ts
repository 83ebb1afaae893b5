import { parseArgs } from 'node:util';
import {
  bulkItemOutcome,
  createElasticsearchClient,
  DailyIndex,
  installLogTemplate,
} from '../core/elasticsearch.ts';
import { type FileRecord, readRecords } from './sidecar-records.ts';

/**
 * The ceiling of the collector benchmark, run as a process of its own so its
 * CPU time and memory are measured as the collector's are: a record file
 * (see sidecar-records.ts) straight into Elasticsearch, stored as the
 * collector stores records (its index template, daily indices by
 * `@timestamp`, bulk `create` under `_id = event.id`) and nothing more: no
 * Kafka, no JSON parsing, bodies of about 5 MiB with two in flight.
 *
 * node bench/bulk-load.ts --node URL --index 'pattern-{yyyy.MM.dd}' --file records.tsv [--replicas 0]
 *
 * Prints "loaded N records" once the cluster confirmed every one, then waits
 * for SIGTERM, so that /proc still has its figures when they are read.
 */

const { values: args } = parseArgs({
  options: {
    node: { type: 'string' },
    index: { type: 'string' },
    file: { type: 'string' },
    replicas: { type: 'string', default: '0' },
    'body-bytes': { type: 'string', default: String(5 * 1024 * 1024) },
    concurrency: { type: 'string', default: '2' },
  },
});
if (!args.node || !args.index || !args.file) {
  process.stderr.write('usage: bulk-load.ts --node URL --index PATTERN --file RECORDS [--replicas N]\n');
  process.exit(2);
}
const node = args.node;
const bodyBytes = Number(args['body-bytes']);
const concurrency = Number(args.concurrency);
const index = new DailyIndex(args.index);
const NEWLINE = Buffer.from('\n');
// The collector's filter: every item's status, and the error of the refused ones.
const BULK_URL = `${node}/_bulk?filter_path=errors,items.*.status,items.*.error.type,items.*.error.reason`;
const MAX_ATTEMPTS = 10;

interface BulkAnswer {
  errors: boolean;
  items?: Record<string, { status: number; error?: { type?: string; reason?: string } }>[];
}

function body(records: FileRecord[]): Buffer {
  const parts: Buffer[] = [];
  for (const record of records) {
    const action = `{"create":{"_index":"${index.forTime(record.time)}","_id":"${record.id}"}}\n`;
    parts.push(Buffer.from(action, 'latin1'), record.doc, NEWLINE);
  }
  return Buffer.concat(parts);
}

/** One bulk request; items the cluster was too busy for (429, 5xx) are sent again, as the collector does. */
async function send(records: FileRecord[]): Promise<void> {
  let pending = records;
  for (let attempt = 1; pending.length > 0; attempt++) {
    if (attempt > MAX_ATTEMPTS)
      throw new Error(`${pending.length} records still refused after ${MAX_ATTEMPTS} attempts`);
    if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
    const response = await fetch(BULK_URL, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: body(pending),
    });
    if (!response.ok) {
      if (response.status === 429 || response.status >= 500) continue;
      throw new Error(`bulk request failed: HTTP ${response.status} ${await response.text()}`);
    }
    const answer = (await response.json()) as BulkAnswer;
    if (!answer.errors) return;
    const retry: FileRecord[] = [];
    pending.forEach((record, i) => {
      const item = Object.values(answer.items?.[i] ?? {})[0];
      const outcome = item ? bulkItemOutcome(item.status) : 'retry';
      if (outcome === 'retry') retry.push(record);
      else if (outcome === 'reject')
        throw new Error(`record ${record.id} refused: ${item?.error?.type}: ${item?.error?.reason}`);
    });
    pending = retry;
  }
}

const client = createElasticsearchClient({ nodes: [node], requestTimeout: 30_000 });
await installLogTemplate(client, index, { replicas: Number(args.replicas) });
await client.close();

let loaded = 0;
const inFlight = new Set<Promise<void>>();
const start = (records: FileRecord[]) => {
  const sending: Promise<void> = send(records).then(
    () => {
      loaded += records.length;
      inFlight.delete(sending);
    },
    (err: unknown) => {
      process.stderr.write(`bulk-load: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
  inFlight.add(sending);
};
let batch: FileRecord[] = [];
let bytes = 0;
for await (const records of readRecords(args.file, 1024 * 1024)) {
  for (const record of records) {
    batch.push(record);
    // The action line: {"create":{"_index":"…","_id":"…"}} and two newlines.
    bytes += record.doc.length + record.id.length + index.forTime(record.time).length + 35;
    if (bytes < bodyBytes) continue;
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    start(batch);
    batch = [];
    bytes = 0;
  }
}
if (batch.length > 0) start(batch);
await Promise.all(inFlight);
process.stdout.write(`loaded ${loaded} records\n`);
process.once('SIGTERM', () => process.exit(0));
setInterval(() => {}, 60_000);
