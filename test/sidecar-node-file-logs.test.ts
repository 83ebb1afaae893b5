import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../core/http.ts';
import { httpSchema } from '../core/http-config.ts';
import { createLogger } from '../core/log.ts';
import { Metrics } from '../core/metrics.ts';
import { sidecarSchema } from '../sidecar/config.ts';
import { emptyDirPath } from '../sidecar/file-logs/pod-files.ts';
import { Sidecar } from '../sidecar/main.ts';
import { kubernetesAccess } from './infra/control.ts';
import { eventually } from './support/lookout-process.ts';
import { gapsAndRepeats, ranges } from './support/numbered-writer.ts';
import { metricInText, pause } from './support/sidecar-run.ts';

const id = randomUUID().slice(0, 8);
const namespace = `file-logs-${id}`;
const kubeconfig = kubernetesAccess().kubeconfig;
const core = (() => {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return kc.makeApiClient(CoreV1Api);
})();

interface Shipped {
  message: string;
  event: { id: string };
  log: { file: { path: string } };
  service?: { name?: string };
  host?: { name?: string };
  kubernetes?: {
    namespace?: string;
    pod?: { name?: string; uid?: string };
    container?: { name?: string };
    node?: { name?: string };
    labels?: Record<string, string>;
  };
}

/**
 * A collector's ingest endpoint: gzip NDJSON in, every record kept. While held, requests wait for
 * the release, so the sidecar's queue fills and its reading stops where it is.
 */
class Ingest {
  readonly records: Shipped[] = [];
  requests = 0;
  private server: Server | undefined;
  private held: Promise<void> | undefined;
  private open: () => void = () => {};

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        this.requests++;
        await this.held;
        const body = Buffer.concat(chunks);
        const text = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body).toString() : String(body);
        const lines = text.trim().split('\n');
        for (const line of lines) this.records.push(JSON.parse(line) as Shipped);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ accepted: lines.length, errors: [] }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/api/ingest`;
  }

  hold(): void {
    this.held = new Promise((resolve) => {
      this.open = resolve;
    });
  }

  release(): void {
    this.held = undefined;
    this.open();
  }

  close(): Promise<void> {
    this.release();
    return new Promise((resolve) => this.server?.close(() => resolve()));
  }
}

/** Where one numbered line must arrive from. */
interface Origin {
  pod: V1Pod;
  container: string;
  path: string;
  /** The labels its file was opened with, when not the pod's at creation. */
  labels?: Record<string, string>;
}

/** Numbered lines over every file of a run, one sequence for all, so each number says where it came from. */
class NumberedLines {
  readonly expected = new Map<number, Origin>();
  readonly run: string;
  private seq = 0;

  constructor(run: string) {
    this.run = run;
  }

  get written(): number {
    return this.seq;
  }

  /** Appends `count` lines to `file` (the path on the node), as `container` of `pod` writes them. */
  async write(origin: Origin, count: number, file = origin.path): Promise<void> {
    let text = '';
    for (let i = 0; i < count; i++) {
      const n = ++this.seq;
      this.expected.set(n, origin);
      text += `${this.run} seq=${n} ${origin.container} ${'x'.repeat(n % 61)}\n`;
    }
    await mkdir(dirname(file), { recursive: true });
    await appendFile(file, text);
  }

  numbers(records: readonly Shipped[]): number[] {
    const pattern = new RegExp(`^${this.run} seq=(\\d+) `);
    return records.flatMap((r) => {
      const match = pattern.exec(r.message);
      return match ? [Number(match[1])] : [];
    });
  }

  /** Every record's metadata against what its number promised; the wrong ones, described. */
  mismatches(records: readonly Shipped[], nodeName: string): string[] {
    const wrong: string[] = [];
    for (const record of records) {
      const n = this.numbers([record])[0];
      const origin = n === undefined ? undefined : this.expected.get(n);
      if (!origin) {
        wrong.push(`no such line: ${record.message.slice(0, 60)}`);
        continue;
      }
      const meta = origin.pod.metadata!;
      const labels = origin.labels ?? meta.labels;
      const got = {
        namespace: record.kubernetes?.namespace,
        pod: record.kubernetes?.pod?.name,
        uid: record.kubernetes?.pod?.uid,
        container: record.kubernetes?.container?.name,
        node: record.kubernetes?.node?.name,
        labels: record.kubernetes?.labels,
        service: record.service?.name,
        host: record.host?.name,
      };
      const want = {
        namespace: meta.namespace,
        pod: meta.name,
        uid: meta.uid,
        container: origin.container,
        node: nodeName,
        labels,
        service: labels?.app ?? origin.container,
        host: nodeName,
      };
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        wrong.push(`seq=${n}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      }
    }
    return wrong;
  }
}

const FILE_LOGS = 'lookout.io/file-logs';

/** A pod bound to a node (no kubelet runs, so it stays Pending), with an emptyDir and containers mounting it. */
function podBody(
  name: string,
  nodeName: string,
  annotation: string | undefined,
  mounts: { container: string; mountPath: string; readOnly?: boolean }[],
  labels: Record<string, string> = {},
): V1Pod {
  const containers = mounts.map((m) => ({
    name: m.container,
    image: 'registry.invalid/app:1',
    volumeMounts: [{ name: 'logs', mountPath: m.mountPath, readOnly: m.readOnly }],
  }));
  return {
    metadata: { name, labels, annotations: annotation === undefined ? {} : { [FILE_LOGS]: annotation } },
    spec: {
      nodeName,
      containers,
      volumes: [
        { name: 'logs', emptyDir: {} },
        { name: 'settings', configMap: { name: 'settings' } },
      ],
    },
  };
}

async function createPod(body: V1Pod): Promise<V1Pod> {
  return core.createNamespacedPod({ namespace, body });
}

/** The pod with other labels or another annotation (none: without it), as `kubectl edit` would leave it. */
async function changePod(
  pod: V1Pod,
  change: { labels?: Record<string, string>; annotation?: string | null },
): Promise<V1Pod> {
  const name = pod.metadata!.name!;
  const current = await core.readNamespacedPod({ namespace, name });
  const meta = current.metadata!;
  if (change.labels) meta.labels = change.labels;
  if (change.annotation === null) delete meta.annotations?.[FILE_LOGS];
  else if (change.annotation !== undefined)
    meta.annotations = { ...meta.annotations, [FILE_LOGS]: change.annotation };
  return core.replaceNamespacedPod({ namespace, name, body: current });
}

/** Without a kubelet, only a deletion without grace removes a bound pod at once. */
async function deletePod(pod: V1Pod): Promise<void> {
  await core.deleteNamespacedPod({ namespace, name: pod.metadata!.name!, gracePeriodSeconds: 0 });
}

/** The files of a pod's volume on the node, under the test's kubelet root. */
function volumeFile(kubeletRoot: string, pod: V1Pod, ...path: string[]): string {
  return join(emptyDirPath(kubeletRoot, pod.metadata!.uid!, 'logs'), ...path);
}

interface Agent {
  sidecar: Sidecar;
  metrics: Metrics;
  logs: string[];
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

const closing: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

/** The node agent in this process, reading file logs of `nodeName`'s pods, shipping to `url`. */
async function startAgent(dir: string, nodeName: string, url: string, queueBytes = '64MiB'): Promise<Agent> {
  const logs: string[] = [];
  const log = createLogger({
    level: 'debug',
    destination: new Writable({
      write: (chunk, _e, cb) => {
        logs.push(String(chunk));
        cb();
      },
    }),
  });
  const metrics = new Metrics({ defaults: false });
  const config = sidecarSchema.parse({
    mode: 'node',
    inputs: [{ paths: [join(dir, 'containers', '*.log')] }],
    scanInterval: '200ms',
    releaseAfter: '1s',
    partialLineTimeout: '1s',
    batchBytes: '16KiB',
    queue: { maxBytes: queueBytes, segmentBytes: '64KiB', fsync: '200ms' },
    retry: { initial: '50ms', max: '1s' },
    fileLogs: {
      nodeName,
      kubeletRoot: join(dir, 'kubelet'),
      kubernetes: { kubeconfig },
      input: { parser: { type: 'none' } },
    },
    sinks: { http: { url } },
  });
  const http = createHttpApp({ config: httpSchema.parse({ listen: '127.0.0.1:0' }), log, metrics });
  const sidecar = new Sidecar(config, { log, metrics, http, dataDir: join(dir, 'data') });
  await sidecar.start();
  closing.push(() => sidecar.stop(AbortSignal.timeout(10_000)));
  return {
    sidecar,
    metrics,
    logs,
    metric: async (name, labels) => metricInText(await metrics.text(), name, labels),
  };
}

/** One test's node: its kubelet root and data in a temp dir, its own collector, its own numbered lines. */
async function nodeOf(letter: string): Promise<{
  dir: string;
  root: string;
  node: string;
  ingest: Ingest;
  url: string;
  lines: NumberedLines;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'lookout-file-logs-'));
  closing.push(() => rm(dir, { recursive: true, force: true }));
  const ingest = new Ingest();
  const url = await ingest.start();
  closing.push(() => ingest.close());
  const lines = new NumberedLines(`f${letter}${Date.now().toString(36)}`);
  return { dir, root: join(dir, 'kubelet'), node: `node-${letter}-${id}`, ingest, url, lines };
}

async function allArrived(lines: NumberedLines, ingest: Ingest, agent: Agent): Promise<void> {
  const total = lines.written;
  await eventually(
    async () => new Set(lines.numbers(ingest.records)).size,
    (n) => n >= total,
    `${total} lines shipped`,
    90_000,
  ).catch((err: Error) => {
    const { missing } = gapsAndRepeats(lines.numbers(ingest.records), total);
    const tail = agent.logs.slice(-20).join('');
    throw new Error(`${err.message}\nmissing ${missing.length}: ${ranges(missing)}\n${tail}`);
  });
}

/** Each line once: a record shipped twice (a retry) carries the same event.id, and is counted once. */
function distinctByEventId(records: readonly Shipped[]): Shipped[] {
  return [...new Map(records.map((r) => [r.event.id, r])).values()];
}

describe('node agent: file logs that pods declare (real API server)', () => {
  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });
  afterAll(async () => {
    await core.deleteNamespace({ name: namespace }).catch(() => {});
  });

  it('reads the files each pod of its node names, with the pod’s metadata, through a rotation; refuses bad annotations', async () => {
    const { dir, root, node, ingest, url, lines } = await nodeOf('a');
    const { run } = lines;

    // The app writes /logs; the shipper reads it read-only: the app's lines are the app's.
    const web = await createPod(
      podBody(
        'web-7d9f8',
        node,
        'logs:/logs/*.log',
        [
          { container: 'shipper', mountPath: '/logs', readOnly: true },
          { container: 'app', mountPath: '/logs' },
        ],
        { app: 'web', team: 'shop' },
      ),
    );
    const refusedVolume = await createPod(
      podBody('settings-0', node, 'settings:/etc/app/*.log', [{ container: 'app', mountPath: '/logs' }]),
    );
    const refusedText = await createPod(
      podBody('typo-0', node, '/logs/*.log', [{ container: 'app', mountPath: '/logs' }]),
    );
    await createPod(podBody('plain-0', node, undefined, [{ container: 'app', mountPath: '/logs' }]));
    const elsewhere = await createPod(
      podBody('elsewhere-0', `node-b-${id}`, 'logs:/logs/*.log', [{ container: 'app', mountPath: '/logs' }]),
    );
    const webApp = { pod: web, container: 'app', path: volumeFile(root, web, 'app.log') };
    const webError = { pod: web, container: 'app', path: volumeFile(root, web, 'error.log') };
    await lines.write(webApp, 300);
    await lines.write(webError, 100);
    // Another node's pod: its files are not this agent's, though they sit under the same root here.
    const foreign = `${run} foreign line`;
    await mkdir(volumeFile(root, elsewhere), { recursive: true });
    await appendFile(volumeFile(root, elsewhere, 'app.log'), `${foreign}\n`);
    for (const pod of [refusedVolume, refusedText]) {
      await mkdir(volumeFile(root, pod), { recursive: true });
      await appendFile(volumeFile(root, pod, 'app.log'), `${run} refused pod\n`);
    }

    const agent = await startAgent(dir, node, url);
    // A pod that comes after the start: two entries, one as the container sees it (with braces), one inside the volume.
    const worker = await createPod(
      podBody(
        'worker-0',
        node,
        'logs:/var/log/worker/{info,error}.log\nlogs:debug/*.log',
        [{ container: 'worker', mountPath: '/var/log/worker' }],
        { app: 'worker' },
      ),
    );
    const workerInfo = { pod: worker, container: 'worker', path: volumeFile(root, worker, 'info.log') };
    const workerError = { pod: worker, container: 'worker', path: volumeFile(root, worker, 'error.log') };
    const workerDebug = {
      pod: worker,
      container: 'worker',
      path: volumeFile(root, worker, 'debug', 'trace.log'),
    };
    for (let round = 0; round < 6; round++) {
      for (const origin of [webApp, webError, workerInfo, workerError, workerDebug])
        await lines.write(origin, 120);
      await appendFile(volumeFile(root, worker, 'other.txt'), `${run} not named\n`);
      if (round === 2) {
        // Rename rotation: the app still writes the renamed file for a moment, then opens a new app.log.
        const rotated = volumeFile(root, web, 'app.log.1');
        await rename(webApp.path, rotated);
        await lines.write(webApp, 50, rotated);
        await lines.write(webApp, 50);
      }
      await pause(200);
    }

    await allArrived(lines, ingest, agent);
    const records = ingest.records.filter((r) => r.message.startsWith(run));
    expect(gapsAndRepeats(lines.numbers(distinctByEventId(records)), lines.written)).toEqual({
      missing: [],
      repeated: [],
    });
    expect(lines.mismatches(records, node).slice(0, 5)).toEqual([]);
    expect(records.filter((r) => r.message.includes('foreign') || r.message.includes('not named'))).toEqual(
      [],
    );
    expect(records.filter((r) => r.message.includes('refused pod'))).toEqual([]);
    expect(await agent.metric('lookout_sidecar_file_log_pods')).toBe(5);
    expect(await agent.metric('lookout_sidecar_file_log_annotations_total', { outcome: 'accepted' })).toBe(2);
    expect(await agent.metric('lookout_sidecar_file_log_annotations_total', { outcome: 'refused' })).toBe(2);
    const refusals = agent.logs.filter((l) => l.includes('file-logs annotation refused'));
    expect(refusals.join('')).toContain('volume settings is not an emptyDir');
    expect(refusals.join('')).toContain('is not <volume>:<pattern>');
    // web's app.log and error.log, worker's three: the rotated app.log.1 was let go once read.
    await eventually(
      () => agent.metric('lookout_sidecar_file_log_files_open'),
      (n) => n === 5,
      'the rotated file released',
      10_000,
    );
  }, 180_000);

  it('reads a deleted pod’s files to their end, though its deletion came before their last lines were read, then lets them go', async () => {
    const { dir, root, node, ingest, url, lines } = await nodeOf('c');
    const batch = await createPod(
      podBody('batch-0', node, 'logs:/data/logs/*.log', [{ container: 'job', mountPath: '/data/logs' }], {
        app: 'batch',
      }),
    );
    const info = { pod: batch, container: 'job', path: volumeFile(root, batch, 'info.log') };
    const debug = { pod: batch, container: 'job', path: volumeFile(root, batch, 'debug.log') };
    await lines.write(info, 2_000);
    await lines.write(debug, 2_000);

    // Nothing is acknowledged and the queue is small: reading stops long before the files' ends.
    ingest.hold();
    const agent = await startAgent(dir, node, url, '128KiB');
    const readLines = async () => {
      let sum = 0;
      for (const { path } of [info, debug])
        sum += (await agent.metric('lookout_sidecar_read_lines_total', { path })) || 0;
      return sum;
    };
    await eventually(readLines, (n) => n > 0, 'the first lines read', 30_000);
    await eventually(
      async () => ingest.requests,
      (n) => n > 0,
      'the first delivery',
      30_000,
    );
    await pause(500);

    await deletePod(batch);
    await eventually(
      () => agent.metric('lookout_sidecar_file_log_pods'),
      (n) => n === 0,
      'the deletion seen',
      30_000,
    );
    const readWhenDeleted = await readLines();
    expect(readWhenDeleted).toBeLessThan(lines.written);
    expect(await agent.metric('lookout_sidecar_file_log_pods_released_total')).toBe(0);

    ingest.release();
    await allArrived(lines, ingest, agent);
    const records = distinctByEventId(ingest.records);
    expect(gapsAndRepeats(lines.numbers(records), lines.written)).toEqual({ missing: [], repeated: [] });
    expect(lines.mismatches(records, node).slice(0, 5)).toEqual([]);
    await eventually(
      () => agent.metric('lookout_sidecar_file_log_pods_released_total'),
      (n) => n === 1,
      'the pod’s files released',
      30_000,
    );
    expect(await agent.metric('lookout_sidecar_file_log_files_open')).toBe(0);
    expect(agent.logs.join('')).toContain('file logs of a deleted pod read to their end and released');

    // Let go: what is written there now is no one's.
    await appendFile(info.path, 'after release\n');
    await pause(1_000);
    expect(ingest.records.filter((r) => r.message.includes('after release'))).toEqual([]);
  }, 180_000);

  it('finishes at its next start the files of a pod deleted while it was stopped, with the pod’s metadata', async () => {
    const { dir, root, node, ingest, url, lines } = await nodeOf('d');
    const nightly = await createPod(
      podBody('nightly-0', node, 'logs:/out/*.log', [{ container: 'job', mountPath: '/out' }], {
        app: 'nightly',
      }),
    );
    const out = { pod: nightly, container: 'job', path: volumeFile(root, nightly, 'out.log') };
    await lines.write(out, 500);
    const first = await startAgent(dir, node, url);
    await allArrived(lines, ingest, first);
    await first.sidecar.stop(AbortSignal.timeout(10_000));

    await lines.write(out, 500);
    await deletePod(nightly);
    const second = await startAgent(dir, node, url);
    await allArrived(lines, ingest, second);
    const records = distinctByEventId(ingest.records);
    expect(gapsAndRepeats(lines.numbers(records), lines.written)).toEqual({ missing: [], repeated: [] });
    expect(lines.mismatches(records, node).slice(0, 5)).toEqual([]);
    await eventually(
      () => second.metric('lookout_sidecar_file_log_pods_released_total'),
      (n) => n === 1,
      'the pod’s files released',
      30_000,
    );
  }, 180_000);

  it('follows a pod’s annotation and labels as they change, and keeps what it read when a change is refused', async () => {
    const { dir, root, node, ingest, url, lines } = await nodeOf('e');
    const v1 = { app: 'api', version: 'v1' };
    const v2 = { app: 'api', version: 'v2' };
    let api = await createPod(
      podBody('api-0', node, 'logs:/logs/info.log', [{ container: 'api', mountPath: '/logs' }], v1),
    );
    const info = { pod: api, container: 'api', path: volumeFile(root, api, 'info.log') };
    await lines.write(info, 100);
    const agent = await startAgent(dir, node, url);
    await allArrived(lines, ingest, agent);

    // New labels go to files opened from then on: info.log was opened with v1.
    api = await changePod(api, { labels: v2, annotation: 'logs:/logs/info.log, logs:/logs/audit.log' });
    const audit = { pod: api, container: 'api', path: volumeFile(root, api, 'audit.log'), labels: v2 };
    await lines.write(audit, 100);
    await lines.write(info, 100);
    await allArrived(lines, ingest, agent);

    await changePod(api, { annotation: 'logs:/nowhere/*.log' });
    await eventually(
      () => agent.metric('lookout_sidecar_file_log_annotations_total', { outcome: 'refused' }),
      (n) => n === 1,
      'the change refused',
      30_000,
    );
    await lines.write(audit, 50);
    await lines.write(info, 50);
    await allArrived(lines, ingest, agent);

    // audit.log no longer named: read to its end, then let go.
    await changePod(api, { annotation: 'logs:/logs/info.log' });
    await lines.write(audit, 50);
    await eventually(
      () => agent.metric('lookout_sidecar_file_log_files_open'),
      (n) => n === 1,
      'audit.log released',
      30_000,
    );
    await appendFile(audit.path, 'written after it was let go\n');
    await lines.write(info, 20);
    await allArrived(lines, ingest, agent);
    const records = distinctByEventId(ingest.records);
    expect(gapsAndRepeats(lines.numbers(records), lines.written)).toEqual({ missing: [], repeated: [] });
    expect(lines.mismatches(records, node).slice(0, 5)).toEqual([]);
    expect(ingest.records.filter((r) => r.message.includes('after it was let go'))).toEqual([]);
    expect(await agent.metric('lookout_sidecar_file_log_pods_released_total')).toBe(0);
  }, 180_000);
});
