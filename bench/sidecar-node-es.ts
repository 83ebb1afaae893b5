import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import {
  ELASTICSEARCH_VERSION,
  type ElasticsearchServer,
  startElasticsearch,
} from '../test/infra/elasticsearch.ts';
import { KAFKA_VERSION, type KafkaServer, startKafka } from '../test/infra/kafka.ts';
import { CONTAINER_COUNT, type ContainerLogSet, writeContainerLogs } from './container-logs.ts';
import { writeFileRecords } from './log-file-records.ts';
import { type LogFileSet, writeLogFiles } from './logback-lines.ts';
import { acked, LookoutSidecar, shipperEnv } from './lookout-sidecar.ts';
import { type BenchmarkSection, MeasuredProcess, waitUntil } from './measure.ts';
import { MEMORY_METHOD, memoryTable } from './memory-breakdown.ts';
import { comparisonText, type RecordComparison, shippedAlike } from './record-check.ts';
import { ensureRsyslogKafka, rsyslogVersion, startRsyslog, writeRsyslogConfig } from './rsyslog.ts';
import {
  type Admin,
  createTopic,
  FILES,
  LINES_PER_FILE,
  log as logLine,
  MiB,
  measuredIn,
  memoryAtPeak,
  orderOf,
  ROUNDS,
  type Run,
  roundsTable,
  runLine,
  runTimeoutMs,
  type Started,
  sideFigures,
  sidesTable,
  untilTopicHolds,
} from './sidecar-runs.ts';

export const SIDECAR_NODE_ES_TITLE =
  'Sidecar: node mode vs rsyslog, and sidecar → Elasticsearch vs a direct bulk loader';

const LOADER = join(import.meta.dirname, 'bulk-load.ts');
// By default as many lines as the files → Kafka benchmark reads, spread over the containers.
const NODE_LINES_PER_CONTAINER = Number(
  process.env.LOOKOUT_BENCH_NODE_LINES_PER_CONTAINER ?? Math.ceil((FILES * LINES_PER_FILE) / CONTAINER_COUNT),
);
// A quarter of the files → Kafka input: a single-node cluster on this machine takes some 10,000 to 20,000
// documents a second, so the whole of it would make seven runs of ten minutes each.
const ES_LINES_PER_FILE = Number(
  process.env.LOOKOUT_BENCH_ES_LINES_PER_FILE ?? Math.ceil(LINES_PER_FILE / 4),
);
/** A cluster slower than this is failing, not slow. */
const ES_MIN_DOCS_PER_SECOND = 1_000;
/** A fresh cluster serves its first documents slower: this many are loaded and dropped before the rounds. */
const ES_WARM_UP_DOCS = 1_000_000;
const ES_POLL_MS = 500;
/** Lines a container log of the sample both sides ship before the rounds, to compare their records. */
const SAMPLE_LINES_PER_CONTAINER = 20;

type NodeSide = 'lookout-node' | 'rsyslog-node';
type EsSide = 'lookout-es' | 'loader';
const NODE_SIDES: NodeSide[] = ['lookout-node', 'rsyslog-node'];
const ES_SIDES: EsSide[] = ['lookout-es', 'loader'];

const LABEL: Record<NodeSide | EsSide, string> = {
  'lookout-node': 'Lookout, node mode → Kafka',
  'rsyslog-node': 'rsyslog imfile (wildcard) → omkafka, Lookout’s fields',
  'lookout-es': 'Lookout sidecar → Elasticsearch',
  loader: 'bulk loader → Elasticsearch',
};

/**
 * One `lookout sidecar` in node mode against rsyslog on a node's container logs; then the sidecar's
 * Elasticsearch sink against bench/bulk-load.ts.
 *
 * At the default sizes (1.3 GiB of container logs, 2.1 million lines for Elasticsearch) this takes some
 * 30 minutes on two shared cores. LOOKOUT_BENCH_NODE_LINES_PER_CONTAINER and LOOKOUT_BENCH_ES_LINES_PER_FILE
 * (by default derived from LOOKOUT_BENCH_LINES_PER_FILE) and LOOKOUT_BENCH_ROUNDS make it smaller.
 */
export async function sidecarNodeEsBenchmark(): Promise<BenchmarkSection> {
  await ensureRsyslogKafka();
  const work = await mkdtemp(join(tmpdir(), 'lookout-bench-sidecar-node-es-'));
  try {
    const node = await nodeMode(work);
    const es = await elasticsearch(work);
    return {
      title: SIDECAR_NODE_ES_TITLE,
      machine: [
        await rsyslogVersion(),
        `Kafka ${KAFKA_VERSION} (one KRaft node on loopback)`,
        `Elasticsearch ${ELASTICSEARCH_VERSION} (integ-test-zip, one node on loopback, 512 MiB heap)`,
      ],
      body: [...nodeReport(node), '', ...esReport(es)].join('\n'),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

// ── node mode ───────────────────────────────────────────────────────────────

interface NodeResult {
  work: string;
  logs: ContainerLogSet;
  runs: Run<NodeSide>[];
  comparison: RecordComparison;
}

async function nodeMode(work: string): Promise<NodeResult> {
  const generating = writeContainerLogs(join(work, 'node'), NODE_LINES_PER_CONTAINER);
  const kafka = await startKafka();
  const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  try {
    const logs = await generating;
    await admin.connect();
    log(
      `node mode: ${logs.lines} lines, ${(logs.bytes / MiB).toFixed(0)} MiB in ${logs.links.length} container logs`,
    );
    const comparison = await checkNodeRecords(work, kafka, admin);
    const runs: Run<NodeSide>[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const side of orderOf(NODE_SIDES, round)) {
        const topic = `bench-${side}-${round}`;
        await createTopic(admin, topic);
        try {
          runs.push(await measureNode(work, kafka, admin, logs, side, round, topic));
        } finally {
          await admin.deleteTopics({ topics: [topic] }).catch(() => {});
        }
      }
    }
    return { work, logs, runs, comparison };
  } finally {
    await admin.disconnect().catch(() => {});
    // Nothing reads Kafka from here on; Elasticsearch should not share the machine with it.
    await kafka.close();
  }
}

/** Before the rounds: a small node layout shipped by both sides, every record compared. */
async function checkNodeRecords(work: string, kafka: KafkaServer, admin: Admin): Promise<RecordComparison> {
  const dir = join(work, 'check');
  const sample = await writeContainerLogs(join(dir, 'node'), SAMPLE_LINES_PER_CONTAINER);
  const topics = { lookout: 'bench-check-lookout', other: 'bench-check-rsyslog' };
  for (const [side, topic] of [
    ['lookout-node', topics.lookout],
    ['rsyslog-node', topics.other],
  ] as const) {
    await createTopic(admin, topic);
    await measureNode(dir, kafka, admin, sample, side, 0, topic);
  }
  return shippedAlike(kafka.brokers, admin, sample.lines, topics);
}

async function measureNode(
  work: string,
  kafka: KafkaServer,
  admin: Admin,
  logs: ContainerLogSet,
  side: NodeSide,
  round: number,
  topic: string,
): Promise<Run<NodeSide>> {
  const run = await measuredIn(work, side, round, async (dir): Promise<Started> => {
    if (side === 'lookout-node') {
      const lookout = await LookoutSidecar.start({
        dir,
        mode: 'node',
        paths: [join(logs.root, 'containers', '*.log')],
        sinks: `    kafka: { brokers: ["${kafka.brokers[0]}"], topic: "${topic}", compression: none }`,
      });
      const timeout = runTimeoutMs(logs.lines);
      return lookout.watch(
        'every line acknowledged by Kafka',
        (m) => acked(m, 'kafka') >= logs.lines,
        timeout,
      );
    }
    const shape = { kind: 'node', root: logs.root } as const;
    const config = await writeRsyslogConfig(dir, shape, { broker: kafka.brokers[0]!, topic });
    const proc = await startRsyslog(config, shipperEnv('node'));
    return { process: proc, done: untilTopicHolds(admin, proc, topic, logs.lines) };
  });
  log(runLine(run));
  return run;
}

function nodeReport({ work, logs, runs, comparison }: NodeResult): string[] {
  const figures = {
    'lookout-node': sideFigures(runs, 'lookout-node', logs.lines, logs.bytes),
    'rsyslog-node': sideFigures(runs, 'rsyslog-node', logs.lines, logs.bytes),
  };
  return [
    '### Node mode: one agent, 100 containers’ logs → Kafka',
    '',
    `Input: ${logs.links.length} containers (${CONTAINER_COUNT / 2} pods of 2 containers in 5 namespaces) laid out as the kubelet does: \`pods/<namespace>_<pod>_<uid>/<container>/0.log\`, each linked from \`containers/<pod>_<namespace>_<container>-<id>.log\`; ${logs.lines.toLocaleString('en-US')} CRI lines in all (\`<time with nanoseconds> stdout F <Logback line>\`, one in ten on stderr), ${(logs.bytes / MiB).toFixed(0)} MiB, ${(logs.bytes / logs.lines).toFixed(0)} B a line.`,
    '',
    `Method: as for files → Kafka, ${ROUNDS} rounds, the order alternating.`,
    '',
    "- Lookout: `lookout sidecar` with `mode: node` reading `containers/*.log`, defaults otherwise (container format detected per file, auto parser, records keyed by namespace/pod) but `compression: none`; done when the sink's acknowledged count reaches the line count.",
    '- rsyslog: one imfile input with the wildcard `containers/*.log` (`addMetadata="on"`) → `mmnormalize` on the CRI line (time, stream, tag, the rest) → `mmnormalize` on the rest with the Logback rule base → `mmnormalize` on the file name (pod, namespace, container, container id) → the level lookup table and `hash64` → omkafka with a list template writing Lookout\'s node-mode fields, keyed by namespace/pod (`dynaKey`). It has no `kubernetes.pod.uid`: Lookout reads it from the link\'s target, a path rsyslog does not see (mmkubernetes would ask the API server). It does not join CRI partial lines (`P`); the input has none.',
    '',
    sidesTable(NODE_SIDES, LABEL, figures, [['rsyslog', figures['rsyslog-node']]]),
    '',
    roundsTable(runs, LABEL, logs.lines),
    '',
    `Lookout's memory at its highest RSS in the round with the median peak. ${MEMORY_METHOD}`,
    '',
    memoryTable([[LABEL['lookout-node'], memoryAtPeak(runs, 'lookout-node')]]),
    '',
    `Before the rounds both sides shipped a sample of the same layout (${CONTAINER_COUNT} containers of ${SAMPLE_LINES_PER_CONTAINER} lines) into topics of their own, and every record was read back:`,
    '',
    comparisonText(comparison, 'rsyslog', work),
  ];
}

// ── Elasticsearch ───────────────────────────────────────────────────────────

interface EsResult {
  files: LogFileSet;
  docBytes: number;
  runs: Run<EsSide>[];
}

async function elasticsearch(work: string): Promise<EsResult> {
  const logs = join(work, 'es-logs');
  await mkdir(logs);
  const starting = startElasticsearch();
  let es: ElasticsearchServer | undefined;
  try {
    const files = await writeLogFiles(logs, FILES, ES_LINES_PER_FILE);
    const records = join(work, 'es-records.tsv');
    const docBytes = await writeFileRecords(files, records);
    es = await starting;
    log(
      `Elasticsearch: ${files.lines} lines, ${(files.bytes / MiB).toFixed(0)} MiB; ${(docBytes / MiB).toFixed(0)} MiB of records`,
    );
    await warmUp(es, records, Math.min(files.lines, ES_WARM_UP_DOCS));
    const runs: Run<EsSide>[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const side of orderOf(ES_SIDES, round))
        runs.push(await measureEs(work, es, files, records, side, round));
    }
    return { files, docBytes, runs };
  } finally {
    await (es ?? (await starting.catch(() => undefined)))?.close();
  }
}

/** Loads `docs` records into indices that are then deleted. */
async function warmUp(es: ElasticsearchServer, records: string, docs: number): Promise<void> {
  const prefix = 'bench-warm-up-';
  const loader = startLoader(es, prefix, records);
  try {
    await untilStored(loader, es, prefix, docs);
  } finally {
    await loader.stop();
    await deleteIndices(es, prefix);
  }
}

async function measureEs(
  work: string,
  es: ElasticsearchServer,
  files: LogFileSet,
  records: string,
  side: EsSide,
  round: number,
): Promise<Run<EsSide>> {
  const prefix = `bench-${side}-${round}-`;
  try {
    const run = await measuredIn(work, side, round, async (dir): Promise<Started> => {
      if (side === 'loader') {
        const loader = startLoader(es, prefix, records);
        return { process: loader, done: untilStored(loader, es, prefix, files.lines) };
      }
      const lookout = await LookoutSidecar.start({
        dir,
        mode: 'sidecar',
        paths: [join(files.paths[0]!, '..', '*.log')],
        sinks: `    elasticsearch: { nodes: ["${es.url}"], index: "${prefix}{yyyy.MM.dd}", replicas: 0 }`,
      });
      const stored = async () => (await storedDocs(es, prefix)) >= files.lines;
      return lookout.watch(
        'every line in Elasticsearch',
        stored,
        runTimeoutMs(files.lines, ES_MIN_DOCS_PER_SECOND),
        ES_POLL_MS,
      );
    });
    const stored = await storedDocs(es, prefix);
    if (stored !== files.lines)
      throw new Error(`${prefix}* holds ${stored} documents for ${files.lines} lines`);
    log(runLine(run));
    return run;
  } finally {
    await deleteIndices(es, prefix);
  }
}

function startLoader(es: ElasticsearchServer, prefix: string, records: string): MeasuredProcess {
  const args = [
    LOADER,
    '--node',
    es.url,
    '--index',
    `${prefix}{yyyy.MM.dd}`,
    '--file',
    records,
    '--replicas',
    '0',
  ];
  return new MeasuredProcess(process.execPath, args);
}

function untilStored(
  proc: MeasuredProcess,
  es: ElasticsearchServer,
  prefix: string,
  docs: number,
): Promise<void> {
  return waitUntil(
    proc,
    `${docs} documents in ${prefix}*`,
    async () => (await storedDocs(es, prefix)) >= docs,
    runTimeoutMs(docs, ES_MIN_DOCS_PER_SECOND),
    ES_POLL_MS,
  );
}

/** Documents searchable under the prefix (indices refresh every second). */
async function storedDocs(es: ElasticsearchServer, prefix: string): Promise<number> {
  const response = await fetch(`${es.url}/${prefix}*/_count`);
  if (!response.ok) return 0;
  return ((await response.json()) as { count: number }).count;
}

/** The indices and the template (named after the prefix, see installLogTemplate) of one run. */
async function deleteIndices(es: ElasticsearchServer, prefix: string): Promise<void> {
  await fetch(`${es.url}/${prefix}*`, { method: 'DELETE' }).catch(() => {});
  await fetch(`${es.url}/_index_template/${prefix.replace(/-+$/, '')}*`, { method: 'DELETE' }).catch(
    () => {},
  );
}

function esReport({ files, docBytes, runs }: EsResult): string[] {
  const figures = {
    'lookout-es': sideFigures(runs, 'lookout-es', files.lines, files.bytes),
    loader: sideFigures(runs, 'loader', files.lines, files.bytes),
  };
  return [
    '### Sidecar → Elasticsearch against a direct bulk loader',
    '',
    `Input: ${FILES} Logback files generated as for files → Kafka, ${ES_LINES_PER_FILE.toLocaleString('en-US')} lines each${ES_LINES_PER_FILE < LINES_PER_FILE ? ' (fewer than there: a single-node cluster on this machine takes some 10,000 to 20,000 documents a second)' : ''}: ${files.lines.toLocaleString('en-US')} lines, ${(files.bytes / MiB).toFixed(0)} MiB; as records, ${(docBytes / MiB).toFixed(0)} MiB of JSON.`,
    '',
    `Method: each round runs both sides against the same cluster, each into a fresh index pattern (the same template: one shard, no replica), the order alternating; medians over ${ROUNDS} rounds, after ${Math.min(files.lines, ES_WARM_UP_DOCS).toLocaleString('en-US')} documents loaded and dropped to warm the cluster up. Time runs from spawning the process until \`_count\` over its pattern (polled every ${ES_POLL_MS} ms; indices refresh every second) reaches the line count. MiB/s and CPU s/GiB count the input's bytes on both sides.`,
    '',
    '- Lookout: `lookout sidecar` reading the files, its only sink `elasticsearch` (`replicas: 0`, defaults otherwise: bulk `create` of up to 5,000 documents or 5 MiB, daily indices by `@timestamp`).',
    "- Bulk loader: `bench/bulk-load.ts` sending the records the sidecar's own pipeline made of the same lines (built from the files before the rounds, not timed) as bulk `create` with the same template, in bodies of about 5 MiB, two in flight; it neither reads log files nor parses lines: it is what this cluster takes from one simple client.",
    '',
    sidesTable(ES_SIDES, LABEL, figures, [['bulk loader', figures.loader]]),
    '',
    roundsTable(runs, LABEL, files.lines),
    '',
    `Lookout's memory at its highest RSS in the round with the median peak, measured as above:`,
    '',
    memoryTable([[LABEL['lookout-es'], memoryAtPeak(runs, 'lookout-es')]]),
  ];
}

function log(message: string): void {
  logLine('sidecar-node-es', message);
}
