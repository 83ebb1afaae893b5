import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { BUDGET_WITHOUT_LIMIT, v8Flags } from '../core/memory-limit.ts';
import type { KafkaServer } from '../test/infra/kafka.ts';
import { logbackLine, logbackTime, writeLines, xorshift } from './logback-lines.ts';
import { acked, LookoutSidecar, shipperEnv } from './lookout-sidecar.ts';
import { MeasuredProcess, median, table } from './measure.ts';
import type { MemoryBreakdown } from './memory-breakdown.ts';
import { startRsyslog, writeRsyslogConfig } from './rsyslog.ts';
import { type Admin, createTopic, log as logLine, runTimeoutMs } from './sidecar-runs.ts';

export const IDLE_SECONDS = Number(process.env.LOOKOUT_BENCH_IDLE_SECONDS ?? 10);
/** Lines shipped before the idle wait on the "shipped" sides: enough for every hot function to be optimised. */
const SHIPPED_LINES = 200_000;
const FLOOR = join(import.meta.dirname, 'node-floor.js');

export const IDLE_SIDES = [
  'lookout',
  'lookout-shipped',
  'floor',
  'floor-shipped',
  'floor-libraries',
  'rsyslog',
] as const;
export type IdleSide = (typeof IDLE_SIDES)[number];

export const IDLE_LABEL: Record<IdleSide, string> = {
  lookout: 'Lookout sidecar, nothing shipped yet',
  'lookout-shipped': `Lookout sidecar, after shipping ${SHIPPED_LINES.toLocaleString('en-US')} lines`,
  floor: 'Node.js floor, nothing read yet',
  'floor-shipped': `Node.js floor, after encoding the same ${SHIPPED_LINES.toLocaleString('en-US')} lines`,
  'floor-libraries': 'Node.js floor with Lookout’s libraries loaded, nothing read yet',
  rsyslog: 'rsyslog, Lookout’s fields, nothing shipped yet',
};

export interface IdleContext {
  kafka: KafkaServer;
  admin: Admin;
  work: string;
}

export interface IdleRun {
  side: IdleSide;
  round: number;
  rssMiB: number;
  fileMiB: number;
  memory?: MemoryBreakdown;
}

/**
 * One file, one Kafka sink, nothing left to send: RSS once the process has been idle IDLE_SECONDS. The
 * file is empty, or on the "shipped" sides holds SHIPPED_LINES lines that are all delivered (Lookout)
 * or encoded (the floor) first. The floor is bench/node-floor.js under the heap sizes the sidecar gives
 * itself, so what Node.js alone costs is measured in the same run.
 */
export async function measureIdle(ctx: IdleContext, side: IdleSide, round: number): Promise<IdleRun> {
  const dir = join(ctx.work, `idle-${side}-${round}`);
  const logs = join(dir, 'logs');
  await mkdir(logs, { recursive: true });
  const file = join(logs, 'idle.log');
  const lines = side.endsWith('-shipped') ? SHIPPED_LINES : 0;
  if (lines > 0) {
    const random = xorshift(0x5eed);
    await writeLines(file, lines, (i) => logbackLine(logbackTime(Date.UTC(2026, 10, 23) + i * 7), random));
  } else await writeFile(file, '');
  const topic = `bench-idle-${side}-${round}`;
  await createTopic(ctx.admin, topic);
  try {
    const run = await idleRun(ctx, side, round, { file, lines, dir, topic });
    logLine('sidecar', `round ${round} idle ${side}: ${run.rssMiB.toFixed(0)} MiB`);
    return run;
  } finally {
    await ctx.admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

interface IdleJob {
  file: string;
  lines: number;
  dir: string;
  topic: string;
}

async function idleRun(ctx: IdleContext, side: IdleSide, round: number, job: IdleJob): Promise<IdleRun> {
  const broker = ctx.kafka.brokers[0]!;
  if (side === 'lookout' || side === 'lookout-shipped') {
    const lookout = await LookoutSidecar.start({
      dir: job.dir,
      mode: 'sidecar',
      paths: [job.file],
      sinks: `    kafka: { brokers: ["${broker}"], topic: "${job.topic}", compression: none }`,
    });
    try {
      await lookout.until(
        'every line acknowledged by Kafka',
        (m) => acked(m, 'kafka') >= job.lines,
        runTimeoutMs(job.lines),
      );
      await delay(IDLE_SECONDS * 1000);
      const { memory } = await lookout.sample();
      return { side, round, rssMiB: memory.rss, fileMiB: memory.fileBacked, memory };
    } finally {
      await lookout.process.stop();
    }
  }
  const proc =
    side === 'rsyslog'
      ? await startRsyslog(
          await writeRsyslogConfig(job.dir, { kind: 'ecs', files: [job.file] }, { broker, topic: job.topic }),
          shipperEnv('sidecar'),
        )
      : new MeasuredProcess(
          process.execPath,
          [
            ...v8Flags('sidecar', BUDGET_WITHOUT_LIMIT.sidecar!),
            FLOOR,
            job.file,
            broker,
            ...(side === 'floor-libraries' ? ['--libraries'] : []),
          ],
          {
            ...shipperEnv('sidecar'),
            MALLOC_ARENA_MAX: '2',
          },
        );
  try {
    // rsyslog says nothing when it is ready: its wait starts at its start.
    if (side !== 'rsyslog') await proc.waitForOutput(/floor ready/, runTimeoutMs(job.lines));
    await delay(IDLE_SECONDS * 1000);
    if (proc.exited) throw proc.failure(`${side} exited while idle`);
    return { side, round, rssMiB: proc.rssMiB(), fileMiB: proc.rssFileMiB() };
  } finally {
    await proc.stop();
  }
}

export const IDLE_METHOD = `Each side is started on one file with one Kafka sink and its RSS (VmRSS, with its file-backed part: pages of the node binary and libraries) read once it has been idle ${IDLE_SECONDS} s, once a round. The file is empty, or on the "after" sides holds ${SHIPPED_LINES.toLocaleString('en-US')} lines of the same kind as the input, all acknowledged by Kafka before the wait. The Node.js floor is \`bench/node-floor.js\`: some 70 lines of plain JavaScript using Node's built-ins only, doing what an idle sidecar does (it watches the file, holds a connection to the broker, answers HTTP), and on its "after" side first reading the file and encoding a JSON record of each line into a reused batch buffer with a CRC, as a sidecar that shipped them did. It runs with the heap sizes and allocator setting the sidecar gives itself. It is what any sidecar written for Node.js costs before it does anything more. The floor with Lookout's libraries is the same script having also loaded what the sidecar runs on besides its own code (zod, yaml, pino, and prom-client's metric classes with its default metrics), with Node's compile cache on as Lookout has it, without using them.`;

/** Medians of each side's idle memory. */
export function idleTable(idle: IdleRun[]): string {
  const of = (side: IdleSide, value: (r: IdleRun) => number) =>
    median(idle.filter((r) => r.side === side).map(value));
  return table(
    [`idle, after ${IDLE_SECONDS} s`, 'RSS MiB', 'file-backed MiB', 'anonymous MiB'],
    IDLE_SIDES.map((side) => [
      IDLE_LABEL[side],
      of(side, (r) => r.rssMiB).toFixed(1),
      of(side, (r) => r.fileMiB).toFixed(1),
      of(side, (r) => r.rssMiB - r.fileMiB).toFixed(1),
    ]),
  );
}

export function idleRoundsTable(idle: IdleRun[]): string {
  return table(
    ['round', 'side', 'idle RSS MiB', 'file-backed MiB'],
    idle.map((r) => [String(r.round), IDLE_LABEL[r.side], r.rssMiB.toFixed(1), r.fileMiB.toFixed(1)]),
  );
}
