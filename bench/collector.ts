import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as delay } from 'node:timers/promises';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { EmbeddedStore } from '../collector/store/embedded/store.ts';
import { RECORD_HEADER, recordHeaderValue } from '../core/record/headers.ts';
import {
  ELASTICSEARCH_VERSION,
  type ElasticsearchServer,
  startElasticsearch,
} from '../test/infra/elasticsearch.ts';
import { KAFKA_VERSION, type KafkaServer, startKafka } from '../test/infra/kafka.ts';
import { xorshift } from './logback-lines.ts';
import {
  type BenchmarkSection,
  LOOKOUT_CLI,
  MeasuredProcess,
  median,
  percentile,
  table,
  waitUntil,
} from './measure.ts';
import { MemorySampler } from './memory.ts';
import { type RecordSet, readRecords, SEARCH_WORDS, writeRecordSet } from './sidecar-records.ts';

export const COLLECTOR_TITLE =
  'Collector: Kafka → Elasticsearch against a direct bulk loader, and search latency';

const LOADER = join(import.meta.dirname, 'bulk-load.ts');
// The sizes the issue asks for; smaller ones through the environment for trying the benchmark out.
const DOCS = Number(process.env.LOOKOUT_BENCH_COLLECTOR_DOCS ?? 1_000_000);
const SEARCH_DOCS = Number(process.env.LOOKOUT_BENCH_SEARCH_DOCS ?? 10_000_000);
const EMBEDDED_DOCS = Number(process.env.LOOKOUT_BENCH_EMBEDDED_DOCS ?? 1_000_000);
const ROUNDS = Number(process.env.LOOKOUT_BENCH_ROUNDS ?? 3);
const QUERIES = 200;
const WARM_UP = 20;
const SEARCH_WINDOW_MS = 3_600_000;
const SPAN_DAYS = 3;
const DAY_MS = 86_400_000;
// Indices refresh every second, so both sides are seen up to a second late; polling adds half a second at most.
const POLL_MS = 500;
/** A side that adds no document for this long has stopped: the run is recorded as unfinished. */
const STALL_MS = 60_000;
const TARGET_RATIO = 0.9;
const TARGET_P95_MS = { elasticsearch: 200, embedded: 100 } as const;
const TOPIC = 'lookout-bench-collector';
const MiB = 1024 ** 2;
/** Often enough to catch a run of some 20 s near its peak. */
const MEMORY_SAMPLE_MS = 1_000;

/** Collector settings that trade speed for memory, each measured in one run after the rounds. */
interface Variant {
  label: string;
  /** Fields added to the collector's `kafka` section. */
  kafka?: string;
  /** Keys added to the collector's section. */
  settings?: Record<string, string>;
  /** Added to the collector's environment. */
  env?: Record<string, string>;
}

/** The young generation the launcher gives V8 under a container limit of 512 MiB or more. */
const YOUNG_GENERATION = { NODE_OPTIONS: '--max-semi-space-size=8' };

const MEMORY_VARIANTS: Variant[] = [
  { label: '`NODE_OPTIONS=--max-semi-space-size=8`', env: YOUNG_GENERATION },
  {
    label: 'the same and `kafka.maxBytesInFlight: 8MiB`',
    kafka: 'maxBytesInFlight: 8MiB',
    env: YOUNG_GENERATION,
  },
  { label: '`optimizeHeapForSize: true`', settings: { optimizeHeapForSize: 'true' } },
];

type Side = 'collector' | 'loader';
type StoreKind = 'elasticsearch' | 'embedded';
type QueryKind = 'search' | 'context';

interface Run {
  side: Side;
  round: number;
  /** Until every record was stored; for an unfinished run, until it was given up. */
  seconds: number;
  /** Until the first documents were searchable: start-up, joining the group, the first refresh. */
  firstSeconds: number;
  cpuSeconds: number;
  peakRssMiB: number;
  /** What the collector's memory was made of at its largest sample; none for the loader. */
  memory?: string;
  /** The collector's settings when not the defaults. */
  variant?: string;
  stored: number;
  /** Why the run did not store every record. */
  unfinished?: string;
  /** An error a finished run logged all the same. */
  logged?: string;
}

interface Progress {
  stored: number;
  firstSeconds: number;
  unfinished?: string;
}

interface Latency {
  store: StoreKind;
  query: QueryKind;
  docs: number;
  /** Bytes the store takes on disk. */
  storeBytes: number;
  ms: number[];
  /** Lines each answer held: hits of a search, lines of a context. */
  lines: number[];
}

interface SearchSpec {
  word: string;
  namespace: string;
  from: number;
}

interface Context {
  work: string;
  kafka: KafkaServer;
  es: ElasticsearchServer;
  admin: ReturnType<Kafka['admin']>;
  records: RecordSet;
}

/** Wall-clock time of each part of the run, for the duration paragraph; `records` when it handled some. */
const phases: { name: string; seconds: number; records?: number }[] = [];

async function phase<T>(name: string, work: () => Promise<T>, records?: number): Promise<T> {
  const started = performance.now();
  log(`${name}…`);
  const result = await work();
  const seconds = (performance.now() - started) / 1000;
  phases.push({ name, seconds, records });
  log(`${name}: ${seconds.toFixed(1)} s`);
  return result;
}

/**
 * Lookout collector (Kafka → Elasticsearch) against a direct bulk loader into the same cluster, then
 * search and context latency through the collector's API over Elasticsearch and over the embedded store.
 *
 * At the default sizes this takes more than 25 minutes on two cores (some 30 to 40, judged from smaller
 * runs), most of it the throughput rounds and loading ten million records into Elasticsearch for the
 * search figures, and some 8 GB of temporary disk. The sizes are the issue's; LOOKOUT_BENCH_*_DOCS make
 * them smaller for trying it out.
 */
export async function collectorBenchmark(): Promise<BenchmarkSection> {
  const started = performance.now();
  phases.length = 0;
  const work = await mkdtemp(join(tmpdir(), 'lookout-bench-collector-'));
  // Recent days, so that no retention (7 days by default) takes any of them away during the run.
  const to = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
  const from = to - SPAN_DAYS * DAY_MS;
  let kafka: KafkaServer | undefined;
  let es: ElasticsearchServer | undefined;
  let admin: Context['admin'] | undefined;
  try {
    const generating = phase(
      `generate ${count(DOCS)} records`,
      () => writeRecordSet(join(work, 'throughput.tsv'), DOCS, from, to, 1),
      DOCS,
    );
    [kafka, es] = await phase('start Kafka and Elasticsearch', () =>
      Promise.all([startKafka(), startElasticsearch()]),
    );
    const records = await generating;
    admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const ctx: Context = { work, kafka, es, admin, records };
    log(`${count(records.count)} records, ${(records.docBytes / MiB).toFixed(0)} MiB of JSON`);
    await phase(`produce ${count(DOCS)} records to Kafka`, () => produce(ctx), DOCS);
    // A fresh broker and cluster serve their first million records much slower (a 100,000-record
    // warm-up was not enough: whichever side went first still lost a third): one round of both sides
    // is run and dropped.
    await phase('warm-up round, not counted', async () => {
      for (const side of ['collector', 'loader'] as const) await measure(ctx, side, 0);
    });

    const runs: Run[] = [];
    await phase('throughput rounds', async () => {
      for (let round = 1; round <= ROUNDS; round++) {
        // Alternating who goes first spreads the drift of a shared machine (and of the cluster's
        // own warming up) over both sides.
        const order: Side[] = round % 2 ? ['collector', 'loader'] : ['loader', 'collector'];
        for (const side of order) runs.push(await measure(ctx, side, round));
      }
    });
    const variants: Run[] = [];
    await phase('collector memory settings, one run each', async () => {
      for (const [i, variant] of MEMORY_VARIANTS.entries()) {
        variants.push(await measure(ctx, 'collector', ROUNDS + 1 + i, variant));
      }
    });
    await admin.deleteTopics({ topics: [TOPIC] }).catch(() => {});
    await admin.disconnect();
    admin = undefined;
    // Nothing reads Kafka from here on; the search figures should not share the machine with it.
    await kafka.close();
    kafka = undefined;

    const specs = searchSpecs(records);
    const esLatency = await elasticsearchLatency(work, es, from, to, specs);
    const messageType = await mappedType(es, 'lookout-bench-search-*', 'message');
    await es.close();
    es = undefined;

    const embeddedRecords =
      EMBEDDED_DOCS === DOCS
        ? records
        : await phase(
            `generate ${count(EMBEDDED_DOCS)} records`,
            () => writeRecordSet(join(work, 'embedded.tsv'), EMBEDDED_DOCS, from, to, 3),
            EMBEDDED_DOCS,
          );
    const embeddedLatency = await embeddedStoreLatency(work, embeddedRecords, specs);

    const total = (performance.now() - started) / 1000;
    return {
      title: COLLECTOR_TITLE,
      machine: [
        `Kafka ${KAFKA_VERSION} (one KRaft node on loopback)`,
        `Elasticsearch ${ELASTICSEARCH_VERSION} (integ-test-zip, one node on loopback, 512 MiB heap; \`message\` mapped as \`${messageType}\`)`,
        `SQLite ${sqliteVersion()} (node:sqlite)`,
      ],
      body: report(records, runs, variants, [...esLatency, ...embeddedLatency], total),
    };
  } finally {
    await admin?.disconnect().catch(() => {});
    await kafka?.close();
    await es?.close();
    await rm(work, { recursive: true, force: true });
  }
}

// ── throughput ───────────────────────────────────────────────────────────

/** The records as sidecars would have left them in Kafka: keyed by namespace/pod, gzip as the sink's default. */
async function produce(ctx: Context): Promise<void> {
  await ctx.admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }], waitForLeaders: true });
  const producer = new Kafka({ brokers: ctx.kafka.brokers, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  try {
    const inFlight: Promise<unknown>[] = [];
    for await (const batch of readRecords(ctx.records.path, MiB / 2)) {
      const sending = producer.send({
        topic: TOPIC,
        acks: -1,
        compression: CompressionTypes.GZIP,
        // With the id and time header the sidecar's Kafka sink adds to every record.
        messages: batch.map((r) => ({
          key: r.key,
          value: r.doc,
          headers: { [RECORD_HEADER]: recordHeaderValue(r.id, r.time) },
        })),
      });
      // Its failure is met where it is awaited; until then it must not count as unhandled.
      sending.catch(() => {});
      inFlight.push(sending);
      // Compression is the producer's own work; a few requests in flight keep the broker busy meanwhile.
      if (inFlight.length >= 4) await inFlight.shift();
    }
    await Promise.all(inFlight);
  } finally {
    await producer.disconnect();
  }
  const offsets = await ctx.admin.fetchTopicOffsets(TOPIC);
  const held = offsets.reduce((sum, p) => sum + Number(p.high), 0);
  if (held !== ctx.records.count)
    throw new Error(`the topic holds ${held} records, not ${ctx.records.count}`);
}

async function measure(ctx: Context, side: Side, round: number, variant?: Variant): Promise<Run> {
  const dir = join(ctx.work, `${side}-${round}`);
  await mkdir(dir);
  const prefix = `lookout-bench-r${round}-${side}-`;
  const group = `lookout-bench-r${round}`;
  const deadLetters = `lookout-bench-r${round}-dlq`;
  try {
    const collector =
      side === 'collector'
        ? await startCollector(
            dir,
            {
              kafka: `{ brokers: ["${ctx.kafka.brokers[0]}"], topics: ["${TOPIC}"], groupId: "${group}", deadLetterTopic: "${deadLetters}"${variant?.kafka ? `, ${variant.kafka}` : ''} }`,
              elasticsearch: `{ nodes: ["${ctx.es.url}"], index: "${prefix}{yyyy.MM.dd}", replicas: 0 }`,
              ...variant?.settings,
            },
            variant?.env,
          )
        : undefined;
    const proc = collector ?? startLoader(ctx.es, `${prefix}{yyyy.MM.dd}`, ctx.records.path);
    let result: Run;
    const memory = collector && new MemorySampler(collector, collector.address, MEMORY_SAMPLE_MS);
    try {
      const progress = await waitForCount(proc, ctx.es, prefix, ctx.records.count);
      // A process that has exited has left /proc already: it has no figures to give.
      const read = (figure: () => number) => {
        try {
          return figure();
        } catch {
          return Number.NaN;
        }
      };
      result = {
        side,
        round,
        seconds: (performance.now() - proc.startedAt) / 1000,
        cpuSeconds: read(() => proc.cpuSeconds()),
        peakRssMiB: read(() => proc.peakRssMiB()),
        memory: memory?.breakdownAtPeak(),
        variant: variant?.label,
        ...progress,
      };
    } finally {
      memory?.stop();
      await proc.stop();
    }
    // Read after the stop: the error that ends a consumer may come a moment after the last document.
    if (!result.unfinished) result.logged = loggedError(proc);
    log(
      `round ${round} ${side}: ${result.seconds.toFixed(1)} s, ${count(result.stored / result.seconds)} docs/s, ${result.cpuSeconds.toFixed(1)} CPU s, ${result.peakRssMiB.toFixed(0)} MiB${result.unfinished ? `; UNFINISHED: ${result.unfinished}` : ''}${result.logged ? `; LOGGED: ${result.logged}` : ''}`,
    );
    return result;
  } finally {
    await deletePattern(ctx.es, prefix);
    if (side === 'collector') {
      await ctx.admin.deleteGroups([group]).catch(() => {});
      await ctx.admin.deleteTopics({ topics: [deadLetters] }).catch(() => {});
    }
    await rm(dir, { recursive: true, force: true });
  }
}

/** `lookout collector` with the given collector sections; `address` resolves once its API listens. */
export async function startCollector(
  dir: string,
  sections: Record<string, string>,
  env: Record<string, string> = {},
): Promise<MeasuredProcess & { address: Promise<string> }> {
  const lines = Object.entries(sections).map(([key, value]) => `  ${key}: ${value}`);
  const config = join(dir, 'lookout.yaml');
  await writeFile(
    config,
    `http: { listen: "127.0.0.1:0", auth: { enabled: false } }
dataDir: ${join(dir, 'data')}
shutdown: { timeout: 20s }
collector:${lines.length > 0 ? `\n${lines.join('\n')}` : ' {}'}
`,
  );
  const proc = new MeasuredProcess(process.execPath, [LOOKOUT_CLI, 'collector', '--config', config], {
    ...process.env,
    ...env,
  });
  const address = proc.waitForOutput(/API at (http:\/\/\S+?)\/ /, 60_000);
  // The timing must not wait on this; a failure to start shows in whoever awaits it.
  address.catch(() => {});
  return Object.assign(proc, { address });
}

function startLoader(es: ElasticsearchServer, pattern: string, file: string): MeasuredProcess {
  const args = [LOADER, '--node', es.url, '--index', pattern, '--file', file, '--replicas', '0'];
  return new MeasuredProcess(process.execPath, args);
}

/** For setup: every record stored, or the benchmark stops with the reason. */
async function settled(proc: MeasuredProcess, es: ElasticsearchServer, prefix: string, docs: number) {
  const progress = await waitForCount(proc, es, prefix, docs);
  if (progress.unfinished) throw proc.failure(`loading ${prefix}*: ${progress.unfinished}`);
}

/**
 * Until the indices under `prefix` hold `expected` documents; more would mean a record stored twice.
 * A side that stops adding documents while still running is given up on, with the error it logged.
 */
async function waitForCount(
  proc: MeasuredProcess,
  es: ElasticsearchServer,
  prefix: string,
  expected: number,
): Promise<Progress> {
  // Generous: at least a thousand documents a second, or something is wrong.
  const deadline = performance.now() + 5 * 60_000 + expected;
  let stored = 0;
  let first: number | undefined;
  let changed = performance.now();
  for (;;) {
    // A pattern whose first index is still being created answers with an error for a moment.
    const now = await documents(es, prefix).catch(() => stored);
    const at = performance.now();
    if (now !== stored) {
      stored = now;
      changed = at;
      first ??= (at - proc.startedAt) / 1000;
    }
    if (stored >= expected) break;
    const firstSeconds = first ?? (at - proc.startedAt) / 1000;
    const why = () => loggedError(proc) ?? 'it logged no error';
    if (proc.exited) {
      return { stored, firstSeconds, unfinished: `exited with ${count(stored)} documents stored; ${why()}` };
    }
    if (at - changed > STALL_MS) {
      const reason = `no new document for ${STALL_MS / 1000} s after ${count(stored)}; ${why()}`;
      return { stored, firstSeconds, unfinished: reason };
    }
    if (at > deadline) throw proc.failure(`timed out waiting for ${count(expected)} documents in ${prefix}*`);
    await delay(POLL_MS);
  }
  if (stored > expected) throw new Error(`${prefix}* holds ${stored} documents for ${expected} records`);
  return { stored, firstSeconds: first ?? 0 };
}

/**
 * The last error the process logged: a JSON log line at error level, or a
 * line of text that starts with an error (as Node prints an uncaught one);
 * the start message's example query for "error" is not one.
 */
function loggedError(proc: MeasuredProcess): string | undefined {
  for (const line of proc.lastLines(200).reverse()) {
    if (!line.startsWith('{')) {
      if (/^\s*\w*error\b/i.test(line)) return `it wrote "${line.trim().slice(0, 300)}"`;
      continue;
    }
    try {
      const entry = JSON.parse(line) as { level?: unknown; msg?: string; err?: unknown };
      if (entry.level !== 'error' && entry.level !== 'fatal') continue;
      const err = typeof entry.err === 'string' ? entry.err : JSON.stringify(entry.err);
      return `it logged "${entry.msg}: ${err}"`;
    } catch {
      // A line cut off by the kept output's limit; an earlier one may say more.
    }
  }
  return undefined;
}

async function documents(es: ElasticsearchServer, prefix: string): Promise<number> {
  return ((await esJson(es, 'GET', `/${prefix}*/_count`)) as { count: number }).count;
}

async function deletePattern(es: ElasticsearchServer, prefix: string): Promise<void> {
  await esJson(es, 'DELETE', `/${prefix}*`).catch(() => {});
  // The template is named after the prefix (see installLogTemplate).
  await esJson(es, 'DELETE', `/_index_template/${prefix.replace(/-+$/, '')}*`).catch(() => {});
}

export async function esJson(
  es: ElasticsearchServer,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const response = await fetch(`${es.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as unknown;
}

async function mappedType(es: ElasticsearchServer, pattern: string, field: string): Promise<string> {
  const mappings = (await esJson(es, 'GET', `/${pattern}/_mapping/field/${field}`)) as Record<
    string,
    { mappings: Record<string, { mapping: Record<string, { type: string }> }> }
  >;
  const first = Object.values(mappings)[0]?.mappings[field]?.mapping[field]?.type;
  return first ?? 'unknown';
}

// ── search latency ───────────────────────────────────────────────────────

/** The same searches for both stores: a word, a namespace and an hour, drawn at random. */
function searchSpecs(records: RecordSet): SearchSpec[] {
  const random = xorshift(4);
  const words = Object.keys(SEARCH_WORDS);
  const starts = Math.floor((records.to - records.from - SEARCH_WINDOW_MS) / 1000);
  return Array.from({ length: WARM_UP + QUERIES }, () => ({
    word: words[random() % words.length]!,
    namespace: records.namespaces[random() % records.namespaces.length]!,
    // Any second of the span, not whole hours, as "the hour before the incident" is asked; a window
    // across midnight then searches two daily indices, as it would.
    from: records.from + (random() % starts) * 1000,
  }));
}

function contextIds(records: RecordSet, seed: number): string[] {
  const random = xorshift(seed);
  const pool = [...records.sample];
  const ids: string[] = [];
  while (ids.length < WARM_UP + QUERIES && pool.length > 0) {
    ids.push(pool.splice(random() % pool.length, 1)[0]!.id);
  }
  return ids;
}

async function elasticsearchLatency(
  work: string,
  es: ElasticsearchServer,
  from: number,
  to: number,
  specs: SearchSpec[],
): Promise<Latency[]> {
  const dir = join(work, 'search');
  await mkdir(dir);
  const prefix = 'lookout-bench-search-';
  const records = await phase(
    `generate ${count(SEARCH_DOCS)} records`,
    () => writeRecordSet(join(dir, 'search.tsv'), SEARCH_DOCS, from, to, 2),
    SEARCH_DOCS,
  );
  await phase(
    `load ${count(SEARCH_DOCS)} records into Elasticsearch`,
    () => loadRecords(es, prefix, records),
    SEARCH_DOCS,
  );
  await rm(records.path);
  await phase('wait for merges to finish', () => settle(es, prefix));
  const storeBytes = (
    (await esJson(es, 'GET', `/_cat/indices/${prefix}*?format=json&bytes=b&h=store.size`)) as {
      'store.size': string;
    }[]
  ).reduce((sum, i) => sum + Number(i['store.size']), 0);
  return phase('Elasticsearch queries', () =>
    queries(
      dir,
      { elasticsearch: `{ nodes: ["${es.url}"], index: "${prefix}{yyyy.MM.dd}", replicas: 0 }` },
      'elasticsearch',
      records,
      specs,
      storeBytes,
    ),
  );
}

/** For setup: the records into daily indices `<prefix>yyyy.MM.dd` by the bulk loader, every one confirmed. */
export async function loadRecords(
  es: ElasticsearchServer,
  prefix: string,
  records: RecordSet,
): Promise<void> {
  const loader = startLoader(es, `${prefix}{yyyy.MM.dd}`, records.path);
  try {
    await settled(loader, es, prefix, records.count);
  } finally {
    await loader.stop();
  }
}

/**
 * Merges after a bulk load take CPU for a while; queries measured meanwhile would say more about the
 * load than about search. A store that has been written an hour ago is in this state too.
 */
export async function settle(es: ElasticsearchServer, prefix: string): Promise<void> {
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    const stats = (await esJson(
      es,
      'GET',
      `/${prefix}*/_stats/merge?filter_path=_all.total.merges.current`,
    )) as { _all?: { total?: { merges?: { current?: number } } } };
    if ((stats._all?.total?.merges?.current ?? 0) === 0 || Date.now() > deadline) break;
    await delay(1_000);
  }
  await esJson(es, 'POST', `/${prefix}*/_refresh`);
}

async function embeddedStoreLatency(
  work: string,
  records: RecordSet,
  specs: SearchSpec[],
): Promise<Latency[]> {
  const dir = join(work, 'embedded');
  const storeBytes = await phase(
    `write ${count(records.count)} records into the embedded store`,
    () => fillEmbeddedStore(dir, records),
    records.count,
  );
  return phase('embedded store queries', () => queries(dir, {}, 'embedded', records, specs, storeBytes));
}

/**
 * Writes the records into the embedded store of a collector whose data directory is `dir/data`; answers
 * the store's size on disk. Setup, not a figure: in-process writes skip HTTP and the collector's parsing,
 * which only makes it shorter.
 */
export async function fillEmbeddedStore(dir: string, records: RecordSet): Promise<number> {
  const storeDir = join(dir, 'data', 'collector', 'store');
  const store = new EmbeddedStore({ dir: storeDir });
  await store.open();
  try {
    for await (const batch of readRecords(records.path, 4 * MiB)) {
      const outcomes = await store.write(batch.map(({ id, time, doc }) => ({ id, time, doc })));
      const refused = outcomes.find((o) => o.result !== 'ok');
      if (refused) throw new Error(`the embedded store refused a record: ${JSON.stringify(refused)}`);
    }
  } finally {
    await store.close();
  }
  let storeBytes = 0;
  for (const name of await readdir(storeDir)) storeBytes += (await stat(join(storeDir, name))).size;
  return storeBytes;
}

/** A collector over the store, then the warm-up and the measured queries, one at a time. */
async function queries(
  dir: string,
  sections: { elasticsearch?: string },
  store: StoreKind,
  records: RecordSet,
  specs: SearchSpec[],
  storeBytes: number,
): Promise<Latency[]> {
  const proc = await startCollector(dir, sections);
  try {
    const address = await proc.address;
    await waitUntil(proc, 'the collector ready', async () => (await fetch(`${address}/readyz`)).ok, 60_000);
    const searches = specs.map(
      (s) =>
        `${address}/api/logs/search?q=${s.word}&namespace=${s.namespace}&from=${s.from}&to=${s.from + SEARCH_WINDOW_MS}&size=100`,
    );
    const contexts = contextIds(records, store === 'elasticsearch' ? 5 : 6).map(
      (id) => `${address}/api/logs/context/${id}?before=50&after=50`,
    );
    const result: Latency[] = [];
    for (const [query, urls] of [
      ['search', searches],
      ['context', contexts],
    ] as const) {
      const ms: number[] = [];
      const lines: number[] = [];
      for (const [i, url] of urls.entries()) {
        const started = performance.now();
        // A query that hangs must end the benchmark with a reason, not stall it.
        const response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
        const body = (await response.json()) as { hits?: unknown[]; lines?: unknown[] };
        const took = performance.now() - started;
        if (!response.ok) throw proc.failure(`${url}: HTTP ${response.status} ${JSON.stringify(body)}`);
        if (i < WARM_UP) continue;
        ms.push(took);
        lines.push((query === 'search' ? body.hits : body.lines)?.length ?? 0);
      }
      result.push({ store, query, docs: records.count, storeBytes, ms, lines });
      log(
        `${store} ${query}: p50 ${percentile(ms, 50).toFixed(1)} ms, p95 ${percentile(ms, 95).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms`,
      );
    }
    return result;
  } finally {
    await proc.stop();
  }
}

function sqliteVersion(): string {
  const db = new DatabaseSync(':memory:');
  try {
    return (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  } finally {
    db.close();
  }
}

// ── report ───────────────────────────────────────────────────────────────

interface Figures {
  /** Rounds that stored every record; the others have no rate to speak of. */
  finished: number;
  docsPerSecond: number;
  mibPerSecond: number;
  firstSeconds: number;
  cpuSecondsPerMillion: number;
  peakRssMiB: number;
}

function summarise(runs: Run[], records: RecordSet): Record<Side, Figures> {
  const of = (side: Side): Figures => {
    const mine = runs.filter((r) => r.side === side && !r.unfinished);
    // median([]) is NaN, which the tables print as n/a.
    const m = (f: (r: Run) => number) => (mine.length > 0 ? median(mine.map(f)) : Number.NaN);
    return {
      finished: mine.length,
      docsPerSecond: m((r) => records.count / r.seconds),
      mibPerSecond: m((r) => records.docBytes / MiB / r.seconds),
      firstSeconds: m((r) => r.firstSeconds),
      cpuSecondsPerMillion: m((r) => (r.cpuSeconds / records.count) * 1e6),
      peakRssMiB: m((r) => r.peakRssMiB),
    };
  };
  return { collector: of('collector'), loader: of('loader') };
}

const LABEL: Record<Side, string> = {
  collector: 'Lookout collector, Kafka → Elasticsearch',
  loader: 'Direct bulk loader, file → Elasticsearch (ceiling)',
};
const STORE_LABEL: Record<StoreKind, string> = {
  elasticsearch: 'Elasticsearch',
  embedded: 'embedded (SQLite)',
};
const QUERY_LABEL: Record<QueryKind, string> = {
  search: 'word + namespace + 1 h, size 100',
  context: 'context, 50 before and after',
};

/** The collector's memory in the round of its highest peak. */
function peakMemory(runs: Run[]): string {
  const highest = runs
    .filter((r) => r.side === 'collector' && r.memory)
    .reduce<Run | undefined>((a, b) => (a && a.peakRssMiB >= b.peakRssMiB ? a : b), undefined);
  return highest
    ? `Collector, round ${highest.round} (its highest peak, ${highest.peakRssMiB.toFixed(0)} MiB): ${highest.memory}`
    : 'Collector memory: not sampled.';
}

/** Each memory setting's run next to the rounds with the defaults. */
function memorySettings(records: RecordSet, defaults: Figures, variants: Run[]): string {
  const rows = variants.map((r) => [
    r.variant ?? '',
    r.unfinished ? 'n/a' : records.count / r.seconds,
    (r.cpuSeconds / records.count) * 1e6,
    r.peakRssMiB,
  ]);
  return [
    table(
      ['collector settings', 'documents/s', 'CPU s per million', 'peak RSS MiB'],
      [
        [
          'defaults (median of the rounds)',
          defaults.docsPerSecond,
          defaults.cpuSecondsPerMillion,
          defaults.peakRssMiB,
        ],
        ...rows,
      ],
    ),
    '',
    ...variants.map((r) => `- ${r.variant}: ${r.unfinished ? `unfinished, ${r.unfinished}` : r.memory}`),
  ].join('\n');
}

function report(
  records: RecordSet,
  runs: Run[],
  variants: Run[],
  latencies: Latency[],
  totalSeconds: number,
): string {
  const medians = summarise(runs, records);
  const ratio = medians.collector.docsPerSecond / medians.loader.docsPerSecond;
  const met = (ok: boolean, target: string) =>
    ok ? `(target ${target} met)` : `(target ${target}, not met)`;
  const p95 = (l: Latency) => percentile(l.ms, 95);
  const latencyVerdict = latencies.map(
    (l) =>
      `${STORE_LABEL[l.store]} ${l.query} p95 ${p95(l).toFixed(0)} ms ${met(p95(l) < TARGET_P95_MS[l.store], `< ${TARGET_P95_MS[l.store]} ms`)}`,
  );
  const unfinished = runs.filter((r) => r.unfinished);
  const throughput =
    medians.collector.finished > 0 && medians.loader.finished > 0
      ? `Throughput: the collector stores ${count(medians.collector.docsPerSecond)} documents/s, ${ratio.toFixed(2)}× the direct loader's ${count(medians.loader.docsPerSecond)} ${met(ratio >= TARGET_RATIO, `≥ ${TARGET_RATIO}×`)}.`
      : `Throughput: no figure (target ≥ ${TARGET_RATIO}×, not met), because ${medians.collector.finished === 0 ? 'the collector' : 'the loader'} did not store every record in any round.`;
  const stalls = unfinished.map((r) => `round ${r.round}, ${LABEL[r.side]}: ${r.unfinished}`);
  const logged = runs.filter((r) => r.logged).map((r) => `round ${r.round}, ${LABEL[r.side]}: ${r.logged}`);
  const verdict = [
    throughput,
    stalls.length > 0
      ? `${stalls.length} of ${runs.length} runs did not finish, and their rate is left out: ${stalls.join('; ')}.`
      : '',
    logged.length > 0 ? `Runs that finished but logged an error: ${logged.join('; ')}.` : '',
    `Latency: ${latencyVerdict.join('; ')}.`,
  ]
    .filter(Boolean)
    .join(' ');
  const share = (n: number) => `${(n * 100).toFixed(0)}%`;
  const wordShares = Object.values(records.wordShare);
  const nsShares = Object.values(records.namespaceShare);
  const minutes = (s: number) => `${(s / 60).toFixed(1)} min`;
  const slowest = [...phases].sort((a, b) => b.seconds - a.seconds).slice(0, 3);
  const duration = [
    `Duration: the whole benchmark took ${minutes(totalSeconds)} on this machine, most of it in ${slowest.map((p) => `${p.name} (${minutes(p.seconds)})`).join(', ')}.`,
    totalSeconds > 25 * 60
      ? 'That is more than 25 minutes; Phases below shows where the time went and at what rate.'
      : '',
  ]
    .filter(Boolean)
    .join(' ');
  return [
    `Input: sidecar records built by the sidecar's own pipeline (auto parser, Logback time and level read from the line, ECS fields, \`event.id\` from the file's identity and offset) over logback-style lines from ${records.streams} containers in ${records.namespaces.length} namespaces of unequal volume (${share(Math.min(...nsShares))}–${share(Math.max(...nsShares))} of lines each), spread evenly over ${SPAN_DAYS * 24} hours (${records.days} UTC days, so ${records.days} daily indices), ${share(records.burstShare)} of lines in bursts of 2–16 lines of one container within one millisecond; ${(records.docBytes / records.count).toFixed(0)} B of JSON a record. Each data set is generated once per run and then read from a file.`,
    '',
    `Method, throughput: ${count(records.count)} records (${(records.docBytes / MiB).toFixed(0)} MiB) are produced into one one-partition topic before any timing, keyed by namespace/pod, with the \`lookout-record\` header (time and id), and gzip-compressed as the sidecar's Kafka sink sends them by default. Each round runs both sides against the same broker and cluster, each into a fresh index pattern (the collector's template on both: one shard, no replica), the order alternating between rounds; the figures are medians over ${ROUNDS} rounds. Before the first round, one round of both sides is run and its figures dropped, so that neither side pays for the broker's and the cluster's warming up. Time runs from spawning the process until \`_count\` over its pattern (polled every ${POLL_MS} ms; indices refresh every second) reaches the record count, so start-up, joining the group and the last refresh are inside it on both sides; "first document" is when the count was first above zero. CPU seconds (utime + stime) and peak RSS (VmHWM) are the process's own, from /proc; Elasticsearch and Kafka are not counted. A round's indices, consumer group and dead-letter topic are deleted after it.`,
    '',
    `- Collector: \`lookout collector\` with \`kafka\` (the topic, a fresh group, from the beginning) and \`elasticsearch\` (replicas 0), defaults otherwise: fetches of up to 1 MiB a partition (counted compressed, so some 20,000 gzip-compressed records), each batch stored in slices of up to 10,000 records or 5 MiB of bulk body (one bulk \`create\` request each, some 7,500 records here, three in flight across batches, so the next fetch overlaps the writes), each slice's offset committed in offset order once it and every slice before it are stored. A run that adds no document for ${STALL_MS / 1000} s is given up on and shown as unfinished, with the error the collector logged.`,
    `- Ceiling: \`bench/bulk-load.ts\`, a Node process that reads the same records from the file and sends them as bulk \`create\` with the same \`_id\`, daily index and template, in bodies of about 5 MiB with two requests in flight; it neither consumes Kafka nor parses a document. It is what this cluster takes from one simple client on this machine.`,
    '',
    `Method, latency: Elasticsearch holds ${count(latencies.find((l) => l.store === 'elasticsearch')?.docs ?? 0)} records, loaded by the same bulk loader into one pattern (setup, not a figure) and queried once merges had finished; the embedded store holds ${count(latencies.find((l) => l.store === 'embedded')?.docs ?? 0)}, written in-process into the collector's data directory beforehand. A \`lookout collector\` over each (no Kafka, auth off) answers ${WARM_UP} warm-up queries and then ${QUERIES} measured ones of each kind, one at a time from the benchmark over loopback HTTP; latency runs from sending the request until the whole JSON answer is read, and the percentiles are nearest-rank. Search is \`GET /api/logs/search?q=<word>&namespace=<ns>&from=<t>&to=<t + 1 h>&size=100\` with the word (each in ${share(Math.min(...wordShares))}–${share(Math.max(...wordShares))} of lines), the namespace and the hour drawn at random, the same queries for both stores; context is \`GET /api/logs/context/<id>?before=50&after=50\` for ids drawn from a uniform sample of the store's records.`,
    '',
    verdict,
    '',
    table(
      [
        '',
        'rounds finished',
        'documents/s',
        'MiB/s',
        'first document s',
        'CPU s per million',
        'peak RSS MiB',
        'documents/s vs ceiling',
      ],
      (['collector', 'loader'] as const).map((side) => {
        const m = medians[side];
        const vs = m.docsPerSecond / medians.loader.docsPerSecond;
        return [
          LABEL[side],
          `${m.finished} of ${ROUNDS}`,
          m.docsPerSecond,
          m.mibPerSecond,
          m.firstSeconds,
          m.cpuSecondsPerMillion,
          m.peakRssMiB,
          Number.isFinite(vs) ? `${vs.toFixed(2)}×` : 'n/a',
        ];
      }),
    ),
    '',
    table(
      [
        'store',
        'records',
        'on disk MiB',
        'query',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'p95 target',
        'lines returned (median)',
      ],
      latencies.map((l) => [
        STORE_LABEL[l.store],
        count(l.docs),
        l.storeBytes / MiB,
        QUERY_LABEL[l.query],
        percentile(l.ms, 50),
        p95(l),
        percentile(l.ms, 99),
        `< ${TARGET_P95_MS[l.store]} ms ${p95(l) < TARGET_P95_MS[l.store] ? 'met' : 'not met'}`,
        median(l.lines),
      ]),
    ),
    '',
    peakMemory(runs),
    '',
    `Memory settings: the collector once more with each, after the rounds (one run each, so a rate is as noisy as one round's).`,
    '',
    memorySettings(records, medians.collector, variants),
    '',
    duration,
    '',
    '### Rounds',
    '',
    table(
      [
        'round',
        'side',
        'seconds',
        'first document s',
        'documents stored',
        'documents/s',
        'CPU s',
        'peak RSS MiB',
      ],
      runs.map((r) => [
        String(r.round),
        LABEL[r.side],
        r.seconds,
        r.firstSeconds,
        r.unfinished ? `${count(r.stored)} (unfinished)` : count(r.stored),
        r.unfinished ? 'n/a' : records.count / r.seconds,
        r.cpuSeconds,
        r.peakRssMiB,
      ]),
    ),
    '',
    '### Phases',
    '',
    table(
      ['phase', 'minutes', 'records/s'],
      phases.map((p) => [p.name, p.seconds / 60, p.records === undefined ? '' : p.records / p.seconds]),
    ),
  ].join('\n');
}

function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function log(message: string): void {
  console.log(`[bench collector] ${message}`);
}
