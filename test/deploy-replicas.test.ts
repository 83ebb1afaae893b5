import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type HttpServer, startPrometheus } from './infra/prometheus.ts';
import { type RobotServer, startRobotServer } from './robots/robot-server.ts';
import {
  adminKubeConfig,
  containerEnv,
  containersOf,
  editYaml,
  mountConfigMap,
  serviceAccountKubeconfig,
} from './support/deployed.ts';
import { createNamespace, deleteNamespace, EventRecorder } from './support/kube-events.ts';
import { apply, named, type Rendered, render } from './support/kustomize.ts';
import { eventually, LookoutProcess } from './support/lookout-process.ts';
import { ScriptedExporter } from './support/scripted-exporter.ts';

/**
 * The event router and alert-rules as the production overlay deploys them,
 * two replicas each: the rendered configuration, the Secrets' values as the
 * environment, and a token of the rendered ServiceAccount, so each process
 * has exactly the rights the rendered RBAC gives it. The leader of each is
 * killed with kill -9, and the other takes over within the Lease's timing,
 * telling every event and alert exactly once.
 */

// Shorter than the defaults (15s, 10s, 2s) so the scenario stays short; the same rules apply.
const LEASE = { leaseDuration: '3s', renewDeadline: '2s', retryPeriod: '500ms' };
const LEASE_MS = 3_000;

let robots: RobotServer;
let exporter: ScriptedExporter;
let prometheus: HttpServer;
let dir: string;
let namespace: string;
let eventsNamespace: string;
let objects: Rendered[];
const processes: LookoutProcess[] = [];
const recorder = new EventRecorder();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lookout-deploy-replicas-'));
  robots = await startRobotServer();
  exporter = await ScriptedExporter.start();
  prometheus = await startPrometheus({ scrapeTargets: [{ job: 'app', urls: [exporter.url] }] });
  namespace = `lookout-${randomUUID().slice(0, 8)}`;
  objects = await render('overlays/production', { namespace });
  // The ServiceMonitor needs the Prometheus Operator's CRD; test/deploy-kustomize.test.ts applies it.
  await apply(objects.filter((o) => o.kind !== 'ServiceMonitor'));
  eventsNamespace = await createNamespace('deploy-events');
  await createSecrets();
}, 120_000);

afterAll(async () => {
  for (const process of processes) await process.kill();
  await prometheus?.close();
  await exporter?.close();
  await robots?.close();
  await deleteNamespace(eventsNamespace);
  await deleteNamespace(namespace);
  await rm(dir, { recursive: true, force: true });
});

/** The Secrets as docs/deploy.md has the operator create them, the robots' on the test's robot servers. */
async function createSecrets(): Promise<void> {
  const ops = robots.dingtalk({ name: `ops-${namespace}`, secret: `SEC${randomUUID()}` });
  const shop = robots.wecom({ name: `shop-${namespace}` });
  const secrets: Record<string, Record<string, string>> = {
    'lookout-robots': {
      DINGTALK_OPS_TOKEN: ops.accessToken,
      DINGTALK_OPS_SECRET: ops.secret ?? '',
      WECOM_SHOP_KEY: shop.key,
    },
    'lookout-elasticsearch': { ES_USER: 'lookout', ES_PASSWORD: randomUUID() },
    'lookout-api-tokens': { LOOKOUT_ADMIN_TOKEN: randomUUID(), LOOKOUT_VIEWER_TOKEN: randomUUID() },
  };
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  for (const [name, stringData] of Object.entries(secrets)) {
    await core.createNamespacedSecret({ namespace, body: { metadata: { name }, stringData } });
  }
  robotUrls = { 'ops-dingtalk': ops.baseUrl, 'shop-wecom': shop.baseUrl };
}
let robotUrls: Record<string, string> = {};
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const opsTexts = () => robots.accepted(`ops-${namespace}`).map((m) => m.text);

/**
 * One replica of a rendered Deployment as a process on this machine: its
 * ConfigMap "mounted" in a directory of its own, the container's
 * environment, and its ServiceAccount's token. Of the configuration, the test
 * changes the addresses, the Lease's namespace and timing, and `changes` in
 * the component's `section`; `prepare` edits the mounted files.
 */
async function replica(
  deployment: string,
  name: string,
  section: string,
  changes: Record<string, unknown>,
  prepare: (dir: string) => Promise<void>,
) {
  const workload = named(objects, 'Deployment', deployment);
  const [container] = containersOf(workload);
  const volume = workload.spec.template.spec.volumes.find((v: Rendered) => v.name === 'config');
  const mounted = join(dir, name);
  await mountConfigMap(
    named(objects, 'ConfigMap', volume.configMap.name),
    '/etc/lookout',
    mounted,
    join(mounted, 'data'),
  );
  await serviceAccountKubeconfig(
    namespace,
    workload.spec.template.spec.serviceAccountName,
    join(mounted, 'kubeconfig'),
  );
  const config = join(mounted, 'lookout.yaml');
  await editYaml(config, {
    http: { listen: '127.0.0.1:0' },
    robots: Object.fromEntries(Object.entries(robotUrls).map(([robot, baseUrl]) => [robot, { baseUrl }])),
    [section]: {
      // Outside a pod: the service account's token and the namespace it would have read there.
      kubernetes: { kubeconfig: join(mounted, 'kubeconfig') },
      leaderElection: { namespace, ...LEASE },
      ...changes,
    },
  });
  await prepare(mounted);
  const process = new LookoutProcess(container!.args[0], config, {
    env: await containerEnv(container!, namespace),
  });
  processes.push(process);
  await process.start();
  return process;
}

async function logged(process: LookoutProcess, text: string, what: string): Promise<number> {
  const started = Date.now();
  await eventually(
    async () => process.output.join(''),
    (out) => out.includes(text),
    what,
    20_000,
    100,
  );
  return Date.now() - started;
}

it('event router: the leader is killed, the other takes over within the Lease, every event told once', async () => {
  const router = (name: string) =>
    replica(
      'lookout-event-router',
      name,
      'eventRouter',
      {
        namespaces: [eventsNamespace],
        state: { configMap: { namespace } },
        saveInterval: '300ms',
        archive: undefined, // no Elasticsearch in this test
      },
      // The routes as deployed, told after 1s instead of 30s.
      (mounted) => editYaml(join(mounted, 'event-routes.yaml'), { route: { groupWait: '1s' } }),
    );
  const a = await router('a');
  await logged(a, 'event router watching', 'a to lead');
  const b = await router('b');

  const wave = async (name: string) => {
    for (let i = 0; i < 3; i++)
      await recorder.create({ namespace: eventsNamespace, pod: `${name}-${i}`, reason: 'BackOff' });
  };
  await wave('before');
  await eventually(
    async () => opsTexts().join('\n'),
    (all) => all.includes('before-2'),
    'the first wave told',
    20_000,
  );

  // A kill -9 in the instant between the robot's answer and the outbox's write repeats a message
  // (docs/notify.md: delivery is at least once); that is not the case under test.
  await pause(1_500);
  await a.kill();
  await wave('during');
  const takeover = await logged(b, 'event router watching', 'b to take over');
  expect(takeover).toBeLessThan(LEASE_MS + 3_000);
  await wave('after');
  const pods = ['before', 'during', 'after'].flatMap((name) => [0, 1, 2].map((i) => `${name}-${i}`));
  await eventually(
    async () => opsTexts().join('\n'),
    (all) => pods.every((pod) => all.includes(pod)),
    'every pod told',
    20_000,
  );
  await pause(3_000);
  for (const pod of pods)
    expect(
      opsTexts().filter((text) => text.includes(pod)),
      pod,
    ).toHaveLength(1);
});

it('alert-rules: the leader is killed, the other takes over within the Lease, the firing alert told once and its resolve not lost', async () => {
  const METRIC = 'lookout_deploy_test_down';
  const ruler = (name: string) =>
    replica(
      'lookout-alert-rules',
      name,
      'alertRules',
      {
        prometheus: { url: prometheus.url },
        evaluationInterval: '1s',
        silences: { configMap: { namespace } },
      },
      async (mounted) => {
        // The routing as deployed, told after 1s instead of 30s; a rule of the test's own beside Lookout's.
        await editYaml(join(mounted, 'alertmanager.yml'), {
          route: { group_wait: '1s', group_interval: '2s' },
        });
        await writeFile(
          join(mounted, 'test.rules.yaml'),
          `groups:\n  - name: deploy\n    rules:\n      - alert: DeployTestDown\n        expr: ${METRIC} > 0\n        annotations: { summary: "{{ $labels.case }} is down" }\n`,
        );
      },
    );
  const a = await ruler('a');
  await logged(a, 'chat robots sending for the leader', 'a to lead');
  const b = await ruler('b');

  const about = `case-${randomUUID().slice(0, 8)}`;
  const told = (state: string) => opsTexts().filter((t) => t.includes(about) && t.includes(state));
  const untilTold = (state: string) =>
    eventually(
      async () => told(state).length,
      (n) => n > 0,
      `the alert told ${state}`,
      30_000,
    );
  exporter.set(METRIC, { case: about }, 1);
  await untilTold('FIRING');
  // As above: past the instant in which a kill -9 would repeat the message.
  await pause(1_500);
  await a.kill();
  const takeover = await logged(b, 'chat robots sending for the leader', 'b to take over');
  expect(takeover).toBeLessThan(LEASE_MS + 3_000);
  exporter.remove(METRIC, { case: about });
  await untilTold('RESOLVED');
  await pause(4_000);
  expect(
    told('FIRING'),
    opsTexts()
      .filter((t) => t.includes(about))
      .join('\n----\n'),
  ).toHaveLength(1);
  expect(told('RESOLVED')).toHaveLength(1);
});
