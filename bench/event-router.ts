import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type KubernetesServer, startKubernetes } from '../test/infra/kubernetes.ts';
import { type RobotServer, startRobotServer } from '../test/robots/robot-server.ts';
import { type BenchmarkSection, LOOKOUT_CLI, MeasuredProcess, percentile, table } from './measure.ts';
import { MemorySampler } from './memory.ts';

export const EVENT_ROUTER_TITLE =
  'Event router: Kubernetes events → DingTalk/WeCom robots, against a forward-every-event baseline';

const FORWARDER = join(import.meta.dirname, 'naive-forwarder.ts');
// The issue's size; shorter or lighter runs through the environment for trying the benchmark out.
const LOAD_MS = Number(process.env.LOOKOUT_BENCH_EVENT_MINUTES ?? 5) * 60_000;
const EVENTS_PER_MINUTE = Number(process.env.LOOKOUT_BENCH_EVENTS_PER_MINUTE ?? 10_000);
/** After the load: long enough for the last route windows (30 s) and what the robots' queues hold. */
const DRAIN_MS = Number(process.env.LOOKOUT_BENCH_EVENT_DRAIN_SECONDS ?? 60) * 1000;
const TICK_MS = 100;
const MAX_IN_FLIGHT = 64;
const RSS_SAMPLE_MS = 10_000;
const WINDOW_MS = 60_000;
const PER_MINUTE_LIMIT = 20;
const TARGET_P99_MS = 1000;
/** Probes from this second of the load on count as the steady state. */
const STEADY_AFTER_S = 30;
const RATE_ERRCODES = new Set([130101, 45009]);
const NODES = 20;

type Side = 'router' | 'naive';

// ---------------------------------------------------------------------------------------------------------
// Writing events the way the kubelet, the scheduler, the node controller and node-problem-detector do.

interface KubeEvent {
  apiVersion: 'v1';
  kind: 'Event';
  metadata: { name: string; namespace: string };
  involvedObject: { apiVersion: 'v1'; kind: 'Pod' | 'Node'; namespace?: string; name: string };
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
  source: { component: string; host?: string };
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
}

/** One Event object: created once, then replaced with count + 1 each time the incident recurs. */
interface Incident {
  event: KubeEvent;
  created: boolean;
  busy: boolean;
}

interface Write {
  incident: Incident;
  /** The latency probe's number, for probe events. */
  probe?: number;
}

/** Loopback HTTPS with keep-alive: the generator's own cost must stay small next to the router's. */
class KubeWriter {
  private readonly agent: Agent;
  private readonly kube: KubernetesServer;

  constructor(kube: KubernetesServer) {
    this.kube = kube;
    this.agent = new Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT, ca: readFileSync(kube.caFile) });
  }

  send(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.kube.url}${path}`,
        {
          method,
          agent: this.agent,
          headers: {
            authorization: `Bearer ${this.kube.token}`,
            'content-type': 'application/json',
            ...(payload && { 'content-length': Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** A watch of its own on the API server: calls `onEvent` with each watch event as it is read. */
  watch(path: string, onEvent: (type: string, object: { metadata?: { name?: string } }) => void): () => void {
    const req = request(`${this.kube.url}${path}`, {
      agent: this.agent,
      headers: { authorization: `Bearer ${this.kube.token}` },
    });
    req.on('response', (res) => {
      let buffered = '';
      res.on('data', (chunk: Buffer) => {
        const lines = (buffered + String(chunk)).split('\n');
        buffered = lines.pop()!;
        for (const line of lines.filter(Boolean)) {
          const { type, object } = JSON.parse(line) as {
            type: string;
            object: { metadata?: { name?: string } };
          };
          onEvent(type, object);
        }
      });
    });
    req.on('error', () => {});
    req.end();
    return () => req.destroy();
  }

  close(): void {
    this.agent.destroy();
  }
}

function newEvent(
  namespace: string,
  object: { kind: 'Pod' | 'Node'; name: string },
  reason: string,
  message: string,
  type: 'Normal' | 'Warning',
  source: KubeEvent['source'],
): Incident {
  const now = new Date().toISOString();
  const clusterScoped = object.kind === 'Node';
  return {
    created: false,
    busy: false,
    event: {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${object.name}.${randomUUID().slice(0, 16)}`, namespace },
      involvedObject: {
        apiVersion: 'v1',
        kind: object.kind,
        ...(!clusterScoped && { namespace }),
        name: object.name,
      },
      reason,
      message,
      type,
      source,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    },
  };
}

/** A source of writes at a steady rate per second; `next` says what the next write is. */
interface Stream {
  name: string;
  perSecond: number;
  next: (now: number) => Write | undefined;
}

/** The same pods coming back round-robin: each Event recurs (count + 1) every pool/rate seconds. */
function recurring(pool: Incident[]): () => Write | undefined {
  let i = 0;
  return () => {
    const incident = pool[i++ % pool.length]!;
    return { incident };
  };
}

interface Namespaces {
  apps: string[];
  probe: string;
  shop: string;
}

const hash = () => randomUUID().slice(0, 8);
const nodeName = (i: number) => `node-${String(i % NODES).padStart(2, '0')}`;

/**
 * The mix, for 10,000 writes a minute: pods in CrashLoopBackOff (BackOff, recurring), failing readiness
 * probes (Unhealthy, recurring), one deployment after another that cannot be scheduled (a FailedScheduling
 * storm of 150 pods a minute, recurring), the kernel OOM-killing processes on nodes, five nodes flapping
 * NotReady, the Normal events of healthy pods starting (dropped by the routing) and one latency probe a
 * second, each about an object of its own.
 */
function streams(ns: Namespaces, scale: number): { streams: Stream[]; probes: Map<number, number> } {
  const appNs = (i: number) => ns.apps[i % ns.apps.length]!;
  const podPool = (count: number, prefix: string, reason: string, message: string) =>
    Array.from({ length: count }, (_, i) => {
      const pod = `${prefix}-${hash().slice(0, 5)}-${i}`;
      return newEvent(appNs(i), { kind: 'Pod', name: pod }, reason, message, 'Warning', {
        component: 'kubelet',
        host: nodeName(i),
      });
    });
  const backOff = podPool(300, 'api', 'BackOff', 'Back-off restarting failed container app in pod');
  const unhealthy = podPool(
    100,
    'web',
    'Unhealthy',
    'Readiness probe failed: HTTP probe failed with statuscode: 503',
  );

  let storm: { started: number; pods: Incident[]; next: number } | undefined;
  let storms = 0;
  const failedScheduling = (now: number): Write | undefined => {
    if (!storm || now - storm.started > 60_000) {
      const namespace = appNs(storms);
      const deployment = `batch-${hash().slice(0, 6)}-${storms++}`;
      storm = {
        started: now,
        next: 0,
        pods: Array.from({ length: 150 }, (_, i) =>
          newEvent(
            namespace,
            { kind: 'Pod', name: `${deployment}-${i}` },
            'FailedScheduling',
            `0/${NODES} nodes are available: ${NODES} Insufficient cpu. preemption: 0/${NODES} nodes are available.`,
            'Warning',
            { component: 'default-scheduler' },
          ),
        ),
      };
    }
    return { incident: storm.pods[storm.next++ % storm.pods.length]! };
  };

  let oom = 0;
  const oomKilling = (): Write => {
    const node = nodeName(oom);
    const pid = 10_000 + oom++;
    return {
      incident: newEvent(
        'default',
        { kind: 'Node', name: node },
        'OOMKilling',
        `Memory cgroup out of memory: Killed process ${pid} (java) total-vm:4194304kB, anon-rss:2097152kB`,
        'Warning',
        { component: 'kernel-monitor', host: node },
      ),
    };
  };

  const notReady = Array.from({ length: 5 }, (_, i) => {
    const node = nodeName(NODES - 1 - i);
    // The node controller reports NotReady as a Normal event; routing has to pick it by reason.
    return newEvent(
      'default',
      { kind: 'Node', name: node },
      'NodeNotReady',
      `Node ${node} status is now: NodeNotReady`,
      'Normal',
      { component: 'node-controller' },
    );
  });

  const NORMAL = [
    ['Scheduled', 'default-scheduler', 'Successfully assigned the pod'],
    ['Pulling', 'kubelet', 'Pulling image "registry.example/app:1.4.2"'],
    ['Pulled', 'kubelet', 'Successfully pulled image "registry.example/app:1.4.2" in 1.2s'],
    ['Created', 'kubelet', 'Created container app'],
    ['Started', 'kubelet', 'Started container app'],
  ] as const;
  let normal = 0;
  const normals = (): Write => {
    const podIndex = Math.floor(normal / NORMAL.length);
    const [reason, component, message] = NORMAL[normal++ % NORMAL.length]!;
    return {
      incident: newEvent(
        appNs(podIndex),
        { kind: 'Pod', name: `shop-web-${podIndex}` },
        reason,
        message,
        'Normal',
        { component, host: nodeName(podIndex) },
      ),
    };
  };

  const probes = new Map<number, number>();
  let probe = 0;
  const probeEvent = (): Write => {
    const n = probe++;
    const name = `probe-${String(n).padStart(6, '0')}`;
    return {
      probe: n,
      incident: newEvent(ns.probe, { kind: 'Pod', name }, 'BenchProbe', `latency probe ${n}`, 'Warning', {
        component: 'lookout-bench',
      }),
    };
  };

  return {
    probes,
    streams: [
      { name: 'BackOff', perSecond: 60 * scale, next: recurring(backOff) },
      { name: 'Unhealthy', perSecond: 20 * scale, next: recurring(unhealthy) },
      { name: 'FailedScheduling', perSecond: 23 * scale, next: failedScheduling },
      { name: 'OOMKilling', perSecond: 2 * scale, next: oomKilling },
      { name: 'NodeNotReady', perSecond: 0.5 * scale, next: recurring(notReady) },
      { name: 'Normal', perSecond: 60 * scale, next: normals },
      { name: 'BenchProbe', perSecond: 1, next: probeEvent },
    ],
  };
}

interface LoadFigures {
  writes: number;
  creates: number;
  replaces: number;
  failed: number;
  /** Writes the generator left out because the previous write of the same Event had not been answered. */
  skipped: number;
  seconds: number;
  byStream: Map<string, number>;
  /** Probe number → when the API server answered its create (epoch ms). */
  probes: Map<number, number>;
  writeMs: number[];
}

/** Writes at the mix's rates for `durationMs`, with at most MAX_IN_FLIGHT requests at once. */
async function generateLoad(writer: KubeWriter, ns: Namespaces, durationMs: number): Promise<LoadFigures> {
  const scale = (EVENTS_PER_MINUTE - 60) / (166.5 * 60);
  const { streams: all, probes } = streams(ns, scale);
  const figures: LoadFigures = {
    writes: 0,
    creates: 0,
    replaces: 0,
    failed: 0,
    skipped: 0,
    seconds: 0,
    byStream: new Map(),
    probes,
    writeMs: [],
  };
  const queue: { stream: string; write: Write }[] = [];
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const pump = () => {
    while (inFlight < MAX_IN_FLIGHT && queue.length > 0) {
      const { stream, write } = queue.shift()!;
      const { incident } = write;
      if (incident.busy) {
        figures.skipped++;
        continue;
      }
      incident.busy = true;
      inFlight++;
      const started = performance.now();
      const create = !incident.created;
      const e = incident.event;
      if (!create) {
        e.count++;
        e.lastTimestamp = new Date().toISOString();
      }
      const path = `/api/v1/namespaces/${e.metadata.namespace}/events`;
      const done = create
        ? writer.send('POST', path, e)
        : writer.send('PUT', `${path}/${e.metadata.name}`, e);
      void done
        .then(({ status, json }) => {
          if (status >= 300) throw new Error(`${status} ${JSON.stringify(json).slice(0, 300)}`);
          const answered = Date.now();
          figures.writeMs.push(performance.now() - started);
          figures.writes++;
          if (create) figures.creates++;
          else figures.replaces++;
          figures.byStream.set(stream, (figures.byStream.get(stream) ?? 0) + 1);
          incident.created = true;
          if (write.probe !== undefined) probes.set(write.probe, answered);
        })
        .catch((err: unknown) => {
          if (!create) e.count--;
          if (figures.failed++ < 5) log(`write failed: ${String(err)}`);
        })
        .finally(() => {
          incident.busy = false;
          inFlight--;
          pump();
          if (inFlight === 0 && queue.length === 0) drained?.();
        });
    }
  };
  const started = performance.now();
  const owed = new Map(all.map((s) => [s.name, 0]));
  let lastReport = started;
  for (let tick = 0; ; tick++) {
    const now = performance.now();
    if (now - started >= durationMs) break;
    for (const stream of all) {
      let due = owed.get(stream.name)! + (stream.perSecond * TICK_MS) / 1000;
      for (; due >= 1; due--) {
        const write = stream.next(Date.now());
        if (write) queue.push({ stream: stream.name, write });
      }
      owed.set(stream.name, due);
    }
    pump();
    if (now - lastReport >= 60_000) {
      lastReport = now;
      log(`${figures.writes} writes in ${((now - started) / 1000).toFixed(0)} s, ${queue.length} queued`);
    }
    // Ticks are kept on a fixed grid, so a slow tick does not lower the rate.
    await delay(Math.max(0, started + (tick + 1) * TICK_MS - performance.now()));
  }
  if (inFlight > 0 || queue.length > 0) await new Promise<void>((resolve) => (drained = resolve));
  figures.seconds = (performance.now() - started) / 1000;
  return figures;
}

// ---------------------------------------------------------------------------------------------------------
// The two sides.

interface RobotTally {
  name: string;
  limited: boolean;
  requests: number;
  accepted: number[];
  rejectedForRate: number;
  rejectedOther: number;
}

interface SideRun {
  side: Side;
  load: LoadFigures;
  cpuSeconds: number;
  peakRssMiB: number;
  /** RSS samples during the run, every RSS_SAMPLE_MS. */
  memory: MemorySampler;
  robots: RobotTally[];
  /** For each probe whose message arrived. */
  probes: ProbeTiming[];
  metrics: Map<string, number>;
}

function routerConfig(dir: string, kube: KubernetesServer, robots: RobotServer, id: string): string {
  const ops = robots.dingtalk({ name: `ops-${id}`, secret: `SEC${id}ops` });
  const nodes = robots.dingtalk({ name: `nodes-${id}` });
  const shop = robots.wecom({ name: `shop-${id}` });
  const probe = robots.dingtalk({ name: `probe-${id}`, perMinute: 10_000 });
  return `http: { listen: "127.0.0.1:0", auth: { enabled: false } }
dataDir: ${join(dir, 'data')}
robots:
  ops: { type: dingtalk, baseUrl: "${ops.baseUrl}", accessToken: "${ops.accessToken}", secret: "${ops.secret}" }
  nodes: { type: dingtalk, baseUrl: "${nodes.baseUrl}", accessToken: "${nodes.accessToken}" }
  shop: { type: wecom, baseUrl: "${shop.baseUrl}", key: "${shop.key}" }
  probe: { type: dingtalk, baseUrl: "${probe.baseUrl}", accessToken: "${probe.accessToken}", perMinute: 10000 }
eventRouter:
  kubernetes: { kubeconfig: "${kube.kubeconfig}" }
  routingFile: ${join(dir, 'routes.yaml')}
`;
}

function routes(ns: Namespaces): string {
  return `drop:
  - { type: Normal, reason: [Scheduled, Pulling, Pulled, Created, Started] }
route:
  robots: [ops]
  groupWait: 30s
  routes:
    - match: { reason: BenchProbe }
      robots: [probe]
      groupWait: 0s
    - match: { kind: Node }
      robots: [nodes]
    - match: { namespace: "${ns.shop}" }
      robots: [shop]
      continue: true
    - match: { reason: "/^(BackOff|Unhealthy|FailedScheduling|OOMKilling)$/" }
      robots: [ops]
`;
}

const ROUTER_ROBOTS = ['ops', 'nodes', 'shop', 'probe'] as const;

async function createNamespaces(writer: KubeWriter, side: Side): Promise<Namespaces> {
  const id = hash();
  const apps = ['shop', 'pay', 'search', 'data', 'web', 'batch'].map((team) => `${team}-${side}-${id}`);
  const probe = `probe-${side}-${id}`;
  for (const name of [...apps, probe]) {
    const { status } = await writer.send('POST', '/api/v1/namespaces', { metadata: { name } });
    if (status >= 300) throw new Error(`cannot create namespace ${name}: HTTP ${status}`);
  }
  return { apps, probe, shop: apps[0]! };
}

async function runSide(
  side: Side,
  kube: KubernetesServer,
  writer: KubeWriter,
  robots: RobotServer,
  work: string,
): Promise<SideRun> {
  const dir = await mkdtemp(join(work, `${side}-`));
  const id = hash();
  const ns = await createNamespaces(writer, side);
  let proc: MeasuredProcess;
  let robotNames: { name: string; limited: boolean }[];
  let address: string | undefined;
  if (side === 'router') {
    await writeFile(join(dir, 'routes.yaml'), routes(ns));
    const config = join(dir, 'lookout.yaml');
    await writeFile(config, routerConfig(dir, kube, robots, id));
    proc = new MeasuredProcess(process.execPath, [LOOKOUT_CLI, 'event-router', '--config', config]);
    address = await proc.waitForOutput(/API at (http:\/\/\S+?)\/ /, 30_000);
    await proc.waitForOutput(/event router watching/, 30_000);
    robotNames = ROUTER_ROBOTS.map((r) => ({ name: `${r}-${id}`, limited: r !== 'probe' }));
  } else {
    const naive = robots.dingtalk({ name: `naive-${id}` });
    const url = `${naive.baseUrl}/robot/send?access_token=${naive.accessToken}`;
    proc = new MeasuredProcess(process.execPath, [FORWARDER, kube.kubeconfig, url]);
    await proc.waitForOutput(/forwarder watching/, 30_000);
    robotNames = [{ name: `naive-${id}`, limited: true }];
  }
  // The benchmark's own watch on the probes tells the API server's part of the latency from the router's.
  const watched = new Map<number, number>();
  const list = await writer.send('GET', `/api/v1/namespaces/${ns.probe}/events?limit=1`);
  const stopWatch = writer.watch(
    `/api/v1/namespaces/${ns.probe}/events?watch=true&resourceVersion=${(list.json as { metadata: { resourceVersion: string } }).metadata.resourceVersion}`,
    (type, object) => {
      const n = /^probe-(\d{6})\./.exec(object.metadata?.name ?? '');
      if (type === 'ADDED' && n) watched.set(Number(n[1]), Date.now());
    },
  );
  const memory = new MemorySampler(proc, address, RSS_SAMPLE_MS);
  try {
    log(`${side}: ${EVENTS_PER_MINUTE} events/min for ${LOAD_MS / 60_000} min`);
    const load = await generateLoad(writer, ns, LOAD_MS);
    log(
      `${side}: ${load.writes} writes in ${load.seconds.toFixed(0)} s (${load.failed} failed, ${load.skipped} skipped); draining ${DRAIN_MS / 1000} s`,
    );
    await delay(DRAIN_MS);
    if (proc.exited) throw proc.failure(`the ${side} exited during the run`);
    const metrics = address ? await scrape(address) : new Map<string, number>();
    const cpuSeconds = proc.cpuSeconds();
    const peakRssMiB = proc.peakRssMiB();
    await proc.stop();
    const tallies = robotNames.map(({ name, limited }) => tally(robots, name, limited));
    const probeRobot = side === 'router' ? robots.accepted(`probe-${id}`) : [];
    return {
      side,
      load,
      cpuSeconds,
      peakRssMiB,
      memory,
      robots: tallies,
      probes: probeTimings(probeRobot, load.probes, watched),
      metrics,
    };
  } finally {
    memory.stop();
    stopWatch();
    await proc.stop();
  }
}

function tally(robots: RobotServer, name: string, limited: boolean): RobotTally {
  const rejected = robots.rejected(name);
  return {
    name,
    limited,
    requests: robots.requests(name),
    accepted: robots.accepted(name).map((a) => a.at),
    rejectedForRate: rejected.filter((r) => RATE_ERRCODES.has(r.errcode)).length,
    rejectedOther: rejected.filter((r) => !RATE_ERRCODES.has(r.errcode)).length,
  };
}

interface ProbeTiming {
  /** The probe's number: about the second of the load it was created in. */
  n: number;
  /** From the API server's answer to the create until the robot accepted the message naming the probe. */
  ms: number;
  /** From the API server's answer until the benchmark's own watch saw it: the API server's part. */
  watchMs: number;
}

function probeTimings(
  accepted: { at: number; text: string }[],
  created: Map<number, number>,
  watched: Map<number, number>,
): ProbeTiming[] {
  const timings: ProbeTiming[] = [];
  for (const message of accepted) {
    const n = Number(/probe-(\d{6})/.exec(message.text)?.[1] ?? Number.NaN);
    const answered = created.get(n);
    if (answered === undefined) continue;
    timings.push({ n, ms: message.at - answered, watchMs: (watched.get(n) ?? Number.NaN) - answered });
  }
  return timings;
}

/** The most messages accepted within any 60 s. */
function maxInAnyMinute(ats: number[]): number {
  const sorted = [...ats].sort((a, b) => a - b);
  let max = 0;
  for (let first = 0, last = 0; last < sorted.length; last++) {
    while (sorted[last]! - sorted[first]! >= WINDOW_MS) first++;
    max = Math.max(max, last - first + 1);
  }
  return max;
}

/** The router's own counters, summed by name and label set, for the totals it reports. */
async function scrape(address: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${address}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!/^lookout_(event_router|notify)_\w+(\{[^}]*\})? /.test(line)) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

const sumOf = (metrics: Map<string, number>, prefix: string) =>
  [...metrics].filter(([k]) => k.startsWith(prefix)).reduce((sum, [, v]) => sum + v, 0);

// ---------------------------------------------------------------------------------------------------------

export async function eventRouterBenchmark(): Promise<BenchmarkSection> {
  const kube = await startKubernetes();
  const robots = await startRobotServer();
  const writer = new KubeWriter(kube);
  const work = await mkdtemp(join(tmpdir(), 'lookout-bench-event-router-'));
  try {
    const version = (await writer.send('GET', '/version')).json as { gitVersion: string };
    const router = await runSide('router', kube, writer, robots, work);
    const naive = await runSide('naive', kube, writer, robots, work);
    return {
      title: EVENT_ROUTER_TITLE,
      machine: [`kube-apiserver ${version.gitVersion} with etcd (one member) on loopback`],
      body: report(router, naive),
    };
  } finally {
    writer.close();
    await robots.close();
    await kube.close();
    await rm(work, { recursive: true, force: true });
  }
}

/** Counts print as integers, whatever their size. */
const count = (n: number) => n.toLocaleString('en-US');

function perMinute(count: number, seconds: number): number {
  return (count / seconds) * 60;
}

function report(router: SideRun, naive: SideRun): string {
  const minutes = LOAD_MS / 60_000;
  const limited = router.robots.filter((r) => r.limited);
  const worstMinute = Math.max(...limited.map((r) => maxInAnyMinute(r.accepted)));
  const rateRejections = limited.reduce((sum, r) => sum + r.rejectedForRate, 0);
  const latencies = router.probes.map((p) => p.ms);
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  const watchMs = router.probes.map((p) => p.watchMs).filter(Number.isFinite);
  const routerMs = router.probes.map((p) => p.ms - p.watchMs).filter(Number.isFinite);
  const slowest = [...router.probes]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 5)
    .map((p) => `${p.ms.toFixed(0)} ms at ${p.n} s (API server's part ${p.watchMs.toFixed(0)} ms)`)
    .join(', ');
  // The router starts watching just before the load does, so its first seconds meet every pool's first
  // burst of new objects at once; the steady state is told apart.
  const steady = router.probes.filter((p) => p.n >= STEADY_AFTER_S).map((p) => p.ms);
  const overTarget = latencies.filter((ms) => ms >= TARGET_P99_MS).length;
  const probesSent = router.load.probes.size;
  const messages = (run: SideRun) => run.robots.reduce((sum, r) => sum + r.accepted.length, 0);
  const routed = sumOf(router.metrics, 'lookout_event_router_routed_total');
  const growth = router.memory.growth();
  const verdict = [
    `Latency on the unthrottled robot: p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms`,
    p99 < TARGET_P99_MS ? '(target p99 < 1 s met);' : '(target p99 < 1 s, not met);',
    `after the first ${STEADY_AFTER_S} s of load p50 ${percentile(steady, 50).toFixed(0)} ms, p99 ${percentile(steady, 99).toFixed(0)} ms; ${overTarget} of ${latencies.length} probes took 1 s or more;`,
    `the busiest rate-limited robot got ${worstMinute} messages in its busiest 60 s and the robots rejected ${rateRejections} for rate`,
    worstMinute <= PER_MINUTE_LIMIT && rateRejections === 0
      ? '(target ≤ 20 a minute met);'
      : '(target ≤ 20 a minute, not met);',
    `the router used ${((router.cpuSeconds / router.load.seconds) * 100).toFixed(0)}% of a core and at most ${router.peakRssMiB.toFixed(0)} MiB.`,
    `The forward-every-event baseline made ${naive.robots[0]!.requests.toLocaleString('en-US')} requests, of which the robot accepted ${messages(naive)}: ${(naive.robots[0]!.requests - messages(naive)).toLocaleString('en-US')} events never reached the chat.`,
  ].join(' ');
  const side = (run: SideRun, label: string) => {
    const requests = run.robots.reduce((sum, r) => sum + r.requests, 0);
    const rejected = run.robots.reduce((sum, r) => sum + r.rejectedForRate + r.rejectedOther, 0);
    const limitedRobots = run.robots.filter((r) => r.limited);
    return [
      label,
      count(run.load.writes),
      perMinute(run.load.writes, run.load.seconds),
      count(requests),
      count(messages(run)),
      count(rejected),
      count(Math.max(...limitedRobots.map((r) => maxInAnyMinute(r.accepted)))),
      run.cpuSeconds,
      (run.cpuSeconds / run.load.writes) * 1000,
      run.peakRssMiB,
    ];
  };
  const robotRows = [...router.robots, ...naive.robots].map((r) => {
    const who = r.name.replace(/-[0-9a-f]{8}$/, '');
    return [
      who === 'naive' ? 'naive (baseline)' : who,
      r.limited ? `${PER_MINUTE_LIMIT}/min` : 'unthrottled',
      count(r.requests),
      count(r.accepted.length),
      count(r.rejectedForRate),
      count(r.rejectedOther),
      count(maxInAnyMinute(r.accepted)),
      perMinute(r.accepted.length, (LOAD_MS + DRAIN_MS) / 1000),
    ];
  });
  const mix = [...router.load.byStream]
    .map(([name, n]) => `${name} ${((n / router.load.writes) * 100).toFixed(1)}%`)
    .join(', ');
  const kinds = ['single', 'update', 'storm']
    .map((kind) => `${sumOf(router.metrics, `lookout_event_router_messages_total{kind="${kind}"`)} ${kind}`)
    .join(', ');
  const verdicts = ['new', 'update', 'seen', 'old']
    .map((v) => `${sumOf(router.metrics, `lookout_event_router_events_total{verdict="${v}"`)} ${v}`)
    .join(', ');
  const dropped = sumOf(router.metrics, 'lookout_notify_dropped_total');
  const digested = sumOf(router.metrics, 'lookout_notify_digested_total');
  return [
    `Load: ${EVENTS_PER_MINUTE.toLocaleString('en-US')} Event writes a minute for ${minutes} min into the API server, over 7 namespaces and ${NODES} nodes, by kind of write: ${mix}. BackOff (300 pods), Unhealthy (100 pods) and NodeNotReady (5 nodes) are Event objects that recur: created once, then replaced with count + 1 and a newer lastTimestamp, as the kubelet's recorder does; FailedScheduling is a storm of 150 pods of one deployment a minute, each pod's Event recurring; OOMKilling (node-problem-detector) and the Normal events of starting pods (Scheduled, Pulling, Pulled, Created, Started) are new objects each time; BenchProbe is one event a second, each about a pod of its own. The generator runs in the benchmark process (HTTPS with keep-alive, at most ${MAX_IN_FLIGHT} writes in flight) and achieved ${perMinute(router.load.writes, router.load.seconds).toFixed(0)} writes a minute on the router's run (${router.load.creates.toLocaleString('en-US')} creates, ${router.load.replaces.toLocaleString('en-US')} replaces, ${router.load.failed} failed, ${router.load.skipped} left out while the previous write of the same Event was unanswered; API write p50 ${percentile(router.load.writeMs, 50).toFixed(0)} ms, p99 ${percentile(router.load.writeMs, 99).toFixed(0)} ms).`,
    '',
    `Method: a kube-apiserver and etcd of the benchmark's own; the robots are the DingTalk/WeCom test double (test/robots/robot-server.ts), which enforces the real 20 messages a minute (DingTalk then refuses for 10 minutes) and records when it accepted each message. The two sides run one after the other, each with fresh namespaces and robots and the same load; after the ${minutes} min of load each gets ${DRAIN_MS / 1000} s more before it is stopped, and the figures count that time too. CPU seconds (utime + stime) and peak RSS (VmHWM) are the process's own, from /proc; the API server, etcd and the generator are not counted.`,
    '',
    `- Router: \`lookout event-router\` with its defaults (groupInterval 5m, stormThreshold 10, enrichment on, state file) watching all namespaces; routing: drop the Normal start-up reasons; root route → \`ops\` (DingTalk, signed), groupWait 30s; BenchProbe → \`probe\` (DingTalk, perMinute 10000 on both sides, groupWait 0s: no aggregation delay); kind Node → \`nodes\` (DingTalk); the shop namespace → \`shop\` (WeCom, continue); the Warning reasons → \`ops\`. Latency runs from the API server's answer to the probe's create to the double accepting the message that names the probe.`,
    '- Baseline: kube-eventer could not be built: the Go module proxy answers 403 "This module version is not available" for github.com/AliyunContainerService/kube-eventer (@latest, v1.2.7 and master). In its place `bench/naive-forwarder.ts` does what kube-eventer\'s DingTalk sink does: list + watch Events in all namespaces with client-node and one DingTalk text message per Warning event added or updated (each count increment is a message), sent one at a time, no aggregation, no retry, the answer not read.',
    '',
    verdict,
    '',
    table(
      [
        '',
        'writes',
        'writes/min',
        'robot requests',
        'messages accepted',
        'rejected',
        'max in any 60 s (limited robots)',
        'CPU s',
        'CPU s per 1,000 writes',
        'peak RSS MiB',
      ],
      [side(router, 'Lookout event router'), side(naive, 'Forward every event (baseline)')],
    ),
    '',
    table(
      [
        'robot',
        'limit',
        'requests',
        'accepted',
        'rejected for rate',
        'rejected otherwise',
        'max in any 60 s',
        'accepted/min',
      ],
      robotRows,
    ),
    '',
    `Router: ${router.probes.length} of ${probesSent} probes arrived (latency p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms; of it, from the create's answer to a watch seeing the event, p50 ${percentile(watchMs, 50).toFixed(0)} ms, p99 ${percentile(watchMs, 99).toFixed(0)} ms, and from there to the robot, p50 ${percentile(routerMs, 50).toFixed(0)} ms, p99 ${percentile(routerMs, 99).toFixed(0)} ms; the slowest: ${slowest}); events judged ${verdicts}; ${routed.toLocaleString('en-US')} routed; messages made: ${kinds}; the robots' queues merged ${digested} into digests and dropped ${dropped}. Aggregation: ${router.load.writes.toLocaleString('en-US')} writes became ${messages(router)} messages (${(router.load.writes / Math.max(1, messages(router))).toFixed(0)} writes a message, ${(router.load.writes / Math.max(1, messages(router) - router.probes.length)).toFixed(0)} without the probes). RSS ${growth}.`,
    '',
    router.memory.breakdownAtPeak(),
  ].join('\n');
}

function log(message: string): void {
  console.log(`[bench event-router] ${message}`);
}
