import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { listen, selfSignedCertificate } from '../../alert-rules/probes/fixtures/probe-fixtures.ts';
import { kafkaBrokers, kubernetesAccess } from '../infra/control.ts';
import { freePorts } from '../infra/ports.ts';
import { type HttpServer, type ScrapeJob, startPrometheus } from '../infra/prometheus.ts';
import { startRobotServer } from '../robots/robot-server.ts';
import { createNamespace, deleteNamespace, EventRecorder } from './kube-events.ts';
import { LookoutProcess } from './lookout-process.ts';
import { ScriptedExporter } from './scripted-exporter.ts';

/** The components as they are deployed, one process (and one Prometheus job) each. */
export const COMPONENTS = ['sidecar', 'collector', 'event-router', 'alert-rules'] as const;
export type Component = (typeof COMPONENTS)[number];

/** The Kubernetes namespace the test's scrape targets claim, as a PodMonitor's relabelling writes it. */
const NAMESPACE = 'lookout';

/** Three alerts that fire at once: one is silenced; the robot refuses the first message of the others and takes the second. */
const RULES = `
groups:
  - name: dashboards
    interval: 1s
    rules:
      - alert: LookoutSidecarScraped
        expr: up{job="lookout-sidecar"} == 1
      - alert: LookoutCollectorScraped
        expr: up{job="lookout-collector"} == 1
      - alert: LookoutEventRouterScraped
        expr: up{job="lookout-event-router"} == 1
`;

/** Alertmanager routing of every alert to the `oncall` robot, grouped by name, quickly. */
export const ROUTING = `
route:
  receiver: oncall
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
`;

const MODULES = (caFile: string) => `
modules:
  http_2xx: { prober: http, timeout: 2s }
  https_ca:
    prober: http
    timeout: 2s
    http: { preferred_ip_protocol: ip4, tls_config: { ca_file: ${caFile} } }
`;

/**
 * Answers the sidecar's first request to the collector's ingest as a busy
 * collector does, 503 for every line (so the sink retries them), and passes
 * the rest on to the collector.
 */
async function busyOnceIngest(collectorUrl: string) {
  let answered = false;
  return listen(
    createServer(async (request, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      const encoding = request.headers['content-encoding'];
      if (!answered) {
        answered = true;
        const lines = String(encoding === 'gzip' ? gunzipSync(body) : body)
          .split('\n')
          .filter(Boolean);
        const errors = lines.map((_, line) => ({ line, status: 503, reason: 'busy' }));
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ accepted: 0, duplicates: 0, empty: 0, errors }));
        return;
      }
      const answer = await fetch(`${collectorUrl}${request.url}`, {
        method: 'POST',
        headers: {
          'content-type': request.headers['content-type'] ?? 'application/x-ndjson',
          ...(encoding && { 'content-encoding': encoding }),
        },
        body,
      });
      response.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text());
    }),
  );
}

/**
 * kube-state-metrics' request and limit series of the jobs' containers,
 * labelled as kube-state-metrics labels them, from a scripted exporter: the
 * test servers include no kube-state-metrics.
 */
async function kubeStateMetricsStandIn(jobs: ScrapeJob[]): Promise<ScriptedExporter> {
  const exporter = await ScriptedExporter.start();
  const MiB = 2 ** 20;
  for (const { labels = {} } of jobs) {
    const container = { namespace: NAMESPACE, pod: labels.pod ?? '', container: labels.container ?? '' };
    const set = (name: string, resource: string, unit: string, value: number) =>
      exporter.set(name, { ...container, node: 'node-1', resource, unit }, value);
    set('kube_pod_container_resource_requests', 'cpu', 'core', 0.1);
    set('kube_pod_container_resource_requests', 'memory', 'byte', 256 * MiB);
    set('kube_pod_container_resource_limits', 'memory', 'byte', 512 * MiB);
  }
  return exporter;
}

export interface Pipeline {
  prometheus: HttpServer;
  /** Appends lines to the log file the sidecar tails. */
  log(lines: string[]): Promise<void>;
  /** Creates a Warning event about a pod in the namespace the event router watches. */
  event(pod: string, reason: string): Promise<void>;
  /** Silences alerts named `alertname` on alert-rules' Alertmanager API. */
  silence(alertname: string): Promise<void>;
  /** The next message of each robot (event router's, alert-rules') is refused for good, as a wrong keyword is. */
  refuseNextMessages(): void;
  close(): Promise<void>;
}

/**
 * A small Lookout pipeline, each component a `lookout` process as it is
 * deployed: a sidecar shipping a file to Kafka and to the collector's ingest,
 * the collector consuming Kafka into its embedded store, the event router
 * watching the real API server and telling a robot of the double, and
 * alert-rules evaluating a rule against the real Prometheus that scrapes them
 * all, probing an HTTP and an HTTPS site. Everything is removed by close().
 */
export async function startPipeline(): Promise<Pipeline> {
  const id = Math.random().toString(36).slice(2, 8);
  const dir = await mkdtemp(join(tmpdir(), 'lookout-dashboards-'));
  const closers: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer().catch(() => {});
  };
  try {
    // Chosen ahead: alert-rules needs Prometheus's address, and Prometheus the processes'.
    const free = await freePorts(COMPONENTS.length);
    const ports = Object.fromEntries(COMPONENTS.map((c, i) => [c, free[i]])) as Record<Component, number>;
    const url = (port: number) => `http://127.0.0.1:${port}`;
    const topic = `dashboards-${id}`;
    const logFile = join(dir, 'logs', 'app.log');
    await mkdir(join(dir, 'logs'));
    await writeFile(logFile, '');

    const robots = await startRobotServer();
    closers.push(() => robots.close());
    const robotSettings = (name: string) => {
      const robot = robots.dingtalk({ name: `${name}-${id}`, secret: `SEC${id}signing` });
      return `{ type: dingtalk, baseUrl: "${robot.baseUrl}", accessToken: "${robot.accessToken}", secret: "${robot.secret}", retry: { minDelay: 200ms, maxDelay: 1s } }`;
    };
    const namespace = await createNamespace('dashboards');
    closers.push(() => deleteNamespace(namespace));

    const certificate = selfSignedCertificate(30);
    closers.push(async () => certificate.remove());
    const site = await listen(createServer((_req, res) => res.end('welcome')));
    closers.push(() => site.close());
    const tlsSite = await listen(
      createTlsServer({ key: certificate.key, cert: certificate.cert }, (_req, res) => res.end('secure')),
    );
    closers.push(() => tlsSite.close());
    const ingest = await busyOnceIngest(url(ports.collector));
    closers.push(() => ingest.close());

    const prometheusJobs: ScrapeJob[] = COMPONENTS.map((component) => ({
      job: `lookout-${component}`,
      urls: [url(ports[component])],
      labels: { namespace: NAMESPACE, pod: `lookout-${component}-0`, container: component },
      honorLabels: component === 'alert-rules',
    }));
    const kubeStateMetrics = await kubeStateMetricsStandIn(prometheusJobs);
    closers.push(() => kubeStateMetrics.close());
    await writeFile(join(dir, 'rules.yaml'), RULES);
    const prometheus = await startPrometheus({
      scrapeTargets: [...prometheusJobs, { job: 'kube-state-metrics', urls: [kubeStateMetrics.url] }],
    });
    closers.push(() => prometheus.close());

    const common = (name: Component) => `
http: { listen: "127.0.0.1:${ports[name]}", auth: { enabled: false } }
dataDir: ${join(dir, `${name}-data`)}
`;
    const configs: Record<Component, string> = {
      sidecar: `${common('sidecar')}
sidecar:
  inputs:
    - paths: ["${logFile}"]
      parser: { type: json }
  maxLineBytes: 1KiB
  queue: { fsync: 1s }
  retry: { initial: 100ms, max: 1s }
  sinks:
    kafka: { brokers: ${JSON.stringify(kafkaBrokers())}, topic: ${topic} }
    http: { url: "${url(ingest.port)}/api/ingest" }
`,
      collector: `${common('collector')}
collector:
  kafka: { brokers: ${JSON.stringify(kafkaBrokers())}, topics: [${topic}], groupId: dashboards-${id}, deadLetterTopic: ${topic}-dlq, fromBeginning: true }
`,
      'event-router': `${common('event-router')}
robots:
  oncall: ${robotSettings('router')}
eventRouter:
  kubernetes: { kubeconfig: "${kubernetesAccess().kubeconfig}" }
  namespaces: [${namespace}]
  routing: { route: { robots: [oncall], groupWait: 1s } }
  saveInterval: 300ms
  aggregation: { groupInterval: 2s }
`,
      'alert-rules': `${common('alert-rules')}
robots:
  oncall: ${robotSettings('rules')}
alertRules:
  ruleFiles: ["${join(dir, 'rules.yaml')}"]
  prometheus: { url: "${prometheus.url}" }
  resendDelay: 2s
  routing: { alertmanagerConfigFile: ${join(dir, 'routing.yaml')} }
  probes:
    modulesFile: ${join(dir, 'blackbox.yml')}
    allow: [127.0.0.0/8, localhost]
    targets:
      - { name: site, target: "${url(site.port)}/", module: http_2xx, interval: 1s }
      - { name: secure, target: "https://localhost:${tlsSite.port}/", module: https_ca, interval: 1s }
`,
    };
    await writeFile(join(dir, 'routing.yaml'), ROUTING);
    await writeFile(join(dir, 'blackbox.yml'), MODULES(certificate.certFile));
    await Promise.all(
      COMPONENTS.map(async (component) => {
        const file = join(dir, `${component}.yaml`);
        await writeFile(file, configs[component]);
        const process = new LookoutProcess(component, file);
        closers.push(() => process.kill());
        await process.start(60_000);
      }),
    );

    const recorder = new EventRecorder();
    return {
      prometheus,
      refuseNextMessages: () => {
        for (const robot of ['router', 'rules'])
          robots.setFailure(`${robot}-${id}`, { errcode: 310000, errmsg: 'keywords not in content' }, 1);
      },
      log: (lines) => writeFile(logFile, `${lines.join('\n')}\n`, { flag: 'a' }),
      event: async (pod, reason) => {
        await recorder.create({ namespace, pod, reason });
      },
      silence: async (alertname) => {
        const now = Date.now();
        const response = await fetch(`${url(ports['alert-rules'])}/api/v2/silences`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            matchers: [{ name: 'alertname', value: alertname, isRegex: false, isEqual: true }],
            startsAt: new Date(now).toISOString(),
            endsAt: new Date(now + 3_600_000).toISOString(),
            createdBy: 'dashboards test',
            comment: 'a silence for the Alerts dashboard',
          }),
        });
        if (!response.ok) throw new Error(`silence: ${response.status} ${await response.text()}`);
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
