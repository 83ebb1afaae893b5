import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { expect, it, onTestFinished } from 'vitest';
import { listen } from '../alert-rules/probes/fixtures/probe-fixtures.ts';
import { freePorts } from './infra/ports.ts';
import { startPrometheus } from './infra/prometheus.ts';
import { startRobotServer } from './robots/robot-server.ts';
import { ROUTING } from './support/lookout-pipeline.ts';
import { eventually, LookoutProcess } from './support/lookout-process.ts';
import { untilQueried } from './support/prometheus-api.ts';

/** The collector's ingest as the sidecar's HTTP sink sees it: every line accepted, and kept for the test. */
async function ingestReceiver() {
  const records: Record<string, unknown>[] = [];
  const server = await listen(
    createServer(async (request, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      const text = String(request.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body);
      const lines = text.split('\n').filter(Boolean);
      for (const line of lines) records.push(JSON.parse(line));
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ accepted: lines.length, duplicates: 0, empty: 0, errors: [] }));
    }),
  );
  return { ...server, records };
}

const RULES = `
groups:
  - name: nginx
    interval: 1s
    rules:
      - alert: NginxErrorRatio
        expr: |
          sum by (namespace, pod) (rate(nginx_http_requests_total{status_class="5xx"}[15s]))
            / sum by (namespace, pod) (rate(nginx_http_requests_total[15s])) > 0.3
        for: 2s
        annotations:
          summary: "{{ $labels.pod }}: {{ $value | humanizePercentage }} of requests failed"
`;

const access = (status: number, i: number) =>
  `10.0.0.${i % 250} - - [${new Date().toUTCString().replace(/^\w+, (\d+) (\w+) (\d+) ([\d:]+) GMT$/, '$1/$2/$3:$4 +0000')}] "GET /api/items/${i}?full=1 HTTP/1.1" ${status} ${100 + i} "-" "curl/8.5"`;

it('counts an nginx access log and an app log on /metrics; Prometheus scrapes them and a rule on the 5xx ratio fires in chat', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lookout-log-metrics-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'nginx'));
  await mkdir(join(dir, 'app'));
  const accessLog = join(dir, 'nginx', 'access.log');
  const appLog = join(dir, 'app', 'app.log');
  await writeFile(accessLog, '');
  await writeFile(appLog, '');

  const ingest = await ingestReceiver();
  onTestFinished(() => ingest.close());
  const robots = await startRobotServer();
  onTestFinished(() => robots.close());
  const robot = robots.dingtalk({ name: 'oncall', secret: 'SEClogmetrics' });

  // Chosen ahead: Prometheus needs the sidecar's address before the sidecar starts.
  const [sidecarPort] = await freePorts(1);
  await using prometheus = await startPrometheus({
    scrapeTargets: [{ job: 'sidecar', urls: [`http://127.0.0.1:${sidecarPort}`], honorLabels: true }],
  });

  const sidecarConfig = join(dir, 'sidecar.yaml');
  await writeFile(
    sidecarConfig,
    `
http: { listen: "127.0.0.1:${sidecarPort}", auth: { enabled: false } }
dataDir: ${join(dir, 'sidecar-data')}
sidecar:
  inputs:
    - paths: ["${accessLog}"]
      parser: [{ type: combined }, { type: auto }]
    - paths: ["${appLog}"]
  scanInterval: 200ms
  retry: { initial: 100ms, max: 1s }
  metrics:
    counters:
      - name: nginx_http_requests_total
        help: Requests in nginx's access log, by status class
        labels: { status_class: { field: http.response.status_code, map: class } }
        filter: { field: http.response.status_code }
  sinks:
    http: { url: "http://127.0.0.1:${ingest.port}/api/ingest" }
`,
  );
  const sidecar = new LookoutProcess('sidecar', sidecarConfig, {
    env: { POD_NAMESPACE: 'shop', POD_NAME: 'web-0', CONTAINER_NAME: 'nginx' },
  });
  onTestFinished(async () => {
    await sidecar.kill();
  });
  await sidecar.start();

  await writeFile(join(dir, 'rules.yaml'), RULES);
  await writeFile(join(dir, 'routing.yaml'), ROUTING);
  const rulesConfig = join(dir, 'alert-rules.yaml');
  await writeFile(
    rulesConfig,
    `
http: { listen: "127.0.0.1:0", auth: { enabled: false } }
dataDir: ${join(dir, 'alert-rules-data')}
robots:
  oncall: { type: dingtalk, baseUrl: "${robot.baseUrl}", accessToken: "${robot.accessToken}", secret: "${robot.secret}" }
alertRules:
  ruleFiles: ["${join(dir, 'rules.yaml')}"]
  prometheus: { url: "${prometheus.url}" }
  routing: { alertmanagerConfigFile: ${join(dir, 'routing.yaml')} }
`,
  );
  const alertRules = new LookoutProcess('alert-rules', rulesConfig);
  onTestFinished(async () => {
    await alertRules.kill();
  });
  await alertRules.start();

  // Healthy traffic, and an app that logs at several levels.
  await appendFile(accessLog, `${Array.from({ length: 20 }, (_, i) => access(200, i)).join('\n')}\n`);
  await appendFile(
    appLog,
    `${['2026-01-01 00:00:00 INFO started', '{"level":"error","msg":"payment failed"}', 'WARN slow', 'ERROR again', 'no level here'].join('\n')}\n`,
  );
  const series = (labels: string) => `{namespace="shop",pod="web-0",container="nginx",${labels}}`;
  await untilQueried(prometheus.url, `nginx_http_requests_total${series('status_class="2xx"')}`, 20, 30_000);
  await untilQueried(prometheus.url, `lookout_sidecar_log_events_total${series('level="error"')}`, 2);
  await untilQueried(prometheus.url, `lookout_sidecar_log_events_total${series('level="warn"')}`, 1);
  // Access lines have no level; nor has the app's last line.
  await untilQueried(prometheus.url, `lookout_sidecar_log_events_total${series('level=""')}`, 21);

  // The access log's records carry its fields in ECS names.
  const record = ingest.records.find((r) => String(r.message).includes('/api/items/3?'));
  expect(record).toMatchObject({
    http: {
      request: { method: 'GET' },
      response: { status_code: 200, body: { bytes: 103 } },
      version: '1.1',
    },
    url: { original: '/api/items/3?full=1', path: '/api/items/3', query: 'full=1' },
    source: { address: '10.0.0.3' },
    user_agent: { original: 'curl/8.5' },
  });
  expect(robots.accepted('oncall')).toEqual([]);

  // Then half the requests fail, until the 5xx ratio has held over the rule's `for` and the alert is in chat.
  const [message] = await eventually(
    async () => {
      const lines = Array.from({ length: 10 }, (_, i) => access(i % 2 === 0 ? 503 : 200, 100 + i));
      await appendFile(accessLog, `${lines.join('\n')}\n`);
      return robots.accepted('oncall');
    },
    (accepted) => accepted.length > 0,
    'the NginxErrorRatio alert in chat',
    60_000,
    1_000,
  );
  expect(message!.text).toContain('NginxErrorRatio');
  expect(message!.text).toMatch(/web-0: \d+(\.\d+)?% of requests failed/);
}, 120_000);
