import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventsV1Api, V1MicroTime } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { kubernetesAccess } from './infra/control.ts';
import { type RobotServer, startRobotServer } from './robots/robot-server.ts';
import { createNamespace, deleteNamespace, EventRecorder, kubeClient } from './support/kube-events.ts';
import { eventually, LookoutProcess } from './support/lookout-process.ts';

/**
 * The event router as an operator runs it (`lookout event-router`), against
 * the real API server and the DingTalk/WeCom robot test double: what reaches
 * the chat groups, how often, and what survives restarts and failovers.
 */

const recorder = new EventRecorder();
let robots: RobotServer;
let dir: string;
let namespace: string;
const routers: LookoutProcess[] = [];

beforeAll(async () => {
  robots = await startRobotServer();
});

afterAll(async () => {
  await robots.close();
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lookout-event-router-'));
  namespace = await createNamespace('router');
});

afterEach(async () => {
  for (const router of routers.splice(0)) await router.kill();
  await deleteNamespace(namespace);
  await rm(dir, { recursive: true, force: true });
});

interface RouterOptions {
  name?: string;
  routes?: string;
  extra?: string;
  robotRetry?: string;
  /** A replica that waits for the Lease: started, but not watching. */
  standby?: boolean;
  /** Routing inline in the configuration file (YAML flow style) instead of a routing file. */
  inlineRouting?: string;
  /** Watched namespaces; the test's own by default. */
  namespaces?: string[];
}

/** Robots `oncall` (DingTalk, signed) and `shop` (WeCom) on the test double, fresh per test. */
function robotSection(retry = '{ minDelay: 200ms, maxDelay: 1s, pause: 1s, maxPause: 2s }'): string {
  const id = Math.random().toString(36).slice(2, 8);
  const oncall = robots.dingtalk({ name: `oncall-${id}`, secret: `SEC${id}signing` });
  const shop = robots.wecom({ name: `shop-${id}` });
  robotNames = { oncall: `oncall-${id}`, shop: `shop-${id}` };
  return `
robots:
  oncall: { type: dingtalk, baseUrl: "${oncall.baseUrl}", accessToken: "${oncall.accessToken}", secret: "${oncall.secret}", retry: ${retry} }
  shop: { type: wecom, baseUrl: "${shop.baseUrl}", key: "${shop.key}", retry: ${retry} }`;
}
let robotNames = { oncall: '', shop: '' };

const DEFAULT_ROUTES = `
route:
  robots: [oncall]
  groupWait: 1s
`;

async function startRouter(options: RouterOptions = {}, robotConfig = robotSection(options.robotRetry)) {
  const name = options.name ?? 'router';
  const routesFile = join(dir, 'routes.yaml');
  if (options.routes !== undefined || routers.length === 0)
    await writeFile(routesFile, options.routes ?? DEFAULT_ROUTES);
  const configFile = join(dir, `${name}.yaml`);
  await writeFile(
    configFile,
    `
http: { listen: "127.0.0.1:0", auth: { enabled: false } }
dataDir: ${join(dir, `${name}-data`)}
${robotConfig}
eventRouter:
  kubernetes: { kubeconfig: "${kubernetesAccess().kubeconfig}" }
  namespaces: [${(options.namespaces ?? [namespace]).join(', ')}]
  ${options.inlineRouting ? `routing: ${options.inlineRouting}` : `routingFile: ${routesFile}`}
  saveInterval: 300ms
  aggregation: { groupInterval: 4s, stormThreshold: 10 }
${options.extra ?? ''}
`,
  );
  const router = new LookoutProcess('event-router', configFile);
  routers.push(router);
  await router.start();
  if (!options.standby)
    await eventually(
      async () => router.output.join(''),
      (out) => out.includes('event router watching'),
      'the router to watch',
      20_000,
    );
  return { router, robotConfig };
}

/** Two or more replicas on one Lease, their resume point and robot outbox in ConfigMaps of the test's namespace. */
const election = () => `
  leaderElection: { enabled: true, namespace: ${namespace}, leaseDuration: 3s, renewDeadline: 2s, retryPeriod: 500ms }
  state: { configMap: { namespace: ${namespace}, name: event-router-state } }`;

const texts = (robot: string) => robots.accepted(robot).map((a) => a.text);

/** How many messages mention the pod: each should be told once. */
const told = (robot: string, pod: string) => texts(robot).filter((text) => text.includes(pod)).length;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until every pod is in a message to oncall, then a while longer for any repeat, and checks there is none. */
async function expectEachToldOnce(pods: readonly string[], withinMs = 30_000): Promise<void> {
  await eventually(
    async () => texts(robotNames.oncall).join('\n'),
    (all) => pods.every((pod) => all.includes(pod)),
    'every pod told',
    withinMs,
  );
  await pause(3_000);
  for (const pod of pods) expect(told(robotNames.oncall, pod), pod).toBe(1);
}

/** Three pods `<name>-0` to `-2` become Unhealthy. */
async function wave(name: string): Promise<void> {
  for (let i = 0; i < 3; i++) await recorder.create({ namespace, pod: `${name}-${i}`, reason: 'Unhealthy' });
}

/**
 * A wave told, a wave waiting in the outbox (the robot failing), kill -9 of
 * the router after a save or two (saveInterval is 300ms), and a wave made
 * while it is down: `told`, `backlog` and `down`.
 */
async function killWithBacklog(router: LookoutProcess, backlog: string): Promise<void> {
  await wave('told');
  await eventually(
    async () => texts(robotNames.oncall).join('\n'),
    (all) => [0, 1, 2].every((i) => all.includes(`told-${i}`)),
    'the first wave to be told',
    20_000,
  );
  robots.setFailure(robotNames.oncall, '500');
  await wave(backlog);
  await eventually(
    async () => router.output.join(''),
    (out) => out.includes('send failed; retrying'),
    'the backlog to wait in the outbox',
    20_000,
  );
  await pause(1_000);
  await router.kill();
  robots.setFailure(robotNames.oncall, undefined);
  await wave('down');
}

describe('event router', () => {
  it('tells a BackOff counted 30 times as one message and then one update with the count', async () => {
    const { router } = await startRouter();
    let event = await recorder.create({ namespace, pod: 'order-7f9c', reason: 'BackOff' });
    for (let i = 2; i <= 30; i++) {
      await pause(100);
      event = await recorder.recur(event);
    }
    const accepted = await eventually(
      async () => texts(robotNames.oncall),
      (t) => t.some((text) => /×30/.test(text)),
      'an update with the count 30',
      30_000,
    );
    // Long enough for any further window or interval to have fired.
    await pause(6_000);
    const all = texts(robotNames.oncall);
    expect(all, router.tail()).toHaveLength(2);
    expect(all[0]).toContain('BackOff');
    expect(all[0]).toContain('order-7f9c');
    expect(accepted.at(-1)).toMatch(/still happening/i);
  });

  it('turns 300 pods failing to schedule into one summary that names the top pods', async () => {
    await startRouter({
      routes: `
route:
  robots: [oncall]
  groupWait: 20s
`,
    });
    // The window must outlast making 300 events, which takes 10 s and more on a busy two-core machine.
    const pods = Array.from({ length: 300 }, (_, i) => `web-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < pods.length; i += 25) {
      await Promise.all(
        pods.slice(i, i + 25).map((pod) =>
          recorder.create({
            namespace,
            pod,
            reason: 'FailedScheduling',
            component: 'default-scheduler',
            message: '0/3 nodes are available: 3 Insufficient cpu.',
          }),
        ),
      );
    }
    const [summary] = await eventually(
      async () => texts(robotNames.oncall),
      (t) => t.length > 0,
      'the storm summary',
      30_000,
    );
    await pause(3_000);
    expect(texts(robotNames.oncall)).toHaveLength(1);
    expect(summary).toContain('FailedScheduling');
    expect(summary).toContain('300');
    expect(summary).toMatch(/and 29\d more/);
  });

  it('routes by the tree: drop rules, matches, regex, continue; and keeps the old routing when the file is bad', async () => {
    const { router } = await startRouter({
      routes: `
drop:
  - reason: Pulled
route:
  robots: [oncall]
  groupWait: 500ms
  routes:
    - match: { reason: "/^(OOMKilling|Unhealthy)$/" }
      robots: [shop]
      continue: true
    - match: { reason: Unhealthy }
      robots: [oncall]
`,
    });
    await recorder.create({ namespace, pod: 'a', reason: 'Pulled', type: 'Normal' });
    await recorder.create({ namespace, pod: 'b', reason: 'OOMKilling' });
    await recorder.create({ namespace, pod: 'c', reason: 'Unhealthy' });
    await eventually(
      async () => [texts(robotNames.shop).length, texts(robotNames.oncall).length],
      ([shop, oncall]) => shop === 2 && oncall === 1,
      'OOMKilling and Unhealthy to shop (continue), Unhealthy also to oncall (second route)',
      20_000,
    );
    expect(texts(robotNames.oncall).join('\n')).not.toContain('Pulled');

    // A broken file: rejected with the path of the error, and the routing in force stays.
    await writeFile(
      join(dir, 'routes.yaml'),
      `
route:
  robots: [oncall]
  routes:
    - match: { reason: "/([/" }
      robots: [shop]
`,
    );
    await eventually(
      async () => router.output.join(''),
      (out) => out.includes('event routing not reloaded'),
      'the bad routing file to be reported',
      10_000,
    );
    expect(router.output.join('')).toContain('route.routes[0].match.reason');
    await recorder.create({ namespace, pod: 'd', reason: 'OOMKilling' });
    await eventually(
      async () => texts(robotNames.shop).length,
      (n) => n === 3,
      'the old routing to keep working',
      20_000,
    );

    // A good file again takes effect without a restart.
    await writeFile(join(dir, 'routes.yaml'), 'route:\n  robots: [shop]\n  groupWait: 500ms\n');
    await eventually(
      async () => router.output.join(''),
      (out) => out.includes('event routing reloaded'),
      'the fixed routing file to load',
      10_000,
    );
    await recorder.create({ namespace, pod: 'e', reason: 'Pulled', type: 'Normal' });
    await eventually(
      async () => texts(robotNames.shop).join('\n'),
      (text) => text.includes('Pulled'),
      'the new routing (no drop rule any more) to apply',
      20_000,
    );
  });

  it('reloads inline routing on SIGHUP', async () => {
    const { router } = await startRouter({
      inlineRouting: '{ route: { robots: [oncall], groupWait: 500ms } }',
    });
    await recorder.create({ namespace, pod: 'before-hup', reason: 'Unhealthy' });
    await eventually(
      async () => told(robotNames.oncall, 'before-hup'),
      (n) => n === 1,
      'the first route',
      20_000,
    );
    const file = join(dir, 'router.yaml');
    await writeFile(file, (await readFile(file, 'utf8')).replace('robots: [oncall]', 'robots: [shop]'));
    router.hangup();
    await eventually(
      async () => router.output.join(''),
      (out) => out.includes('event routing reloaded'),
      'the reload',
      10_000,
    );
    await recorder.create({ namespace, pod: 'after-hup', reason: 'Unhealthy' });
    await eventually(
      async () => told(robotNames.shop, 'after-hup'),
      (n) => n === 1,
      'the new route',
      20_000,
    );
    expect(told(robotNames.oncall, 'after-hup')).toBe(0);
  });

  it('retries a robot that answers 130101 or 500 until the message is delivered, once', async () => {
    await startRouter();
    robots.setFailure(robotNames.oncall, { errcode: 130101, errmsg: 'send too fast' }, 1);
    await recorder.create({ namespace, pod: 'slow', reason: 'Unhealthy' });
    await eventually(
      async () => texts(robotNames.oncall).length,
      (n) => n === 1,
      'delivery after 130101',
      30_000,
    );
    robots.setFailure(robotNames.oncall, '500', 2);
    await recorder.create({ namespace, pod: 'flaky', reason: 'Unhealthy' });
    await eventually(
      async () => texts(robotNames.oncall).length,
      (n) => n === 2,
      'delivery after 500s',
      30_000,
    );
    await pause(2_000);
    expect(texts(robotNames.oncall)).toHaveLength(2);
    expect(robots.rejected(robotNames.oncall).map((r) => r.errcode)).toContain(130101);
  });

  it('resumes after a restart with no repeat and no gap, events while it was down included', async () => {
    const first = await startRouter();
    for (let i = 0; i < 4; i++) await recorder.create({ namespace, pod: `before-${i}`, reason: 'BackOff' });
    await eventually(
      async () => texts(robotNames.oncall).length,
      (n) => n >= 1,
      'the first messages',
      20_000,
    );
    await pause(2_000);
    await first.router.stop();
    for (let i = 0; i < 4; i++) await recorder.create({ namespace, pod: `down-${i}`, reason: 'BackOff' });
    await startRouter({}, first.robotConfig);
    for (let i = 0; i < 4; i++) await recorder.create({ namespace, pod: `after-${i}`, reason: 'BackOff' });
    const pods = [0, 1, 2, 3].flatMap((i) => [`before-${i}`, `down-${i}`, `after-${i}`]);
    await expectEachToldOnce(pods);
  });

  it('on SIGTERM keeps what the robot did not take in the outbox, says so, and delivers it after the start, once', async () => {
    const first = await startRouter({ extra: '\nshutdown: { timeout: 2s }' });
    robots.setFailure(robotNames.oncall, '500');
    for (let i = 0; i < 3; i++) await recorder.create({ namespace, pod: `held-${i}`, reason: 'Unhealthy' });
    await eventually(
      async () => first.router.output.join(''),
      (out) => out.includes('send failed; retrying'),
      'the robot to fail',
      20_000,
    );
    expect(await first.router.stop()).toBe(1);
    expect(first.router.output.join('')).toMatch(
      /"robot":"oncall","messages":\d+,.*"msg":"messages wait in the robot outbox/,
    );
    robots.setFailure(robotNames.oncall, undefined);
    await startRouter({}, first.robotConfig);
    await expectEachToldOnce([0, 1, 2].map((i) => `held-${i}`));
    expect(robots.rejected(robotNames.oncall).map((r) => r.errcode)).not.toContain(130101);
  });

  it('after kill -9 tells nothing twice and skips nothing: told, waiting in the outbox, and while down', async () => {
    const first = await startRouter();
    await killWithBacklog(first.router, 'waiting');
    await startRouter({}, first.robotConfig);
    await wave('after');
    const pods = ['told', 'waiting', 'down', 'after'].flatMap((name) => [0, 1, 2].map((i) => `${name}-${i}`));
    await expectEachToldOnce(pods);
    expect(robots.rejected(robotNames.oncall).map((r) => r.errcode)).not.toContain(130101);
  });

  it('tells events that carry only eventTime (events.k8s.io/v1)', async () => {
    await startRouter({ extra: '  api: events.k8s.io/v1' });
    const { kc } = kubeClient();
    await kc.makeApiClient(EventsV1Api).createNamespacedEvent({
      namespace,
      body: {
        metadata: { name: `micro.${Date.now()}` },
        eventTime: new V1MicroTime(Date.now()),
        reportingController: 'example.com/controller',
        reportingInstance: 'controller-1',
        action: 'Reconcile',
        reason: 'ReconcileFailed',
        note: 'could not reach the database',
        type: 'Warning',
        regarding: { apiVersion: 'v1', kind: 'Pod', namespace, name: 'micro' },
      },
    });
    const [text] = await eventually(
      async () => texts(robotNames.oncall),
      (t) => t.length === 1,
      'the eventTime-only event',
      20_000,
    );
    expect(text).toContain('ReconcileFailed');
    expect(text).toContain('could not reach the database');
  });

  it('fails over between two routers on a Lease: only the leader sends, and the next one resumes from the saved point', async () => {
    const a = await startRouter({ name: 'a', extra: election() });
    const b = await startRouter({ name: 'b', extra: election(), standby: true }, a.robotConfig);
    const wave = async (name: string) => {
      for (let i = 0; i < 3; i++)
        await recorder.create({ namespace, pod: `${name}-${i}`, reason: 'BackOff' });
      await eventually(
        async () => told(robotNames.oncall, `${name}-2`),
        (n) => n > 0,
        `the ${name} wave to be told`,
        30_000,
      );
    };
    await wave('one');
    expect(b.router.output.join('')).not.toContain('event router watching');

    // SIGTERM: the leader tells what it holds, saves, and gives the Lease up; the standby leads at once.
    await a.router.stop();
    await wave('two');
    expect(b.router.output.join('')).toContain('event router watching');

    // kill -9 of the new leader once its point is saved: the other takes over when the Lease expires.
    const c = await startRouter({ name: 'c', extra: election(), standby: true }, a.robotConfig);
    await pause(7_000);
    await b.router.kill();
    await wave('three');
    expect(c.router.output.join('')).toContain('event router watching');
    await pause(3_000);
    for (const wave of ['one', 'two', 'three'])
      for (let i = 0; i < 3; i++) expect(told(robotNames.oncall, `${wave}-${i}`), `${wave}-${i}`).toBe(1);
  });

  it('leader killed with a backlog: the other replica delivers it from the outbox ConfigMap, repeating nothing', async () => {
    const a = await startRouter({ name: 'a', extra: election() });
    const b = await startRouter({ name: 'b', extra: election(), standby: true }, a.robotConfig);
    await killWithBacklog(a.router, 'backlog');
    await eventually(
      async () => b.router.output.join(''),
      (out) => out.includes('event router watching'),
      'the standby to take over',
      20_000,
    );
    expect(b.router.output.join('')).toMatch(
      /"robot":"oncall","messages":\d+,.*"msg":"sending what waited in the outbox"/,
    );
    await wave('after');
    const pods = ['told', 'backlog', 'down', 'after'].flatMap((name) => [0, 1, 2].map((i) => `${name}-${i}`));
    await expectEachToldOnce(pods);
    expect(robots.rejected(robotNames.oncall).map((r) => r.errcode)).not.toContain(130101);
  });

  it('under on-call load with a kill -9 mid-run: every incident told once, never refused, never over 20 a minute', async () => {
    const other = await createNamespace('router-load');
    try {
      const namespaces = [namespace, other];
      const first = await startRouter({ namespaces });
      const started = Date.now();
      const incidents: string[] = [];
      const crashLoops = await Promise.all(
        namespaces.map((ns, i) =>
          recorder.create({ namespace: ns, pod: `crashloop-${i}`, reason: 'BackOff' }),
        ),
      );
      // About 20 new Warning incidents a minute for 70 s, BackOff recurring, and a storm of 100 pods.
      const load = (async () => {
        for (let n = 0; Date.now() - started < 70_000; n++) {
          const pod = `incident-${String(n).padStart(3, '0')}`;
          incidents.push(pod);
          await recorder.create({ namespace: namespaces[n % 2]!, pod, reason: 'Unhealthy' });
          // Every 6 s: within two group intervals (4 s), so each stays one incident told as updates.
          if (n % 2 === 1) {
            for (const [i, event] of crashLoops.entries()) crashLoops[i] = await recorder.recur(event);
          }
          if (n === 4) {
            for (let i = 0; i < 100; i += 10)
              await Promise.all(
                Array.from({ length: 10 }, (_, j) =>
                  recorder.create({ namespace, pod: `pending-${i + j}`, reason: 'FailedScheduling' }),
                ),
              );
          }
          await pause(3_000);
        }
      })();
      await pause(30_000);
      await first.router.kill();
      await pause(5_000);
      await startRouter({ namespaces }, first.robotConfig);
      await load;

      await expectEachToldOnce(incidents, 150_000);
      for (const pod of ['crashloop-0', 'crashloop-1']) {
        const announced = texts(robotNames.oncall).filter(
          (text) => text.includes(pod) && !text.includes('still happening'),
        );
        expect(announced, pod).toHaveLength(1);
      }
      expect(texts(robotNames.oncall).some((text) => /FailedScheduling: \d+ objects/.test(text))).toBe(true);
      expect(robots.rejected(robotNames.oncall)).toEqual([]);
      const times = robots.accepted(robotNames.oncall).map((a) => a.at);
      for (const at of times)
        expect(times.filter((t) => t >= at && t < at + 60_000).length).toBeLessThanOrEqual(20);
    } finally {
      await deleteNamespace(other);
    }
  }, 300_000);
});
