import { describe, expect, it } from 'vitest';
import type { ObservedEvent } from '../event.ts';
import { eventDocument } from './document.ts';

const observed = (fields: Partial<ObservedEvent> = {}): ObservedEvent => ({
  namespace: 'shop',
  kind: 'Pod',
  name: 'order-7f9c-abcde',
  reason: 'BackOff',
  type: 'Warning',
  message: 'Back-off restarting failed container app in pod order-7f9c-abcde',
  source: 'kubelet',
  labels: { app: 'order', 'app.kubernetes.io/name': 'order' },
  uid: '0d5d2c4e-7a51-4f0e-9a4b-3f1c2d9e8b70',
  eventName: 'order-7f9c-abcde.17f3a2b4c5d6e7f8',
  objectUid: 'a1b2c3d4-0000-4000-8000-000000000001',
  count: 7,
  firstTime: Date.UTC(2025, 0, 2, 3, 4, 5),
  lastTime: Date.UTC(2025, 0, 2, 3, 9, 5, 250),
  host: 'node-1',
  owner: { kind: 'Deployment', name: 'order' },
  ...fields,
});

describe('eventDocument', () => {
  it('maps a pod warning to ECS fields the log search filters on', () => {
    expect(eventDocument(observed())).toEqual({
      '@timestamp': '2025-01-02T03:09:05.250Z',
      message: 'Back-off restarting failed container app in pod order-7f9c-abcde',
      log: { level: 'warn' },
      event: {
        id: '0d5d2c4e-7a51-4f0e-9a4b-3f1c2d9e8b70-7',
        kind: 'event',
        dataset: 'kubernetes.event',
        reason: 'BackOff',
        type: 'Warning',
        count: 7,
        start: '2025-01-02T03:04:05.000Z',
      },
      kubernetes: {
        namespace: 'shop',
        pod: { name: 'order-7f9c-abcde', uid: 'a1b2c3d4-0000-4000-8000-000000000001' },
        node: { name: 'node-1' },
        object: { kind: 'Pod', name: 'order-7f9c-abcde', uid: 'a1b2c3d4-0000-4000-8000-000000000001' },
        // Dedotted, so `app` and `app.kubernetes.io/name` do not clash in the mapping.
        labels: { app: 'order', 'app_kubernetes_io/name': 'order' },
        owner: { kind: 'Deployment', name: 'order' },
      },
      source: { component: 'kubelet' },
    });
  });

  it('gives each count of an incident its own id, valid for the collector', () => {
    const ids = [1, 2, 2].map((count) => eventDocument(observed({ count })).event.id);
    expect(ids[0]).not.toBe(ids[1]);
    expect(ids[1]).toBe(ids[2]);
    for (const id of ids) expect(id).toMatch(/^[\w-]{1,256}$/);
  });

  it('names the node of a Node event, and no pod', () => {
    const doc = eventDocument(
      observed({ kind: 'Node', name: 'node-7', host: undefined, type: 'Normal', reason: 'NodeReady' }),
    );
    expect(doc.kubernetes.node).toEqual({ name: 'node-7' });
    expect(doc.kubernetes.pod).toBeUndefined();
    expect(doc.log.level).toBe('info');
  });

  it('leaves out what the event does not have', () => {
    const doc = eventDocument(
      observed({
        kind: 'Deployment',
        name: 'order',
        host: undefined,
        objectUid: undefined,
        labels: {},
        owner: undefined,
      }),
    );
    expect(doc.kubernetes).toEqual({ namespace: 'shop', object: { kind: 'Deployment', name: 'order' } });
  });

  it('takes an events.k8s.io event with only eventTime (first and last time the same)', () => {
    const eventTime = Date.UTC(2025, 5, 30, 23, 59, 59, 999);
    const doc = eventDocument(observed({ count: 1, firstTime: eventTime, lastTime: eventTime }));
    expect(doc['@timestamp']).toBe('2025-06-30T23:59:59.999Z');
    expect(doc.event.start).toBe('2025-06-30T23:59:59.999Z');
    expect(doc.event.id).toBe('0d5d2c4e-7a51-4f0e-9a4b-3f1c2d9e8b70-1');
  });

  it('keeps a Chinese message as it is, through JSON', () => {
    const message = '容器 app 重启失败，正在退避重试（镜像拉取超时）';
    const doc = eventDocument(observed({ message, reason: '镜像拉取失败' }));
    expect(JSON.parse(JSON.stringify(doc)).message).toBe(message);
    expect(doc.event.reason).toBe('镜像拉取失败');
  });
});
