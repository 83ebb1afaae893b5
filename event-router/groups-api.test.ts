import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpApp, type HttpApp } from '../core/http.ts';
import { httpSchema } from '../core/http-config.ts';
import { createLogger } from '../core/log.ts';
import { Metrics } from '../core/metrics.ts';
import { useRobotBed } from '../test/robots/harness.ts';
import { Aggregator } from './aggregate/aggregator.ts';
import { observedEvent } from './fixtures/observed-event.ts';
import { type GroupsSource, MAX_LIMIT, registerGroupsApi } from './groups-api.ts';
import type { RouteTarget } from './routes/tree.ts';
import { SentLog, sendAndRemember } from './sent-log.ts';

// The aggregation's groups and sent messages as GET /api/events/groups answers them, from a real
// aggregator handing its messages to real chat robots that post to the robot server.

const ADMIN = 'admin-token-0123456789';
const SHOP = 'shop-viewer-token-0123';
const SECRET = 'SECs3cr3t-not-in-answers';
const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const bed = useRobotBed();

const route = (id: string, robots: string[]): RouteTarget => ({
  id,
  robots,
  template: undefined,
  groupWaitMs: 30_000,
});

let http: HttpApp;
let source: GroupsSource;

beforeEach(() => {
  http = createHttpApp({
    config: httpSchema.parse({
      listen: '127.0.0.1:0',
      auth: {
        tokens: [
          { name: 'admin', token: ADMIN, role: 'admin' },
          { name: 'shop-dev', token: SHOP, role: 'viewer', namespaces: ['shop'] },
        ],
      },
    }),
    log: silent,
    metrics: new Metrics(),
  });
  registerGroupsApi(http.app, {
    groups: () => source.groups(),
    sent: () => source.sent(),
  });
});

afterEach(async () => {
  await http.close();
});

async function get(query: string, token = ADMIN) {
  const response = await http.app.inject({
    url: `/api/events/groups${query}`,
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: response.statusCode, body: response.json(), text: response.body };
}

/** Chat robots on the robot server: `ops` takes messages, `dev` refuses them, `gone` is not configured. */
async function routerWithRobots() {
  const ops = bed.server.dingtalk({ name: 'ops', secret: SECRET });
  const dev = bed.server.wecom({ name: 'dev' });
  bed.server.setFailure('dev', { errcode: 93000, errmsg: `invalid webhook url, key=${dev.key}` }, 100);
  const { chat } = await bed.chat({ ops: { ...ops, msgtype: 'text' }, dev: { ...dev, msgtype: 'text' } });
  const sent = new SentLog();
  const aggregator = new Aggregator({
    send: sendAndRemember(chat, sent, bed.clock),
    clock: bed.clock,
    stormThreshold: 2,
  });
  source = { groups: () => aggregator.groups(), sent: () => sent.list() };
  const event = (namespace: string, name: string, reason = 'BackOff') =>
    observedEvent({
      namespace,
      name,
      reason,
      uid: `${namespace}-${name}-${reason}`,
      firstTime: bed.clock.now(),
      lastTime: bed.clock.now(),
    });
  return { chat, aggregator, event, secrets: [SECRET, ops.accessToken, dev.key, bed.server.url] };
}

describe('GET /api/events/groups', () => {
  it('lists the groups and what each robot made of each message, with no robot address or token', async () => {
    const { chat, aggregator, event, secrets } = await routerWithRobots();
    aggregator.add(event('shop', 'order-1'), 'new', [route('root', ['ops', 'dev', 'gone'])]);
    aggregator.add(event('billing', 'invoice-0', 'FailedMount'), 'new', [route('root.0', ['ops'])]);
    // Three objects with one reason in one window: one storm message across namespaces.
    for (const [namespace, name] of [
      ['shop', 'web-1'],
      ['shop', 'web-2'],
      ['billing', 'worker-1'],
    ] as const) {
      aggregator.add(event(namespace, name, 'FailedScheduling'), 'new', [route('root.1', ['ops'])]);
    }
    await bed.clock.sleep(31_000);
    await chat.idle();

    const { status, body, text } = await get('');
    expect(status).toBe(200);
    expect(body.leading).toBe(true);
    expect(body.groupCount).toBe(5);
    expect(body.groups[0]).toMatchObject({
      route: 'root.1',
      robots: ['ops'],
      namespace: 'billing',
      kind: 'Pod',
      name: 'worker-1',
      reason: 'FailedScheduling',
      type: 'Warning',
      total: 1,
      pending: 0,
      dueAt: null,
    });
    expect(body.groups[0].sentAt).toBeGreaterThan(0);
    const byTitle = new Map(
      (body.sent as { title: string; kind: string; robots: unknown[] }[]).map((m) => [m.title, m]),
    );
    expect(byTitle.get('BackOff: Pod shop/order-1')).toMatchObject({
      kind: 'single',
      route: 'root',
      robots: [
        { robot: 'ops', outcome: 'sent' },
        { robot: 'dev', outcome: 'dropped', detail: 'rejected, 93000: invalid webhook url, key=…' },
        { robot: 'gone', outcome: 'dropped', detail: 'unknown_robot' },
      ],
    });
    expect(byTitle.get('FailedScheduling: 3 objects (×3)')).toMatchObject({
      kind: 'storm',
      robots: [{ robot: 'ops', outcome: 'sent' }],
    });
    expect(body.sentCount).toBe(3);
    for (const secret of secrets) expect(text).not.toContain(secret);
  });

  it('shows a token limited to namespaces only their groups and the messages that tell only of them', async () => {
    const { chat, aggregator, event } = await routerWithRobots();
    aggregator.add(event('shop', 'order-1'), 'new', [route('root', ['ops'])]);
    aggregator.add(event('billing', 'invoice-0'), 'new', [route('root', ['ops'])]);
    for (const namespace of ['shop', 'billing', 'ops']) {
      aggregator.add(event(namespace, 'x', 'FailedScheduling'), 'new', [route('root.1', ['ops'])]);
    }
    await bed.clock.sleep(31_000);
    await chat.idle();

    const { body } = await get('', SHOP);
    expect(body.groups.map((g: { namespace: string }) => g.namespace)).toEqual(['shop', 'shop']);
    expect(body.groupCount).toBe(2);
    expect(body.sent.map((m: { title: string }) => m.title)).toEqual(['BackOff: Pod shop/order-1']);
    expect(body.sentCount).toBe(1);
    expect((await get('')).body.sentCount).toBe(3);
  });

  it('bounds the answer with limit, refuses a bad one, and says when this replica does not lead', async () => {
    const { aggregator, event } = await routerWithRobots();
    for (let i = 0; i < 3; i++) aggregator.add(event('shop', `pod-${i}`), 'new', [route('root', ['ops'])]);
    const { body } = await get('?limit=2');
    expect(body.groups.map((g: { name: string }) => g.name)).toEqual(['pod-2', 'pod-1']);
    expect(body.groupCount).toBe(3);
    expect(body.groups[0].pending).toBe(1);
    expect(body.groups[0].sentAt).toBeNull();
    expect(body.groups[0].dueAt).toBeGreaterThan(bed.clock.now());
    for (const limit of ['0', '-1', '1.5', 'many', '', String(MAX_LIMIT + 1)]) {
      const refused = await get(`?limit=${limit}`);
      expect(refused.status, limit).toBe(400);
      expect(refused.body.error).toBe(`limit must be a whole number from 1 to ${MAX_LIMIT}`);
    }
    source = { groups: () => undefined, sent: () => [] };
    expect((await get('')).body).toEqual({
      leading: false,
      groups: [],
      groupCount: 0,
      sent: [],
      sentCount: 0,
    });
    const anonymous = await http.app.inject({ url: '/api/events/groups' });
    expect(anonymous.statusCode).toBe(401);
  });
});
