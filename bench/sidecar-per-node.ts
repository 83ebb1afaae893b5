import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { Kafka, logLevel } from 'kafkajs';
import { emptyDirPath } from '../sidecar/file-logs/pod-files.ts';
import { KAFKA_VERSION, type KafkaServer, startKafka } from '../test/infra/kafka.ts';
import { type KubernetesServer, startKubernetes } from '../test/infra/kubernetes.ts';
import { writeLogFiles } from './logback-lines.ts';
import { acked, LookoutSidecar } from './lookout-sidecar.ts';
import { type BenchmarkSection, median, table } from './measure.ts';
import { type Admin, createTopic, log as logLine, MiB, ROUNDS, ratio, runTimeoutMs } from './sidecar-runs.ts';

export const SIDECAR_PER_NODE_TITLE =
  'Sidecar: memory per node for 50 pods, a sidecar each or one node agent';

const PODS = 50;
const LINES_PER_POD = Number(process.env.LOOKOUT_BENCH_LINES_PER_POD ?? 20_000);
const NODE_NAME = 'bench-node';
const NAMESPACE = 'bench-pods';
const VOLUME = 'logs';
const SAMPLE_MS = 1_000;
const IDLE_SECONDS = Number(process.env.LOOKOUT_BENCH_IDLE_SECONDS ?? 10);

type Side = 'agent' | 'sidecars';
const LABEL: Record<Side, string> = {
  agent: 'one node agent (file logs from the pods’ emptyDir volumes)',
  sidecars: `${PODS} sidecars, one in each pod`,
};

interface PerNodeRun {
  side: Side;
  round: number;
  seconds: number;
  cpuSeconds: number;
  /** The largest sum over the side's processes, of one sampling. */
  peakPssMiB: number;
  peakRssMiB: number;
  idlePssMiB: number;
  idleRssMiB: number;
}

const log = (message: string) => logLine('sidecar-per-node', message);

/** Proportional set size and RSS of a process: PSS splits shared pages (the node binary) between their users. */
function memoryOf(pid: number): { pss: number; rss: number } {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0);
  return { pss: kib('Pss') / 1024, rss: kib('Rss') / 1024 };
}

function sumOf(shippers: LookoutSidecar[]): { pss: number; rss: number } {
  let pss = 0;
  let rss = 0;
  for (const shipper of shippers) {
    const memory = memoryOf(shipper.process.pid);
    pss += memory.pss;
    rss += memory.rss;
  }
  return { pss, rss };
}

const kubeletRootIn = (work: string) => join(work, 'kubelet');

interface Pod {
  name: string;
  uid: string;
  file: string;
  bytes: number;
}

/**
 * 50 pods of one node, each writing a log file into an emptyDir volume: read by a sidecar in each
 * pod, or by one node agent that finds the files through the pods' annotation (pods created in a real
 * kube-apiserver, the kubelet's directory layout made by the benchmark).
 */
export async function sidecarPerNodeBenchmark(): Promise<BenchmarkSection> {
  const work = await mkdtemp(join(tmpdir(), 'lookout-bench-sidecar-per-node-'));
  let kafka: KafkaServer | undefined;
  let kubernetes: KubernetesServer | undefined;
  let admin: Admin | undefined;
  try {
    [kafka, kubernetes] = await Promise.all([startKafka(), startKubernetes()]);
    admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const pods = await makePods(work, kubernetes);
    const total = PODS * LINES_PER_POD;
    log(`${PODS} pods, ${total} lines`);
    const runs: PerNodeRun[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const sides: Side[] = round % 2 === 1 ? ['agent', 'sidecars'] : ['sidecars', 'agent'];
      for (const side of sides) {
        const topic = `bench-per-node-${side}-${round}`;
        await createTopic(admin, topic);
        const dir = join(work, `${side}-${round}`);
        await mkdir(dir);
        try {
          const run = await measure(side, round, dir, pods, kafka, kubernetes, topic, total);
          log(
            `round ${round} ${side}: ${run.seconds.toFixed(1)} s, peak PSS ${run.peakPssMiB.toFixed(0)} MiB`,
          );
          runs.push(run);
        } finally {
          await admin.deleteTopics({ topics: [topic] }).catch(() => {});
          await rm(dir, { recursive: true, force: true });
        }
      }
    }
    return {
      title: SIDECAR_PER_NODE_TITLE,
      machine: [`Kafka ${KAFKA_VERSION} (one KRaft node on loopback)`, 'kube-apiserver and etcd on loopback'],
      body: report(
        runs,
        total,
        pods.reduce((sum, pod) => sum + pod.bytes, 0),
      ),
    };
  } finally {
    await admin?.disconnect().catch(() => {});
    await kafka?.close();
    await kubernetes?.close();
    await rm(work, { recursive: true, force: true });
  }
}

async function makePods(work: string, kubernetes: KubernetesServer): Promise<Pod[]> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubernetes.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  const pods: Pod[] = [];
  for (let i = 0; i < PODS; i++) {
    const name = `app-${i}`;
    const created = await core.createNamespacedPod({
      namespace: NAMESPACE,
      body: {
        metadata: { name, annotations: { 'lookout.io/file-logs': `${VOLUME}:/logs/*.log` } },
        spec: {
          nodeName: NODE_NAME,
          containers: [
            {
              name: 'app',
              image: 'registry.invalid/app:1',
              volumeMounts: [{ name: VOLUME, mountPath: '/logs' }],
            },
          ],
          volumes: [{ name: VOLUME, emptyDir: {} }],
        },
      },
    });
    const uid = created.metadata!.uid!;
    const dir = emptyDirPath(kubeletRootIn(work), uid, VOLUME);
    await mkdir(dir, { recursive: true });
    const { paths, bytes } = await writeLogFiles(dir, 1, LINES_PER_POD);
    pods.push({ name, uid, file: paths[0]!, bytes });
  }
  return pods;
}

async function measure(
  side: Side,
  round: number,
  dir: string,
  pods: Pod[],
  kafka: KafkaServer,
  kubernetes: KubernetesServer,
  topic: string,
  total: number,
): Promise<PerNodeRun> {
  const kubeletRoot = kubeletRootIn(dirname(dir));
  const sinks = `    kafka: { brokers: ["${kafka.brokers[0]}"], topic: "${topic}", compression: none }`;
  const shippers: LookoutSidecar[] = [];
  const started = performance.now();
  try {
    if (side === 'agent') {
      shippers.push(
        await LookoutSidecar.start({
          dir,
          mode: 'node',
          // No container logs: the agent reads only the pods' file logs.
          paths: [join(dir, 'containers', '*.log')],
          sinks,
          more: `  fileLogs: { nodeName: ${NODE_NAME}, kubeletRoot: ${JSON.stringify(kubeletRoot)}, kubernetes: { kubeconfig: ${JSON.stringify(kubernetes.kubeconfig)} } }`,
        }),
      );
    } else {
      for (const pod of pods) {
        const own = join(dir, pod.name);
        await mkdir(own);
        shippers.push(
          await LookoutSidecar.start({
            dir: own,
            mode: 'sidecar',
            paths: [pod.file],
            sinks,
            env: { POD_NAME: pod.name, POD_NAMESPACE: NAMESPACE },
          }),
        );
      }
    }
    let peakPss = 0;
    let peakRss = 0;
    const deadline = Date.now() + runTimeoutMs(total);
    for (;;) {
      const memory = sumOf(shippers);
      peakPss = Math.max(peakPss, memory.pss);
      peakRss = Math.max(peakRss, memory.rss);
      let shipped = 0;
      for (const shipper of shippers) {
        if (shipper.process.exited) throw shipper.process.failure(`${LABEL[side]}: a shipper exited`);
        shipped += acked((await shipper.sample().catch(() => undefined))?.metrics ?? new Map(), 'kafka');
      }
      if (shipped >= total) break;
      if (Date.now() > deadline)
        throw new Error(`${LABEL[side]}: ${shipped} of ${total} lines shipped in time`);
      await delay(SAMPLE_MS);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpuSeconds = shippers.reduce((sum, s) => sum + s.process.cpuSeconds(), 0);
    await delay(IDLE_SECONDS * 1000);
    const idle = sumOf(shippers);
    return {
      side,
      round,
      seconds,
      cpuSeconds,
      peakPssMiB: peakPss,
      peakRssMiB: peakRss,
      idlePssMiB: idle.pss,
      idleRssMiB: idle.rss,
    };
  } finally {
    await Promise.all(shippers.map((s) => s.process.stop()));
  }
}

function report(runs: PerNodeRun[], total: number, bytes: number): string {
  const of = (side: Side, pick: (r: PerNodeRun) => number) =>
    median(runs.filter((r) => r.side === side).map(pick));
  const row = (side: Side) => [
    LABEL[side],
    String(side === 'agent' ? 1 : PODS),
    of(side, (r) => r.seconds).toFixed(1),
    of(side, (r) => r.cpuSeconds).toFixed(1),
    of(side, (r) => r.peakPssMiB).toFixed(0),
    of(side, (r) => r.peakRssMiB).toFixed(0),
    of(side, (r) => r.idlePssMiB).toFixed(0),
    of(side, (r) => r.idleRssMiB).toFixed(0),
  ];
  const peak = (side: Side) => of(side, (r) => r.peakPssMiB);
  const idle = (side: Side) => of(side, (r) => r.idlePssMiB);
  return [
    `Input: ${PODS} pods on one node, each with one logback-style file of ${LINES_PER_POD.toLocaleString('en-US')} lines in an emptyDir volume (${total.toLocaleString('en-US')} lines, ${(bytes / MiB).toFixed(0)} MiB in all), laid out as the kubelet keeps them under its root; the pods exist in a kube-apiserver with the annotation \`lookout.io/file-logs: ${VOLUME}:/logs/*.log\` and are bound to the node.`,
    '',
    `Method: in each of ${ROUNDS} round${ROUNDS === 1 ? '' : 's'} (medians below), both sides ship every line into a fresh one-partition Kafka topic, in alternating order. The node agent is one \`lookout sidecar\` in node mode, finding the files through a watch of the node's pods; the sidecars are ${PODS} \`lookout sidecar\` processes, each reading its pod's file with its pod's name and namespace set as the Downward API would. Both use defaults otherwise (\`compression: none\`), so each process sizes its heap as docs/sidecar.md says under Memory. Memory is the sum over the side's processes of PSS (proportional set size: the pages of the node binary that all the processes share are split between them, as they are on a real node) and of RSS (each process counting shared pages in full), from \`/proc/<pid>/smaps_rollup\` every ${SAMPLE_MS / 1000} s; peak is the largest sum of one sampling, idle the sum ${IDLE_SECONDS} s after the last line was acknowledged.`,
    '',
    table(
      [
        '',
        'processes',
        'seconds',
        'CPU s',
        'peak memory MiB (PSS)',
        'peak RSS sum MiB',
        'idle memory MiB (PSS)',
        'idle RSS sum MiB',
      ],
      [row('agent'), row('sidecars')],
    ),
    '',
    `Memory per node for ${PODS} pods: one node agent takes ${ratio(peak('agent'), peak('sidecars'))} of what a sidecar in each pod takes at the peak, ${ratio(idle('agent'), idle('sidecars'))} when idle.`,
    '',
    table(
      ['round', 'side', 'seconds', 'CPU s', 'peak PSS MiB', 'peak RSS MiB', 'idle PSS MiB', 'idle RSS MiB'],
      runs.map((r) => [
        String(r.round),
        LABEL[r.side],
        r.seconds.toFixed(1),
        r.cpuSeconds.toFixed(1),
        r.peakPssMiB.toFixed(0),
        r.peakRssMiB.toFixed(0),
        r.idlePssMiB.toFixed(0),
        r.idleRssMiB.toFixed(0),
      ]),
    ),
  ].join('\n');
}
