import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { kubernetesAccess } from './infra/control.ts';
import { type HttpServer, startPrometheus } from './infra/prometheus.ts';
import { type RobotServer, startRobotServer } from './robots/robot-server.ts';
import { createNamespace, deleteNamespace, kubeClient } from './support/kube-events.ts';
import { eventually, LookoutProcess } from './support/lookout-process.ts';
import { ScriptedExporter } from './support/scripted-exporter.ts';

/**
 * Two `lookout alert-rules` replicas on one Lease, as an operator runs them:
 * both evaluate the same rules against a Prometheus whose series the test
 * sets, only the leader tells the robot, and a kill -9 of the leader neither
 * repeats a message inside the repeat interval nor loses a resolve.
 */

const METRIC = 'lookout_replicas_test_down';
const LEADING = 'chat robots sending for the leader';

let robots: RobotServer;
let exporter: ScriptedExporter;
let prometheus: HttpServer;
let dir: string;
let namespace: string;
let robot: string;
/** The `robots:` entry every replica of the test shares. */
let robotEntry: string;
const replicas: LookoutProcess[] = [];

beforeAll(async () => {
  robots = await startRobotServer();
  exporter = await ScriptedExporter.start();
  prometheus = await startPrometheus({
    scrapeTargets: [{ job: 'scripted', urls: [exporter.url] }],
    scrapeInterval: '500ms',
  });
}, 60_000);

afterAll(async () => {
  await prometheus?.close();
  await exporter?.close();
  await robots?.close();
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lookout-alert-replicas-'));
  namespace = await createNamespace('alert-replicas');
  robot = `oncall-${Math.random().toString(36).slice(2, 8)}`;
  const wecom = robots.wecom({ name: robot });
  robotEntry = `{ type: wecom, baseUrl: "${wecom.baseUrl}", key: "${wecom.key}", retry: { minDelay: 200ms, maxDelay: 1s, pause: 1s, maxPause: 2s } }`;
  await writeFile(
    join(dir, 'rules.yaml'),
    `groups:
  - name: replicas
    rules:
      - alert: ReplicaDown
        expr: ${METRIC} > 0
        labels: { severity: critical }
        annotations: { summary: "{{ $labels.case }} is down" }
`,
  );
  await writeFile(
    join(dir, 'alertmanager.yml'),
    `route:
  receiver: oncall
  group_by: [alertname, case]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: oncall
`,
  );
});

afterEach(async () => {
  for (const replica of replicas.splice(0)) await replica.kill();
  exporter.clear();
  await deleteNamespace(namespace);
  await rm(dir, { recursive: true, force: true });
});

/** A replica on the test's Lease, silences and outbox ConfigMaps, telling the test's robot. */
async function startReplica(name: string): Promise<{ process: LookoutProcess; url: string }> {
  const configFile = join(dir, `${name}.yaml`);
  await writeFile(
    configFile,
    `
http: { listen: "127.0.0.1:0", auth: { enabled: false } }
dataDir: ${join(dir, `${name}-data`)}
robots:
  oncall: ${robotEntry}
alertRules:
  ruleFiles: [${join(dir, 'rules.yaml')}]
  prometheus: { url: "${prometheus.url}" }
  evaluationInterval: 1s
  routing: { alertmanagerConfigFile: ${join(dir, 'alertmanager.yml')} }
  silences: { configMap: { namespace: ${namespace}, name: alert-rules-silences }, syncInterval: 1s }
  kubernetes: { kubeconfig: "${kubernetesAccess().kubeconfig}" }
  leaderElection: { enabled: true, namespace: ${namespace}, leaseDuration: 3s, renewDeadline: 2s, retryPeriod: 500ms }
`,
  );
  const process = new LookoutProcess('alert-rules', configFile);
  replicas.push(process);
  return { process, url: await process.start() };
}

async function leading(replica: LookoutProcess): Promise<void> {
  await eventually(
    async () => replica.output.join(''),
    (out) => out.includes(LEADING),
    'the replica to lead',
    20_000,
  );
}

/** The leader first, then a standby. */
async function startPair() {
  const a = await startReplica('a');
  await leading(a.process);
  const b = await startReplica('b');
  return { a, b };
}

const down = (name: string) => exporter.set(METRIC, { case: name }, 1);
const up = (name: string) => exporter.remove(METRIC, { case: name });

const texts = (about: string) =>
  robots
    .accepted(robot)
    .map((m) => m.text)
    .filter((t) => t.includes(about));
const firing = (about: string) => texts(about).filter((t) => t.includes('[FIRING:1] ReplicaDown'));
const resolved = (about: string) => texts(about).filter((t) => t.includes('[RESOLVED] ReplicaDown'));

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function toldOnce(messages: () => string[], what: string): Promise<void> {
  await eventually(
    async () => messages().length,
    (n) => n > 0,
    what,
    20_000,
  );
  // A group interval and more: a second message would have come by now.
  await pause(4_000);
  expect(messages(), what).toHaveLength(1);
}

/** Active alerts in a replica's API, with the silences that mute them. */
async function apiAlerts(url: string) {
  const response = await fetch(`${url}/api/alerts`);
  const body = (await response.json()) as {
    data: { alerts: { labels: Record<string, string>; state: string; status: { silencedBy: string[] } }[] };
  };
  return body.data.alerts;
}

/** The entries of the notification log in the outbox ConfigMap. */
async function notificationLog(): Promise<{ receiver: string; firing: string[]; resolved: string[] }[]> {
  const configMap = await kubeClient().core.readNamespacedConfigMap({
    namespace,
    name: 'lookout-alert-rules-outbox',
  });
  const [text] = Object.entries(configMap.data ?? {})
    .filter(([key]) => key.includes('alert-notifications'))
    .map(([, value]) => value);
  return text === undefined ? [] : JSON.parse(text).entries;
}

function webhook(url: string) {
  return fetch(`${url}/api/alertmanager/webhook/oncall`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      version: '4',
      groupKey: '{}:{alertname="BridgeCheck"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'oncall',
      groupLabels: { alertname: 'BridgeCheck' },
      commonLabels: { alertname: 'BridgeCheck' },
      commonAnnotations: {},
      externalURL: 'http://alertmanager:9093',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'BridgeCheck' },
          annotations: { summary: 'bridge check' },
          startsAt: new Date().toISOString(),
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: 'http://prometheus:9090/graph',
          fingerprint: 'b1d9e',
        },
      ],
    }),
  });
}

describe('alert-rules with two replicas on a Lease', () => {
  it('only the leader tells; after a kill -9 the next leader repeats nothing and tells the resolve once', async () => {
    down('failover');
    const { a, b } = await startPair();

    // Alertmanager sends again after the standby's 503.
    expect((await webhook(b.url)).status).toBe(503);
    expect((await webhook(a.url)).status).toBe(200);
    await eventually(
      async () => texts('bridge check').length,
      (n) => n === 1,
      'the bridged message',
    );

    await toldOnce(() => firing('failover'), 'the firing message');
    // What the next leader reads to know the group was told.
    expect(await notificationLog()).toEqual([
      expect.objectContaining({ receiver: 'oncall', firing: [expect.any(String)], resolved: [] }),
    ]);
    await a.process.kill();
    await leading(b.process);
    // Given the firing alert at once, it would tell the group within group_wait if it did not know.
    await pause(4_000);
    expect(firing('failover'), 'no repeat inside repeat_interval').toHaveLength(1);

    up('failover');
    await toldOnce(() => resolved('failover'), 'the resolved message');
    expect(firing('failover')).toHaveLength(1);
  }, 60_000);

  it('resolves the leader did not tell before it was killed come from the next leader, once each', async () => {
    down('queued');
    down('unseen');
    const { a, b } = await startPair();
    await Promise.all([
      toldOnce(() => firing('queued'), 'the firing message of queued'),
      toldOnce(() => firing('unseen'), 'the firing message of unseen'),
    ]);
    await eventually(
      () => apiAlerts(b.url),
      (alerts) => alerts.filter((alert) => alert.state === 'firing').length === 2,
      'the standby to hold both alerts firing',
    );

    // One resolve waits in the leader's outbox while the robot fails...
    robots.setFailure(robot, '500');
    up('queued');
    await eventually(
      async () => a.process.output.join(''),
      (out) => out.includes('send failed; retrying'),
      'the resolve of queued to wait in the outbox',
      20_000,
    );
    // ...and the other condition clears as the leader dies, before it could evaluate it.
    up('unseen');
    await a.process.kill();
    robots.setFailure(robot, undefined);
    await leading(b.process);
    await Promise.all([
      toldOnce(() => resolved('queued'), 'the resolved message of queued'),
      toldOnce(() => resolved('unseen'), 'the resolved message of unseen'),
    ]);
    expect(firing('queued')).toHaveLength(1);
    expect(firing('unseen')).toHaveLength(1);
  }, 60_000);

  it('a silence made on one replica is listed by the other and honoured when it leads', async () => {
    const { a, b } = await startPair();
    const now = Date.now();
    const created = await fetch(`${a.url}/api/v2/silences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        matchers: [{ name: 'case', value: 'quiet', isRegex: false, isEqual: true }],
        startsAt: new Date(now).toISOString(),
        endsAt: new Date(now + 3_600_000).toISOString(),
        createdBy: 'oncall',
        comment: 'maintenance',
      }),
    });
    expect(created.status).toBe(200);
    const { silenceID } = (await created.json()) as { silenceID: string };
    await eventually(
      async () => (await (await fetch(`${b.url}/api/v2/silences`)).json()) as { id: string }[],
      (silences) => silences.some((s) => s.id === silenceID),
      'the silence listed by the standby',
      10_000,
    );

    await a.process.kill();
    await leading(b.process);
    down('quiet');
    down('loud');
    await toldOnce(() => firing('loud'), 'the unsilenced alert');
    expect(texts('quiet')).toEqual([]);
    const quiet = (await apiAlerts(b.url)).find((alert) => alert.labels.case === 'quiet');
    expect(quiet?.status.silencedBy).toEqual([silenceID]);
  }, 60_000);
});
