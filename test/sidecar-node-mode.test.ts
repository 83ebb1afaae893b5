import { randomBytes, randomUUID } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { infraAddress } from './infra/control.ts';
import { startPrometheus } from './infra/prometheus.ts';
import { elasticsearchDocs, elasticsearchMessages } from './support/log-stores.ts';
import { eventually, LookoutProcess, writeConfig } from './support/lookout-process.ts';
import { gapsAndRepeats, NumberedWriter, sequenceNumbers } from './support/numbered-writer.ts';
import { untilQueried } from './support/prometheus-api.ts';
import {
  expectAllDelivered,
  metricValue,
  numbersInElasticsearch,
  pause,
  rewriteSidecarConfig,
  type SidecarRun,
  startSidecarRun,
} from './support/sidecar-run.ts';

const running: LookoutProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.kill();
});

type Stream = 'stdout' | 'stderr';

interface NodeDoc {
  '@timestamp': string;
  message: string;
  log: { iostream?: string; file: { path: string } };
  kubernetes?: {
    namespace?: string;
    pod?: { name?: string; uid?: string };
    container?: { name?: string };
  };
}

/**
 * One container's log laid out as the kubelet and a CRI runtime do it:
 * pods/<namespace>_<pod>_<uid>/<container>/0.log, and a link to it at
 * containers/<pod>_<namespace>_<container>-<container id>.log.
 */
class ContainerLog {
  readonly namespace: string;
  readonly pod: string;
  readonly name: string;
  readonly uid = randomUUID();
  readonly id = randomBytes(32).toString('hex');
  private readonly root: string;
  private rotations = 0;
  private rotated: string | undefined;

  constructor(root: string, namespace: string, pod: string, name: string) {
    this.root = root;
    this.namespace = namespace;
    this.pod = pod;
    this.name = name;
  }

  get podDir(): string {
    return join(this.root, 'pods', `${this.namespace}_${this.pod}_${this.uid}`);
  }

  get file(): string {
    return join(this.podDir, this.name, '0.log');
  }

  get link(): string {
    return join(this.root, 'containers', `${this.pod}_${this.namespace}_${this.name}-${this.id}.log`);
  }

  /** The kubelet links the log before the container starts, so the file is found empty. */
  async create(): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    await writeFile(this.file, '');
    await symlink(this.file, this.link);
  }

  /**
   * The kubelet's rotation: the previous rotated file is compressed (and the
   * uncompressed one deleted), 0.log is renamed to 0.log.<time>; the runtime
   * keeps writing to the renamed file until it is asked to reopen. Returns the
   * renamed path.
   */
  async rotate(): Promise<string> {
    if (this.rotated) {
      await writeFile(`${this.rotated}.gz`, gzipSync(await readFile(this.rotated)));
      await rm(this.rotated);
    }
    this.rotations++;
    this.rotated = `${this.file}.20261123-0312${String(this.rotations).padStart(2, '0')}`;
    await rename(this.file, this.rotated);
    return this.rotated;
  }

  /** The runtime's reopen after a rotation: a new 0.log, which the link now leads to. */
  async reopen(): Promise<void> {
    await writeFile(this.file, '', { flag: 'wx' });
  }

  /** The pod is deleted: its log directory and its link go. */
  async remove(): Promise<void> {
    await rm(this.link);
    await rm(this.podDir, { recursive: true });
  }
}

interface Expected {
  container: ContainerLog;
  stream: Stream;
  message: string;
  time: number;
}

/**
 * Numbered CRI lines over every container of a node, one sequence for all, so
 * each number says which container and stream it must arrive with. Every
 * seventh line is split by the runtime into P parts, with a line of the other
 * stream between them, as containerd writes a long line while the other stream
 * is busy.
 */
class CriLines {
  readonly expected = new Map<number, Expected>();
  private readonly run: string;
  private seq = 0;

  constructor(run: string) {
    this.run = run;
  }

  get written(): number {
    return this.seq;
  }

  async write(container: ContainerLog, count: number, file = container.file): Promise<void> {
    let text = '';
    for (let i = 0; i < count; i++) {
      const n = this.next(container);
      const { stream, message, time } = this.expected.get(n)!;
      if (n % 7 !== 3) {
        text += cri(time, stream, 'F', message);
        continue;
      }
      const cuts = [Math.floor(message.length / 3), Math.floor((2 * message.length) / 3)];
      text += cri(time, stream, 'P', message.slice(0, cuts[0]));
      const other = this.next(container, stream === 'stdout' ? 'stderr' : 'stdout', 'between');
      const between = this.expected.get(other)!;
      text += cri(between.time, between.stream, 'F', between.message);
      text += cri(time, stream, 'P', message.slice(cuts[0], cuts[1]));
      text += cri(time, stream, 'F', message.slice(cuts[1]));
    }
    await appendFile(file, text);
  }

  /**
   * The first part of a line the application has not finished: the runtime
   * writes the rest when the newline comes. Until `finish` runs, nothing else
   * may go to the container's stdout, as a runtime would append it to this line.
   */
  async begin(container: ContainerLog): Promise<{ finish(): Promise<void> }> {
    const n = this.next(container, 'stdout', `late ${'z'.repeat(120)}`);
    const { stream, message, time } = this.expected.get(n)!;
    const half = Math.floor(message.length / 2);
    await appendFile(container.file, cri(time, stream, 'P', message.slice(0, half)));
    return { finish: () => appendFile(container.file, cri(time, stream, 'F', message.slice(half))) };
  }

  private next(container: ContainerLog, given?: Stream, body?: string): number {
    const n = ++this.seq;
    const stream = given ?? (n % 5 === 0 ? 'stderr' : 'stdout');
    body ??= n % 7 === 3 ? `split ${'y'.repeat(200 + (n % 300))}` : `payload ${'x'.repeat(1 + (n % 97))}`;
    const time = Date.UTC(2026, 10, 23, 3, 12, 0) + n;
    this.expected.set(n, { container, stream, message: `${this.run} seq=${n} ${stream} ${body}`, time });
    return n;
  }
}

/** `2026-11-23T03:12:00.123456789Z stdout F message`: nanoseconds, as runtimes write them. */
function cri(time: number, stream: Stream, tag: 'F' | 'P', text: string): string {
  const nanos = String(time % 1_000_000).padStart(6, '0');
  return `${new Date(time).toISOString().slice(0, -1)}${nanos}Z ${stream} ${tag} ${text}\n`;
}

/** What a document says against what its number promised; undefined when they agree. */
function mismatch(doc: NodeDoc, want: Expected): string | undefined {
  const got = {
    message: doc.message,
    '@timestamp': doc['@timestamp'],
    'log.iostream': doc.log.iostream,
    'log.file.path': doc.log.file.path,
    'kubernetes.namespace': doc.kubernetes?.namespace,
    'kubernetes.pod.name': doc.kubernetes?.pod?.name,
    'kubernetes.pod.uid': doc.kubernetes?.pod?.uid,
    'kubernetes.container.name': doc.kubernetes?.container?.name,
  };
  const wanted = {
    message: want.message,
    '@timestamp': new Date(want.time).toISOString(),
    'log.iostream': want.stream,
    'log.file.path': want.container.link,
    'kubernetes.namespace': want.container.namespace,
    'kubernetes.pod.name': want.container.pod,
    'kubernetes.pod.uid': want.container.uid,
    'kubernetes.container.name': want.container.name,
  };
  const wrong = Object.keys(wanted).filter(
    (key) => got[key as keyof typeof got] !== wanted[key as keyof typeof wanted],
  );
  if (wrong.length === 0) return undefined;
  return wrong
    .map((key) => `${key}: ${got[key as keyof typeof got]} (want ${wanted[key as keyof typeof wanted]})`)
    .join(', ');
}

/** Whole log lines the process printed since `from` that carry `text`. */
function printedSince(s: SidecarRun, from: number, text: string): string[] {
  const lines = s.sidecar.output.slice(from).join('').split('\n');
  // The last piece may be a line still being written.
  return lines.slice(0, -1).filter((line) => line.includes(text));
}

describe('sidecar on a node and under SIGHUP (real Elasticsearch)', () => {
  it('ships every container log of a kubelet layout once, with its pod, through rotation and pod churn', async () => {
    const s = await startSidecarRun('node', {
      sinks: ['elasticsearch'],
      inputs: [join('containers', '*.log')],
      extra: '  mode: node',
    });
    running.push(s.sidecar);
    await mkdir(join(s.dir, 'containers'));
    const lines = new CriLines(s.run);
    const cartApp = new ContainerLog(s.dir, 'shop', 'cart-7d9f8b6c5-x2k4p', 'app');
    const cartProxy = new ContainerLog(s.dir, 'shop', 'cart-7d9f8b6c5-x2k4p', 'istio-proxy');
    // Same pod and container names in two namespaces: only the path tells them apart.
    const ledger = new ContainerLog(s.dir, 'payments', 'ledger-0', 'app');
    const canary = new ContainerLog(s.dir, 'payments-canary', 'ledger-0', 'app');
    const web = new ContainerLog(s.dir, 'shop', 'web-5c8d7f9b4-q9z7w', 'nginx');
    const live = [cartApp, cartProxy, ledger, canary];
    for (const c of live) {
      await c.create();
      await lines.write(c, 300);
    }
    await s.sidecar.start();

    const rotate = async (c: ContainerLog) => {
      const renamed = await c.rotate();
      await lines.write(c, 40, renamed);
      await c.reopen();
    };
    let unfinished: { finish(): Promise<void> } | undefined;
    for (let round = 0; round < 8; round++) {
      for (const c of live) if (!(unfinished && c === cartProxy)) await lines.write(c, 150);
      if (round === 1) await rotate(cartApp);
      if (round === 2) {
        await web.create();
        live.push(web);
        await lines.write(web, 100);
      }
      if (round === 3) {
        await rotate(ledger);
        await rotate(cartProxy);
      }
      if (round === 4) {
        // A pod that has run for a while: its current file is being followed. (A file created and
        // deleted between two scans is never seen by any tailer that finds files by name.)
        await numbersInElasticsearch(s, lines.written);
        await lines.write(ledger, 2_000);
        await ledger.remove();
        live.splice(live.indexOf(ledger), 1);
      }
      if (round === 5) {
        await rotate(web);
        await rotate(cartApp);
      }
      if (round === 6) {
        await rotate(canary);
        // Its end comes a round later, after the tailer has read and waited on the first part.
        unfinished = await lines.begin(cartProxy);
      }
      if (round === 7) {
        await unfinished?.finish();
        unfinished = undefined;
      }
      await pause(300);
    }
    for (const c of live) await lines.write(c, 200);

    const total = lines.written;
    const numbers = await numbersInElasticsearch(s, total);
    expect(gapsAndRepeats(numbers, total)).toEqual({ missing: [], repeated: [] });
    const docs = await elasticsearchDocs<NodeDoc>(s.indexPattern);
    // A P part sent on its own would be one more document, and one without its number.
    expect(docs).toHaveLength(total);
    const wrong: string[] = [];
    for (const doc of docs) {
      const n = sequenceNumbers([doc.message], s.run)[0];
      const want = n === undefined ? undefined : lines.expected.get(n);
      const problem = want ? mismatch(doc, want) : `no such line: ${doc.message.slice(0, 80)}`;
      if (problem) wrong.push(`seq=${n} ${problem}`);
    }
    expect(wrong.slice(0, 10)).toEqual([]);
    expect(await s.sidecar.stop()).toBe(0);
  }, 240_000);

  it("counts each container's lines by level under its own namespace, pod and container, as Prometheus scrapes them", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lookout-node-metrics-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await mkdir(join(dir, 'containers'));
    const run = `nodemetrics${Date.now().toString(36)}`;
    const sidecar = new LookoutProcess(
      'sidecar',
      await writeConfig(
        dir,
        `
http: { listen: "127.0.0.1:0", auth: { enabled: false } }
dataDir: ${join(dir, 'data')}
sidecar:
  mode: node
  inputs:
    - paths: ["${join(dir, 'containers', '*.log')}"]
  scanInterval: 200ms
  sinks:
    elasticsearch: { nodes: ["${infraAddress('elasticsearch')}"], index: "it-${run}-{yyyy.MM.dd}", replicas: 0 }
`,
      ),
    );
    running.push(sidecar);
    // Same pod and container names in two namespaces: each is counted as its own.
    const ledger = new ContainerLog(dir, 'payments', 'ledger-0', 'app');
    const canary = new ContainerLog(dir, 'payments-canary', 'ledger-0', 'app');
    const time = Date.UTC(2026, 10, 23, 3, 12, 0);
    const write = (c: ContainerLog, levels: string[]) =>
      appendFile(
        c.file,
        levels.map((level, i) => cri(time + i, 'stdout', 'F', `${level} ${c.namespace} line ${i}`)).join(''),
      );
    for (const c of [ledger, canary]) await c.create();
    await write(ledger, ['ERROR', 'ERROR', 'ERROR', 'INFO', 'INFO']);
    await write(canary, ['WARN', 'ERROR', 'ERROR', 'ERROR', 'ERROR']);
    const address = await sidecar.start();
    // As the ServiceMonitor in deploy/ scrapes the node agent: the series' own labels win over the target's.
    await using prometheus = await startPrometheus({
      scrapeTargets: [{ job: 'node-agent', urls: [address], honorLabels: true }],
    });
    const series = (namespace: string, level: string) =>
      `lookout_sidecar_log_events_total{namespace="${namespace}",pod="ledger-0",container="app",level="${level}"}`;
    await untilQueried(prometheus.url, series('payments', 'error'), 3, 30_000);
    await untilQueried(prometheus.url, series('payments', 'info'), 2);
    await untilQueried(prometheus.url, series('payments-canary', 'error'), 4);
    await untilQueried(prometheus.url, series('payments-canary', 'warn'), 1);
    expect(
      await metricValue(address, 'lookout_sidecar_log_events_total', {
        namespace: 'payments-canary',
        level: 'info',
      }),
    ).toBeNaN();
  }, 120_000);

  it('reloads on SIGHUP without sending a line twice, and keeps the old configuration when the new one is invalid', async () => {
    const s = await startSidecarRun('sighup', { sinks: ['elasticsearch'] });
    running.push(s.sidecar);
    const firstInput = s.writer.path;
    const moreRun = `${s.run}more`;
    const more = new NumberedWriter(join(s.dir, 'more'), moreRun);
    await mkdir(join(s.dir, 'more'));
    await s.writer.write(1_000);
    await more.write(500);
    const address = await s.sidecar.start();
    await numbersInElasticsearch(s, s.writer.written);
    expect(sequenceNumbers(await elasticsearchMessages(s.indexPattern), moreRun)).toEqual([]);

    const both = [join('logs', 'app.log'), join('more', '*.log')];
    await rewriteSidecarConfig(s, { inputs: both });
    // Lines written as the pipeline restarts must be read once, by the old or the new one.
    await s.writer.write(500);
    let from = s.sidecar.output.length;
    s.sidecar.hangup();
    await s.writer.write(500);
    await eventually(
      async () => printedSince(s, from, 'configuration reloaded').length,
      (n) => n > 0,
      'the reload to finish',
      30_000,
    );
    await more.write(500);
    await s.writer.write(500);
    await expectAllDelivered({ ...s, run: moreRun, writer: more });
    await expectAllDelivered(s);
    const sentOnce = async () => {
      const sent = await metricValue(address, 'lookout_sidecar_sink_events_total', {
        sink: 'elasticsearch',
        outcome: 'sent',
      });
      const failed = await metricValue(address, 'lookout_sidecar_sink_events_total', {
        sink: 'elasticsearch',
        outcome: 'failed',
      });
      return sent - (Number.isNaN(failed) ? 0 : failed);
    };
    // Elasticsearch stores a line sent twice once (same _id): what was sent and read is counted instead.
    expect(await sentOnce()).toBe(s.writer.written + more.written);
    expect(await metricValue(address, 'lookout_sidecar_read_lines_total', { path: firstInput })).toBe(
      s.writer.written,
    );

    // Invalid, and without the second input: were any of it applied, that input would stop.
    await rewriteSidecarConfig(s, { inputs: [join('logs', 'app.log')], extra: '  colour: blue' });
    from = s.sidecar.output.length;
    s.sidecar.hangup();
    const rejected = await eventually(
      async () => printedSince(s, from, 'reload rejected'),
      (found) => found.length > 0,
      'the reload to be rejected',
      30_000,
    );
    expect(JSON.parse(rejected[0]!)).toMatchObject({ errors: ['sidecar.colour: unknown key'] });
    await s.writer.write(700);
    await more.write(700);
    await expectAllDelivered({ ...s, run: moreRun, writer: more });
    await expectAllDelivered(s);
    expect(printedSince(s, from, 'configuration reloaded')).toEqual([]);
    expect(await sentOnce()).toBe(s.writer.written + more.written);
    expect((await fetch(`${address}/healthz`)).status).toBe(200);
    expect(await s.sidecar.stop()).toBe(0);
  }, 240_000);
});
