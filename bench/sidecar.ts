import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { KAFKA_VERSION, type KafkaServer, startKafka } from '../test/infra/kafka.ts';
import { freePort } from '../test/infra/ports.ts';
import { type ProfileEntry, profileSummary, profileTable } from './cpu-profile.ts';
import { type LogFileSet, writeLogFiles } from './logback-lines.ts';
import { acked, LookoutSidecar, shipperEnv } from './lookout-sidecar.ts';
import { type BenchmarkSection, median, table } from './measure.ts';
import { MEMORY_METHOD, type MemoryBreakdown, memoryTable } from './memory-breakdown.ts';
import { comparisonText, type RecordComparison, shippedAlike } from './record-check.ts';
import {
  ensureRsyslogKafka,
  type RsyslogShape,
  rsyslogVersion,
  startRsyslog,
  writeRsyslogConfig,
} from './rsyslog.ts';
import {
  IDLE_LABEL,
  IDLE_METHOD,
  IDLE_SECONDS,
  IDLE_SIDES,
  type IdleRun,
  type IdleSide,
  idleRoundsTable,
  idleTable,
  measureIdle,
} from './sidecar-idle.ts';
import {
  type Admin,
  createTopic,
  FILES,
  type Figures,
  LINES_PER_FILE,
  log as logLine,
  MiB,
  measuredIn,
  memoryAtPeak,
  orderOf,
  ROUNDS,
  type Run,
  ratio,
  roundRatios,
  roundsTable,
  runLine,
  runTimeoutMs,
  type Started,
  sideFigures,
  sidesTable,
  untilTopicHolds,
} from './sidecar-runs.ts';

// The steady state is what the profile is for; a whole run adds minutes and no information.
const PROFILE_MS = 30_000;
/** Lines a file of the sample both sides ship before the rounds, to compare their records. */
const SAMPLE_LINES_PER_FILE = 2_000;
const TARGETS = { throughput: 1.2, peakRssMiB: 128, idleRssMiB: 64, cpuPerGiB: 1.0, ceiling: 2 };

const SIDES = ['lookout', 'rsyslog-ecs', 'rsyslog-raw', 'ceiling'] as const;
type Side = (typeof SIDES)[number];

const LABEL: Record<Side, string> = {
  lookout: 'Lookout sidecar → Kafka',
  'rsyslog-ecs': 'rsyslog imfile → omkafka, Lookout’s fields',
  'rsyslog-raw': 'rsyslog imfile → omkafka, raw line',
  ceiling: 'Lookout files → disk queue (no sink)',
};

interface Context {
  kafka: KafkaServer;
  admin: Admin;
  files: LogFileSet;
  work: string;
}

export const SIDECAR_TITLE = 'Sidecar: Lookout vs rsyslog, files → Kafka';

/**
 * Lookout sidecar vs rsyslog (imfile → omkafka, raw and with Lookout's fields) on one file set and one
 * broker, plus the local ceiling and idle memory.
 *
 * At the default size (1.04 GiB) this takes some 30 to 50 minutes on two shared cores, most of it the
 * five rounds of four runs, and up to some 5 GB of temporary disk (the ceiling's queue; Kafka's topics
 * are deleted after each run). LOOKOUT_BENCH_LINES_PER_FILE (2,100,000), LOOKOUT_BENCH_ROUNDS (5) and
 * LOOKOUT_BENCH_IDLE_SECONDS (10) make it smaller for trying it out.
 */
export async function sidecarBenchmark(): Promise<BenchmarkSection> {
  await ensureRsyslogKafka();
  const work = await mkdtemp(join(tmpdir(), 'lookout-bench-sidecar-'));
  let kafka: KafkaServer | undefined;
  let admin: Admin | undefined;
  try {
    const logs = join(work, 'logs');
    await mkdir(logs);
    const generating = writeLogFiles(logs, FILES, LINES_PER_FILE);
    kafka = await startKafka();
    const files = await generating;
    admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const ctx: Context = { kafka, admin, files, work };
    log(`${files.lines} lines, ${(files.bytes / MiB).toFixed(0)} MiB in ${FILES} files`);

    const runs: Run<Side>[] = [];
    const idle: IdleRun[] = [];
    const comparison = await checkRecords(ctx);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const side of orderOf(SIDES, round)) runs.push(await measure(ctx, side, round));
      for (const side of orderOf(IDLE_SIDES, round)) idle.push(await measureIdle(ctx, side, round));
    }
    const profile = await profileLookout(ctx);
    return {
      title: SIDECAR_TITLE,
      machine: [await rsyslogVersion(), `Kafka ${KAFKA_VERSION} (one KRaft node on loopback)`],
      body: report(work, files, runs, idle, profile, comparison),
    };
  } finally {
    await admin?.disconnect().catch(() => {});
    await kafka?.close();
    await rm(work, { recursive: true, force: true });
  }
}

async function measure(ctx: Context, side: Side, round: number): Promise<Run<Side>> {
  const topic = `bench-${side}-${round}`;
  if (side !== 'ceiling') await createTopic(ctx.admin, topic);
  try {
    const run = await measuredIn(ctx.work, side, round, (dir) =>
      startSide(ctx, { dir, topic, side, files: ctx.files }),
    );
    log(runLine(run));
    return run;
  } finally {
    if (side !== 'ceiling') await ctx.admin.deleteTopics({ topics: [topic] }).catch(() => {});
  }
}

/** Before the rounds: a small file set shipped by Lookout and by rsyslog with Lookout's fields, every record compared. */
async function checkRecords(ctx: Context): Promise<RecordComparison> {
  const dir = join(ctx.work, 'check');
  await mkdir(join(dir, 'logs'), { recursive: true });
  const sample = await writeLogFiles(join(dir, 'logs'), FILES, SAMPLE_LINES_PER_FILE);
  const topics = { lookout: 'bench-check-lookout', other: 'bench-check-rsyslog' };
  for (const [side, topic] of [
    ['lookout', topics.lookout],
    ['rsyslog-ecs', topics.other],
  ] as const) {
    await createTopic(ctx.admin, topic);
    await measuredIn(dir, side, 0, (runDir) => startSide(ctx, { dir: runDir, topic, side, files: sample }));
  }
  return shippedAlike(ctx.kafka.brokers, ctx.admin, sample.lines, topics);
}

/** One side's run: where it works, which topic it fills, which files it reads. */
interface Job {
  dir: string;
  topic: string;
  side: Side;
  files: LogFileSet;
}

function startSide(ctx: Context, job: Job): Promise<Started> {
  return job.side.startsWith('rsyslog') ? startRsyslogSide(ctx, job) : startLookoutSide(ctx, job);
}

const kafkaSink = (ctx: Context, topic: string) =>
  `    kafka: { brokers: ["${ctx.kafka.brokers[0]}"], topic: "${topic}", compression: none }`;

/**
 * `ceiling` is the same process and pipeline with a sink that can never deliver (an HTTP collector on a
 * port nobody listens on): what is measured is reading, parsing and the fsynced disk queue alone, which is
 * as fast as any sink can ever be fed. The queue is made large enough to hold the whole file set.
 */
async function startLookoutSide(ctx: Context, { dir, topic, side, files }: Job): Promise<Started> {
  const ceiling = side === 'ceiling';
  const lookout = await LookoutSidecar.start({
    dir,
    mode: 'sidecar',
    paths: [join(dirname(files.paths[0]!), '*.log')],
    sinks: ceiling
      ? `    http: { url: "http://127.0.0.1:${await freePort()}/api/ingest" }`
      : kafkaSink(ctx, topic),
    queue: ceiling ? '{ maxBytes: 32GiB }' : undefined,
  });
  const timeout = runTimeoutMs(files.lines);
  return ceiling
    ? lookout.watch(
        'every line in the disk queue',
        async () => (await lookout.checkpointedBytes()) >= files.bytes,
        timeout,
      )
    : lookout.watch('every line acknowledged by Kafka', (m) => acked(m, 'kafka') >= files.lines, timeout);
}

async function startRsyslogSide(ctx: Context, { dir, topic, side, files }: Job): Promise<Started> {
  const shape: RsyslogShape = { kind: side === 'rsyslog-raw' ? 'raw' : 'ecs', files: files.paths };
  const config = await writeRsyslogConfig(dir, shape, { broker: ctx.kafka.brokers[0]!, topic });
  const proc = await startRsyslog(config, shipperEnv('sidecar'));
  return { process: proc, done: untilTopicHolds(ctx.admin, proc, topic, files.lines) };
}

/** Part of one more Lookout → Kafka run under the V8 profiler; the profile is written when the process exits. */
async function profileLookout(ctx: Context): Promise<ProfileEntry[] | undefined> {
  const dir = join(ctx.work, 'profile');
  await mkdir(dir);
  const topic = 'bench-profile';
  await createTopic(ctx.admin, topic);
  const lookout = await LookoutSidecar.start({
    dir,
    mode: 'sidecar',
    paths: [join(ctx.work, 'logs', '*.log')],
    sinks: kafkaSink(ctx, topic),
    nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
  });
  try {
    await Promise.race([
      lookout.until(
        'every line acknowledged by Kafka',
        (m) => acked(m, 'kafka') >= ctx.files.lines,
        PROFILE_MS,
      ),
      delay(PROFILE_MS),
    ]).catch(() => {});
  } finally {
    await lookout.process.stop();
    await ctx.admin.deleteTopics({ topics: [topic] }).catch(() => {});
  }
  return profileSummary(dir);
}

function summarise(runs: Run<Side>[], files: LogFileSet): Record<Side, Figures> {
  return Object.fromEntries(SIDES.map((s) => [s, sideFigures(runs, s, files.lines, files.bytes)])) as Record<
    Side,
    Figures
  >;
}

/** The median of the per-round ratios, with each round's after it. */
function pairedRatio(ratios: number[]): string {
  return `${median(ratios).toFixed(2)}× (${ratios.map((r) => r.toFixed(2)).join(', ')})`;
}

function targetsTable(medians: Record<Side, Figures>, runs: Run<Side>[], idle: IdleRun[]): string {
  const lk = medians.lookout;
  const shipping = roundRatios(runs, 'lookout', 'rsyslog-ecs');
  const ceiling = roundRatios(runs, 'ceiling', 'rsyslog-ecs');
  const rs = medians['rsyslog-ecs'];
  const raw = medians['rsyslog-raw'];
  const idleOf = (side: IdleSide) => median(idle.filter((r) => r.side === side).map((r) => r.rssMiB));
  const met = (ok: boolean) => (ok ? 'met' : '**not met**');
  const mib = (v: number) => `${v.toFixed(0)} MiB`;
  const lookoutIdle = idleOf('lookout');
  return table(
    ['measure', 'Lookout', 'rsyslog, Lookout’s fields', 'ratio', 'ratio to raw rsyslog', 'target', 'verdict'],
    [
      [
        'files → Kafka lines/s',
        lk.linesPerSecond,
        rs.linesPerSecond,
        pairedRatio(shipping),
        ratio(lk.linesPerSecond, raw.linesPerSecond),
        `≥ ${TARGETS.throughput}×`,
        met(median(shipping) >= TARGETS.throughput),
      ],
      [
        'peak RSS under that load',
        mib(lk.peakRssMiB),
        mib(rs.peakRssMiB),
        ratio(lk.peakRssMiB, rs.peakRssMiB),
        ratio(lk.peakRssMiB, raw.peakRssMiB),
        `≤ ${TARGETS.peakRssMiB} MiB`,
        met(lk.peakRssMiB <= TARGETS.peakRssMiB),
      ],
      [
        `idle RSS (one empty file, one Kafka sink, after ${IDLE_SECONDS} s)`,
        mib(lookoutIdle),
        mib(idleOf('rsyslog')),
        ratio(lookoutIdle, idleOf('rsyslog')),
        '',
        `≤ ${TARGETS.idleRssMiB} MiB`,
        met(lookoutIdle <= TARGETS.idleRssMiB),
      ],
      [
        'CPU seconds per GiB',
        lk.cpuSecondsPerGiB,
        rs.cpuSecondsPerGiB,
        ratio(lk.cpuSecondsPerGiB, rs.cpuSecondsPerGiB),
        ratio(lk.cpuSecondsPerGiB, raw.cpuSecondsPerGiB),
        `≤ ${TARGETS.cpuPerGiB.toFixed(1)}×`,
        met(lk.cpuSecondsPerGiB <= TARGETS.cpuPerGiB * rs.cpuSecondsPerGiB),
      ],
      [
        'files → disk queue (no sink) lines/s vs rsyslog end to end',
        medians.ceiling.linesPerSecond,
        rs.linesPerSecond,
        pairedRatio(ceiling),
        ratio(medians.ceiling.linesPerSecond, raw.linesPerSecond),
        `≥ ${TARGETS.ceiling}×`,
        met(median(ceiling) >= TARGETS.ceiling),
      ],
    ],
  );
}

function memoryRows(runs: Run<Side>[], idle: IdleRun[]): string {
  return memoryTable([
    [`${LABEL.lookout}, at peak`, memoryAtPeak(runs, 'lookout')],
    [`${LABEL.ceiling}, at peak`, memoryAtPeak(runs, 'ceiling')],
    ...(['lookout', 'lookout-shipped'] as const).map((side): [string, MemoryBreakdown | undefined] => {
      const runs = idle.filter((r) => r.side === side).sort((a, b) => a.rssMiB - b.rssMiB);
      return [`${IDLE_LABEL[side]}, idle ${IDLE_SECONDS} s`, runs[Math.floor((runs.length - 1) / 2)]?.memory];
    }),
  ]);
}

function report(
  work: string,
  files: LogFileSet,
  runs: Run<Side>[],
  idle: IdleRun[],
  profile: ProfileEntry[] | undefined,
  comparison: RecordComparison,
): string {
  const medians = summarise(runs, files);
  const rs = medians['rsyslog-ecs'];
  const raw = medians['rsyslog-raw'];
  const parts = [
    `Input: ${FILES} logback-style files, ${files.lines.toLocaleString('en-US')} lines, ${(files.bytes / MiB).toFixed(0)} MiB (${(files.bytes / files.lines).toFixed(0)} B a line), generated once and read by every run from the start.`,
    '',
    `Method: each round runs every side once against the same broker, each into a fresh one-partition topic, in the order of the table below in odd rounds and the reverse in even ones; the figures are medians over ${ROUNDS} rounds. The throughput ratios of the targets are the median of each round's ratio (each round's after it in brackets): the two sides of a round ran minutes apart, so the drift of a shared machine from one round to the next cancels out of them; the ratios of the medians are in the table of all sides. Time runs from spawning the process until every line is delivered, so start-up is included. CPU seconds (utime + stime) and peak RSS (VmHWM) are read from /proc for the shipping process only; the broker is not counted.`,
    '',
    '- Lookout: `lookout sidecar` with defaults (disk queue, fsync always, acks=all, auto parser, ECS records; with no memory limit on this machine, the heap sizes of a 128 MiB limit, as docs/sidecar.md says under Memory) except `compression: none`, to match omkafka\'s default, with `POD_NAMESPACE` and `POD_NAME` set as the Downward API would; done when `lookout_sidecar_sink_events_total{sink="kafka",outcome="acked"}` reaches the line count. /metrics and `/proc/<pid>/smaps_rollup` are read every 200 ms on the way.',
    `- rsyslog, Lookout's fields: \`rsyslogd -n\` with one imfile input per file (inotify, \`freshStartTail="off"\`, \`persistStateInterval="10000"\`, \`addMetadata="on"\` for the file name and offset, the file's name up to its first dot as the tag) → \`mmnormalize\` (a liblognorm rule base for Logback's pattern: date, time, level) → a \`lookup_table\` for the level (each word mapped as Lookout's parser maps it) → \`hash64\` (fmhash) of the file name for the ids → omkafka with a list template writing the same JSON fields in the same order (\`@timestamp\` from the line, \`message\`, \`log.level\`, \`log.file.path\`, \`log.file.id\`, \`log.offset\`, \`kubernetes.namespace\` and \`kubernetes.pod.name\` read from the environment at start, \`host.name\`, \`service.name\`, \`event.id\`), keyed by namespace/pod as Lookout keys, \`request.required.acks=-1\`, \`resubmitOnFailure="on"\`, \`action.resumeRetryCount="-1"\`; done when the topic's end offsets add up to the line count. rsyslog 8.2302's omkafka cannot set record headers, so Lookout's \`lookout-record\` header (id and time) has no counterpart; its ids are the file name's hash and the offset, not the file's identity (a renamed file's lines would get new ids). Its main queue is in memory and has one worker thread (the defaults), so unlike Lookout it does not survive a crash without loss.`,
    '- rsyslog, raw line: the same inputs without metadata, no parsing, the line as it was in the file (template `%msg%`), no key: what rsyslog costs when it only moves bytes.',
    '- Ceiling: the same Lookout process with its only sink an HTTP collector on a closed port, so nothing leaves the queue; done when the file checkpoints (which move only after the queue append is fsynced) cover every byte. It is the fastest any sink could be fed on this machine.',
    `- Idle: ${IDLE_METHOD} rsyslog runs with the Lookout-fields configuration; its wait starts when it is started, as it says nothing when ready.`,
    '',
    '### Targets',
    '',
    targetsTable(medians, runs, idle),
    '',
    '### All sides',
    '',
    sidesTable(SIDES, LABEL, medians, [
      ['rsyslog, Lookout’s fields', rs],
      ['raw rsyslog', raw],
    ]),
    '',
    '### Rounds',
    '',
    roundsTable(runs, LABEL, files.lines),
    '',
    '### Idle memory, and what Node.js alone takes',
    '',
    idleTable(idle),
    '',
    idleRoundsTable(idle),
    '',
    '### Where Lookout’s memory is',
    '',
    `At the poll with the highest RSS of the round with the median peak, and at the end of the median idle run. ${MEMORY_METHOD}`,
    '',
    memoryRows(runs, idle),
    '',
    '### The records both sides shipped',
    '',
    `Before the rounds Lookout and rsyslog with Lookout's fields shipped a sample made as the input is (${FILES} files of ${SAMPLE_LINES_PER_FILE.toLocaleString('en-US')} lines) into topics of their own, and every record was read back:`,
    '',
    comparisonText(comparison, 'rsyslog', work),
  ];
  if (profile) {
    parts.push(
      '',
      '### Where the time goes',
      '',
      `The first ${PROFILE_MS / 1000} s of one extra Lookout → Kafka run under \`node --cpu-prof\`; functions by self time (main thread; names without a file are native code):`,
      '',
      profileTable(profile),
    );
  }
  return parts.join('\n');
}

function log(message: string): void {
  logLine('sidecar', message);
}
