import { describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../core/log.ts';
import type { ObservedEvent } from '../event.ts';
import { observedEvent } from '../fixtures/observed-event.ts';
import type { RouteTarget } from '../routes/tree.ts';
import { type GroupReport, RouteTemplates, renderGroup, renderStorm } from './render.ts';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

const event = (fields: Partial<ObservedEvent> = {}): ObservedEvent =>
  observedEvent({ firstTime: T0, lastTime: T0, ...fields });

const group = (fields: Partial<GroupReport> = {}): GroupReport => ({
  key: 'root shop/Pod/order-7f9c BackOff',
  event: event({ owner: { kind: 'Deployment', name: 'order' } }),
  count: 3,
  total: 3,
  firstTime: T0,
  lastTime: T0 + 20_000,
  update: false,
  ...fields,
});

const target = (template?: string): RouteTarget => ({
  id: 'root.0',
  robots: ['oncall'],
  template,
  groupWaitMs: 0,
});

describe('renderGroup', () => {
  it('tells the object, reason, count, times, owner and node', () => {
    expect(renderGroup(group())).toEqual({
      title: 'BackOff: Pod shop/order-7f9c (×3)',
      text: 'Back-off restarting failed container app',
      severity: 'warning',
      fields: {
        namespace: 'shop',
        object: 'Pod/order-7f9c',
        reason: 'BackOff',
        count: 3,
        first: '2024-05-01T12:00:00Z',
        last: '2024-05-01T12:00:20Z',
        owner: 'Deployment/order',
        node: 'node-1',
      },
      time: T0 + 20_000,
      key: 'root shop/Pod/order-7f9c BackOff',
    });
  });

  it('leaves out the count of one, and what enrichment did not find', () => {
    const n = renderGroup(
      group({
        count: 1,
        total: 1,
        event: event({ kind: 'Node', namespace: '', name: 'n1', type: 'Normal', host: undefined }),
      }),
    );
    expect(n.title).toBe('BackOff: Node n1');
    expect(n.severity).toBe('info');
    expect(n.fields).not.toHaveProperty('owner');
    expect(n.fields).not.toHaveProperty('node');
  });

  it('marks an update with the count in all and since the last message', () => {
    const n = renderGroup(group({ count: 27, total: 30, update: true }));
    expect(n.title).toBe('BackOff: Pod shop/order-7f9c (×30, still happening)');
    expect(n.text).toBe(
      'Still happening: 30 times since 2024-05-01T12:00:00Z, 27 since the last message.\nBack-off restarting failed container app',
    );
    expect(n.fields?.count).toBe(30);
  });

  it('keeps Chinese message text intact', () => {
    const message = '拉取镜像 "registry.cn/商城:v2" 失败：未授权 😱';
    expect(renderGroup(group({ event: event({ message }) })).text).toBe(message);
  });
});

describe('renderStorm', () => {
  const groups = Array.from({ length: 300 }, (_, i) =>
    group({
      key: `k${i}`,
      event: event({
        namespace: i % 2 ? 'shop' : 'web',
        name: `pod-${String(i).padStart(3, '0')}`,
        reason: 'FailedScheduling',
        message: `0/3 nodes are available: ${i}`,
      }),
      count: i < 5 ? 10 - i : 1,
      firstTime: T0 + i,
      lastTime: T0 + 1000 + i,
    }),
  );

  it('summarises the objects with the top ones by count and how many more', () => {
    const n = renderStorm({ key: 'root storm FailedScheduling', reason: 'FailedScheduling', groups }, 5);
    expect(n.title).toBe('FailedScheduling: 300 objects (×335)');
    expect(n.text).toBe(
      [
        '300 objects had FailedScheduling 335 times in shop, web.',
        'Latest: 0/3 nodes are available: 299',
        '- Pod web/pod-000 ×10',
        '- Pod shop/pod-001 ×9',
        '- Pod web/pod-002 ×8',
        '- Pod shop/pod-003 ×7',
        '- Pod web/pod-004 ×6',
        'and 295 more',
      ].join('\n'),
    );
    expect(n.fields).toEqual({
      reason: 'FailedScheduling',
      objects: 300,
      count: 335,
      namespaces: 'shop, web',
      first: '2024-05-01T12:00:00Z',
      last: '2024-05-01T12:00:01Z',
    });
    expect(n.severity).toBe('warning');
    expect(n.key).toBe('root storm FailedScheduling');
  });

  it('caps the list of namespaces', () => {
    const spread = groups
      .slice(0, 12)
      .map((g, i) => ({ ...g, event: { ...g.event, namespace: `ns-${i + 10}` } }));
    const n = renderStorm({ key: 'k', reason: 'FailedScheduling', groups: spread }, 5);
    expect(n.fields?.namespaces).toBe(
      'ns-10, ns-11, ns-12, ns-13, ns-14, ns-15, ns-16, ns-17, ns-18, ns-19, and 2 more',
    );
  });
});

describe('RouteTemplates', () => {
  const fakeLog = () => ({ warn: vi.fn() });

  it('leaves the message alone when the route has no template', () => {
    const message = renderGroup(group());
    expect(new RouteTemplates(undefined).apply(target(), message, T0)).toBe(message);
  });

  it('renders the text with the message fields, in notify template syntax', () => {
    const templates = new RouteTemplates(undefined);
    const n = templates.apply(
      target('{{fields.object}} ×{{fields.count}} on {{fields.node}} <{{fields.owner}}>: {{text}}'),
      renderGroup(
        group({ event: event({ owner: { kind: 'Deployment', name: 'order' }, message: '容器 OOM' }) }),
      ),
      T0,
    );
    expect(n.text).toBe('Pod/order-7f9c ×3 on node-1 <Deployment/order>: 容器 OOM');
    expect(n.title).toBe('BackOff: Pod shop/order-7f9c (×3)');
  });

  it('falls back to the default text when the template fails, logging once', () => {
    const log = fakeLog();
    const templates = new RouteTemplates(log as unknown as Logger);
    const message = renderGroup(group());
    for (const source of ['{{shout title}}', '{{#each fields}}']) {
      expect(templates.apply(target(source), message, T0)).toEqual(message);
      expect(templates.apply(target(source), message, T0)).toEqual(message);
    }
    expect(log.warn).toHaveBeenCalledTimes(2);
    expect(log.warn.mock.calls[0]?.[0]).toMatchObject({
      route: 'root.0',
      error: expect.stringMatching(/shout/),
    });
  });
});
