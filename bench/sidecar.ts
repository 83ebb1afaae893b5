import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { ensureCommands } from '../test/infra/debian.ts';
import { run } from '../test/infra/exec.ts';
import { KAFKA_VERSION, type KafkaServer, startKafka } from '../test/infra/kafka.ts';
import { freePort } from '../test/infra/ports.ts';
import { type LogFileSet, writeLogFiles } from './logback-lines.ts';
import { type BenchmarkSection, MeasuredProcess, median, table, waitUntil } from './measure.ts';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin', 'lookout.js');
const FILES = 4;
// A million lines: long enough that start-up is a small part of every run, short enough for three rounds in a few minutes.
const LINES_PER_FILE = Number(process.env.LOOKOUT_BENCH_LINES_PER_FILE ?? 250_000);
const ROUNDS = Number(process.env.LOOKOUT_BENCH_ROUNDS ?? 3);
const RUN_TIMEOUT_MS = 5 * 60_000;
// The steady state is what the profile is for; a whole run adds minutes and no information.
const PROFILE_MS = 30_000;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const OMKAFKA_DIRS = [
  '/usr/lib/x86_64-linux-gnu/rsyslog',
  '/usr/lib/aarch64-linux-gnu/rsyslog',
  '/usr/lib/rsyslog',
];

type Side = 'lookout' | 'rsyslog' | 'ceiling';

interface Run {
  side: Side;
  round: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMiB: number;
}

interface Context {
  kafka: KafkaServer;
  admin: ReturnType<Kafka['admin']>;
  files: LogFileSet;
  work: string;
}

export const SIDECAR_TITLE = 'Sidecar: Lookout vs rsyslog, files → Kafka';

/** Lookout sidecar vs rsyslog (imfile → omkafka) on one file set and one broker, plus the local ceiling. */
export async function sidecarBenchmark(): Promise<BenchmarkSection> {
  await ensureRsyslogKafka();
  const rsyslogVersion = (await run('rsyslogd', ['-v']))
    .split('\n')[0]!
    .replace(/ compiled with:.*/, '')
    .replace(/\s+/g, ' ')
    .trim();
  const work = await mkdtemp(join(tmpdir(), 'lookout-bench-sidecar-'));
  let kafka: KafkaServer | undefined;
  let admin: Context['admin'] | undefined;
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

    const runs: Run[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternating who goes first spreads the drift of a shared machine over both sides.
      const order: Side[] = round % 2 ? ['lookout', 'rsyslog', 'ceiling'] : ['rsyslog', 'lookout', 'ceiling'];
      for (const side of order) runs.push(await measure(ctx, side, round));
    }
    const medians = summarise(runs, files);
    const profile =
      medians.lookout.linesPerSecond < medians.rsyslog.linesPerSecond ? await profileLookout(ctx) : undefined;
    return {
      title: SIDECAR_TITLE,
      machine: [rsyslogVersion, `Kafka ${KAFKA_VERSION} (one KRaft node on loopback)`],
      body: report(files, runs, medians, profile),
    };
  } finally {
    await admin?.disconnect().catch(() => {});
    await kafka?.close();
    await rm(work, { recursive: true, force: true });
  }
}

/** omkafka is a plugin, not a command, so its package is checked by the module file. */
async function ensureRsyslogKafka(): Promise<void> {
  await ensureCommands({ rsyslogd: 'rsyslog' });
  if (OMKAFKA_DIRS.some((dir) => existsSync(join(dir, 'omkafka.so')))) return;
  if (process.getuid?.() !== 0)
    throw new Error('rsyslog-kafka is missing; as root run: apt-get install rsyslog-kafka');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = ['install', '-y', '-qq', '--no-install-recommends', 'rsyslog-kafka'];
  await run('apt-get', install, { env }).catch(async () => {
    await run('apt-get', ['update', '-qq'], { env });
    await run('apt-get', install, { env });
  });
}

async function measure(ctx: Context, side: Side, round: number): Promise<Run> {
  const dir = join(ctx.work, `${side}-${round}`);
  await mkdir(dir);
  const topic = `bench-${side}-${round}`;
  if (side !== 'ceiling')
    await ctx.admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  try {
    const proc =
      side === 'rsyslog' ? await startRsyslog(ctx, dir, topic) : await startLookout(ctx, dir, topic, side);
    try {
      await proc.done;
      const result: Run = {
        side,
        round,
        seconds: (performance.now() - proc.process.startedAt) / 1000,
        cpuSeconds: proc.process.cpuSeconds(),
        peakRssMiB: proc.process.peakRssMiB(),
      };
      log(
        `round ${round} ${side}: ${result.seconds.toFixed(1)} s, ${result.cpuSeconds.toFixed(1)} CPU s, ${result.peakRssMiB.toFixed(0)} MiB`,
      );
      return result;
    } finally {
      await proc.process.stop();
    }
  } finally {
    if (side !== 'ceiling') await ctx.admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

interface Started {
  process: MeasuredProcess;
  /** Resolves once every line is where this side delivers it. */
  done: Promise<void>;
}

function lookoutConfig(ctx: Context, dir: string, sink: string, queue: string): string {
  return `http: { listen: "127.0.0.1:0", auth: { enabled: false } }
dataDir: ${join(dir, 'data')}
shutdown: { timeout: 20s }
sidecar:
  inputs:
    - paths: ["${join(ctx.work, 'logs', '*.log')}"]
  queue: ${queue}
  sinks:
    ${sink}
`;
}

/**
 * `ceiling` is the same process and pipeline with a sink that can never deliver (an HTTP collector on a
 * port nobody listens on): what is measured is reading, parsing and the fsynced disk queue alone, which is
 * as fast as any sink can ever be fed. The queue is made large enough to hold the whole file set.
 */
async function startLookout(
  ctx: Context,
  dir: string,
  topic: string,
  side: Side,
  nodeFlags: string[] = [],
): Promise<Started> {
  const ceiling = side === 'ceiling';
  const sink = ceiling
    ? `http: { url: "http://127.0.0.1:${await freePort()}/api/ingest" }`
    : `kafka: { brokers: ["${ctx.kafka.brokers[0]}"], topic: "${topic}", compression: none }`;
  const config = join(dir, 'lookout.yaml');
  await writeFile(config, lookoutConfig(ctx, dir, sink, ceiling ? '{ maxBytes: 32GiB }' : '{}'));
  const proc = new MeasuredProcess(process.execPath, [...nodeFlags, CLI, 'sidecar', '--config', config], {
    ...process.env,
    POD_NAMESPACE: 'bench',
    POD_NAME: 'app-0',
  });
  const done = (async () => {
    const address = await proc.waitForOutput(/API at (http:\/\/\S+?)\/ /, 30_000);
    const checkpoints = join(dir, 'data', 'sidecar', 'checkpoints.json');
    await waitUntil(
      proc,
      ceiling ? 'every line in the disk queue' : 'every line acknowledged by Kafka',
      ceiling
        ? async () => (await checkpointedBytes(checkpoints)) >= ctx.files.bytes
        : async () => (await ackedByKafka(address)) >= ctx.files.lines,
      RUN_TIMEOUT_MS,
    );
  })();
  return { process: proc, done };
}

/** A checkpoint moves only once what precedes it is fsynced in the queue, so the sum is what is durable. */
async function checkpointedBytes(file: string): Promise<number> {
  const { checkpoints } = JSON.parse(await readFile(file, 'utf8')) as {
    checkpoints: Record<string, { offset: number }>;
  };
  return Object.values(checkpoints).reduce((sum, c) => sum + c.offset, 0);
}

async function ackedByKafka(address: string): Promise<number> {
  const text = await (await fetch(`${address}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('lookout_sidecar_sink_events_total{') &&
        l.includes('sink="kafka"') &&
        l.includes('outcome="acked"'),
    );
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/**
 * imfile reads each file from its start (no state yet, freshStartTail off) and omkafka waits for acks=all,
 * retrying without end; the template sends the line as it was in the file.
 */
function rsyslogConfig(ctx: Context, dir: string, topic: string): string {
  const inputs = ctx.files.paths.map(
    (path, i) =>
      `input(type="imfile" file="${path}" tag="app${i}" ruleset="kafka" readMode="0" freshStartTail="off" persistStateInterval="10000")`,
  );
  return `global(workDirectory="${join(dir, 'work')}")
module(load="imfile" mode="inotify")
module(load="omkafka")
template(name="raw" type="string" string="%msg%")
${inputs.join('\n')}
ruleset(name="kafka") {
  action(type="omkafka" broker=["${ctx.kafka.brokers[0]}"] topic="${topic}" template="raw"
         confParam=["compression.codec=none"] topicConfParam=["request.required.acks=-1"]
         resubmitOnFailure="on" action.resumeRetryCount="-1")
}
`;
}

async function startRsyslog(ctx: Context, dir: string, topic: string): Promise<Started> {
  await mkdir(join(dir, 'work'));
  const config = join(dir, 'rsyslog.conf');
  await writeFile(config, rsyslogConfig(ctx, dir, topic));
  const proc = new MeasuredProcess('rsyslogd', ['-n', '-f', config, '-i', join(dir, 'rsyslogd.pid')]);
  const done = waitUntil(
    proc,
    'every line in the topic',
    async () => {
      const offsets = await ctx.admin.fetchTopicOffsets(topic);
      return offsets.reduce((sum, p) => sum + Number(p.high), 0) >= ctx.files.lines;
    },
    RUN_TIMEOUT_MS,
  );
  return { process: proc, done };
}

interface Figures {
  linesPerSecond: number;
  mibPerSecond: number;
  cpuSecondsPerGiB: number;
  peakRssMiB: number;
}

function figures(run: Run, files: LogFileSet): Figures {
  return {
    linesPerSecond: files.lines / run.seconds,
    mibPerSecond: files.bytes / MiB / run.seconds,
    cpuSecondsPerGiB: run.cpuSeconds / (files.bytes / GiB),
    peakRssMiB: run.peakRssMiB,
  };
}

function summarise(runs: Run[], files: LogFileSet): Record<Side, Figures> {
  const of = (side: Side): Figures => {
    const all = runs.filter((r) => r.side === side).map((r) => figures(r, files));
    return {
      linesPerSecond: median(all.map((f) => f.linesPerSecond)),
      mibPerSecond: median(all.map((f) => f.mibPerSecond)),
      cpuSecondsPerGiB: median(all.map((f) => f.cpuSecondsPerGiB)),
      peakRssMiB: median(all.map((f) => f.peakRssMiB)),
    };
  };
  return { lookout: of('lookout'), rsyslog: of('rsyslog'), ceiling: of('ceiling') };
}

interface ProfileEntry {
  name: string;
  selfMs: number;
  share: number;
}

/** Part of one more Lookout → Kafka run under the V8 profiler; the profile is written when the process exits. */
async function profileLookout(ctx: Context): Promise<ProfileEntry[] | undefined> {
  const dir = join(ctx.work, 'profile');
  await mkdir(dir);
  const topic = 'bench-profile';
  await ctx.admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  const started = await startLookout(ctx, dir, topic, 'lookout', ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  try {
    await Promise.race([started.done, delay(PROFILE_MS)]);
  } finally {
    await started.process.stop();
    await ctx.admin.deleteTopics({ topics: [topic] }).catch(() => {});
  }
  const file = (await readdir(dir)).find((f) => f.endsWith('.cpuprofile'));
  return file ? topSelfTime(JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile) : undefined;
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

function topSelfTime(profile: CpuProfile, count = 12): ProfileEntry[] {
  const nameOf = new Map(
    profile.nodes.map((n) => {
      const { functionName, url, lineNumber } = n.callFrame;
      const where = url.replace(`file://${ROOT}/`, '').replace(/^.*\/node_modules\//, '');
      return [n.id, where ? `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}` : functionName];
    }),
  );
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    const name = nameOf.get(id) ?? '?';
    self.set(name, (self.get(name) ?? 0) + us);
  });
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({ name, selfMs: us / 1000, share: us / total }));
}

const LABEL: Record<Side, string> = {
  lookout: 'Lookout sidecar → Kafka',
  rsyslog: 'rsyslog imfile → omkafka',
  ceiling: 'Lookout files → disk queue (no sink)',
};

function report(
  files: LogFileSet,
  runs: Run[],
  medians: Record<Side, Figures>,
  profile: ProfileEntry[] | undefined,
): string {
  const sides: Side[] = ['lookout', 'rsyslog', 'ceiling'];
  const rs = medians.rsyslog;
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  const lk = medians.lookout;
  const verdict = [
    `Throughput: Lookout is at ${ratio(lk.linesPerSecond, rs.linesPerSecond)} rsyslog's lines/s`,
    lk.linesPerSecond >= rs.linesPerSecond ? '(target met);' : '(target: ≥ 1×, not met);',
    `peak RSS ${lk.peakRssMiB.toFixed(0)} MiB`,
    lk.peakRssMiB < 150 ? '(target < 150 MiB met);' : '(target < 150 MiB, not met);',
    `CPU per GiB ${ratio(lk.cpuSecondsPerGiB, rs.cpuSecondsPerGiB)} rsyslog's.`,
    `The local ceiling (files → disk queue) is ${ratio(medians.ceiling.linesPerSecond, lk.linesPerSecond)} Lookout → Kafka.`,
  ].join(' ');
  const parts = [
    `Input: ${FILES} logback-style files, ${files.lines.toLocaleString('en-US')} lines, ${(files.bytes / MiB).toFixed(0)} MiB (${(files.bytes / files.lines).toFixed(0)} B a line), generated once and read by every run from the start.`,
    '',
    'Method: each round runs every side once against the same broker, each into a fresh one-partition topic, with the order of Lookout and rsyslog alternating between rounds; the figures are medians over the rounds. Time runs from spawning the process until every line is delivered, so start-up is included. CPU seconds (utime + stime) and peak RSS (VmHWM) are read from /proc for the shipping process only; the broker is not counted.',
    '',
    '- Lookout: `lookout sidecar` with defaults (disk queue, fsync always, acks=all, auto parser, ECS records) except `compression: none`, to match omkafka\'s default; done when `lookout_sidecar_sink_events_total{sink="kafka",outcome="acked"}` reaches the line count.',
    '- rsyslog: `rsyslogd -n` with imfile (inotify, `freshStartTail="off"`, `persistStateInterval="10000"`) → omkafka (`request.required.acks=-1`, `resubmitOnFailure="on"`, `action.resumeRetryCount="-1"`, raw line template); done when the topic\'s end offsets add up to the line count. Its main queue is in memory (the default), so unlike Lookout it does not survive a crash without loss.',
    '- Ceiling: the same Lookout process with its only sink an HTTP collector on a closed port, so nothing leaves the queue; done when the file checkpoints (which move only after the queue append is fsynced) cover every byte. It is the fastest any sink could be fed on this machine.',
    '',
    verdict,
    '',
    table(
      ['', 'lines/s', 'MiB/s', 'CPU s/GiB', 'peak RSS MiB', 'lines/s vs rsyslog'],
      sides.map((s) => {
        const m = medians[s];
        return [
          LABEL[s],
          m.linesPerSecond,
          m.mibPerSecond,
          m.cpuSecondsPerGiB,
          m.peakRssMiB,
          ratio(m.linesPerSecond, rs.linesPerSecond),
        ];
      }),
    ),
    '',
    '### Rounds',
    '',
    table(
      ['round', 'side', 'seconds', 'lines/s', 'CPU s', 'peak RSS MiB'],
      runs.map((r) => [
        String(r.round),
        LABEL[r.side],
        r.seconds,
        files.lines / r.seconds,
        r.cpuSeconds,
        r.peakRssMiB,
      ]),
    ),
  ];
  if (profile) {
    parts.push(
      '',
      '### Where the time goes',
      '',
      `The first ${PROFILE_MS / 1000} s of one extra Lookout → Kafka run under \`node --cpu-prof\`; functions by self time (main thread; names without a file are native code):`,
      '',
      table(
        ['function', 'self ms', 'share'],
        profile.map((p) => [`\`${p.name}\``, p.selfMs, `${(p.share * 100).toFixed(1)}%`]),
      ),
    );
  }
  return parts.join('\n');
}

function log(message: string): void {
  console.log(`[bench sidecar] ${message}`);
}
