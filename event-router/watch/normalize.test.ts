import type { CoreV1Event, EventsV1Event } from '@kubernetes/client-node';
import { V1MicroTime } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { fromCoreEvent, fromEventsV1 } from './normalize.ts';

const ms = (iso: string) => new Date(iso).getTime();

describe('fromCoreEvent', () => {
  it('maps a kubelet BackOff event', () => {
    const e: CoreV1Event = {
      metadata: {
        name: 'web-1.17a',
        namespace: 'shop',
        uid: 'ev-1',
        creationTimestamp: new Date('2025-01-01T10:00:00Z'),
      },
      involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'shop', uid: 'pod-1' },
      reason: 'BackOff',
      type: 'Warning',
      message: 'Back-off restarting failed container',
      source: { component: 'kubelet', host: 'node-a' },
      count: 7,
      firstTimestamp: new Date('2025-01-01T10:00:00Z'),
      lastTimestamp: new Date('2025-01-01T10:05:00Z'),
    };
    expect(fromCoreEvent(e)).toEqual({
      namespace: 'shop',
      kind: 'Pod',
      name: 'web-1',
      reason: 'BackOff',
      type: 'Warning',
      message: 'Back-off restarting failed container',
      source: 'kubelet',
      labels: {},
      uid: 'ev-1',
      eventName: 'web-1.17a',
      objectUid: 'pod-1',
      count: 7,
      firstTime: ms('2025-01-01T10:00:00Z'),
      lastTime: ms('2025-01-01T10:05:00Z'),
      host: 'node-a',
    });
  });

  it('reads the raw JSON of a watch, where every time is a string', () => {
    const raw = {
      metadata: { name: 'n.1', namespace: 'default', uid: 'u' },
      involvedObject: { kind: 'Node', name: 'node-a' },
      reason: 'NodeNotReady',
      lastTimestamp: '2025-01-01T10:05:00Z',
      firstTimestamp: '2025-01-01T10:01:00Z',
    } as unknown as CoreV1Event;
    const event = fromCoreEvent(raw);
    // A cluster-scoped object has no namespace: the event's own is used.
    expect(event.namespace).toBe('default');
    expect(event).toMatchObject({ count: 1, objectUid: undefined, host: undefined, source: '' });
    expect(event.firstTime).toBe(ms('2025-01-01T10:01:00Z'));
    expect(event.lastTime).toBe(ms('2025-01-01T10:05:00Z'));
  });

  it('takes the newest of series.lastObservedTime, lastTimestamp and eventTime, and the series count', () => {
    const e = {
      metadata: { name: 'x', namespace: 'ns', uid: 'u' },
      involvedObject: { kind: 'Pod', name: 'p' },
      reportingComponent: 'default-scheduler',
      eventTime: '2025-01-01T10:00:00.250000Z',
      series: { count: 12, lastObservedTime: '2025-01-01T10:09:59.500000Z' },
      lastTimestamp: new Date('2025-01-01T10:03:00Z'),
    } as unknown as CoreV1Event;
    const event = fromCoreEvent(e);
    expect(event.source).toBe('default-scheduler');
    expect(event.count).toBe(12);
    expect(event.firstTime).toBe(ms('2025-01-01T10:00:00.250Z'));
    expect(event.lastTime).toBe(ms('2025-01-01T10:09:59.500Z'));
  });

  it('handles an event with only eventTime', () => {
    const e: CoreV1Event = {
      metadata: { name: 'x', namespace: 'ns', uid: 'u' },
      involvedObject: { kind: 'Pod', name: 'p' },
      eventTime: new V1MicroTime('2025-01-01T10:00:00.123Z'),
    };
    expect(fromCoreEvent(e)).toMatchObject({
      count: 1,
      firstTime: ms('2025-01-01T10:00:00.123Z'),
      lastTime: ms('2025-01-01T10:00:00.123Z'),
    });
  });

  it('falls back to the creation time when the event has no time of its own', () => {
    const e: CoreV1Event = {
      metadata: { name: 'x', uid: 'u', creationTimestamp: new Date('2025-01-01T09:00:00Z') },
      involvedObject: {},
    };
    const event = fromCoreEvent(e);
    expect(event.lastTime).toBe(ms('2025-01-01T09:00:00Z'));
    expect(event.firstTime).toBe(event.lastTime);
  });
});

describe('fromEventsV1', () => {
  it('maps regarding, note, reportingController and the series', () => {
    const e: EventsV1Event = {
      metadata: { name: 'db-0.18b', namespace: 'data', uid: 'ev-2' },
      regarding: { kind: 'Pod', name: 'db-0', namespace: 'data', uid: 'pod-2' },
      reason: 'Unhealthy',
      type: 'Warning',
      note: 'Readiness probe failed',
      action: 'Probe',
      reportingController: 'kubelet',
      reportingInstance: 'kubelet-node-b',
      eventTime: new V1MicroTime('2025-01-01T10:00:00.000Z'),
      series: { count: 4, lastObservedTime: new V1MicroTime('2025-01-01T10:02:00.000Z') },
      deprecatedSource: { component: 'kubelet', host: 'node-b' },
    };
    expect(fromEventsV1(e)).toEqual({
      namespace: 'data',
      kind: 'Pod',
      name: 'db-0',
      reason: 'Unhealthy',
      type: 'Warning',
      message: 'Readiness probe failed',
      source: 'kubelet',
      labels: {},
      uid: 'ev-2',
      eventName: 'db-0.18b',
      objectUid: 'pod-2',
      count: 4,
      firstTime: ms('2025-01-01T10:00:00Z'),
      lastTime: ms('2025-01-01T10:02:00Z'),
      host: 'node-b',
    });
  });

  it('handles an event with only eventTime, as raw watch JSON', () => {
    const raw = {
      metadata: { name: 'x', namespace: 'ns', uid: 'u' },
      regarding: { kind: 'Deployment', name: 'web' },
      reason: 'ScalingReplicaSet',
      eventTime: '2025-01-01T10:00:00.654321Z',
    } as unknown as EventsV1Event;
    expect(fromEventsV1(raw)).toMatchObject({
      namespace: 'ns',
      count: 1,
      firstTime: ms('2025-01-01T10:00:00.654Z'),
      lastTime: ms('2025-01-01T10:00:00.654Z'),
    });
  });

  it('reads the deprecated core/v1 fields a converted event carries', () => {
    const e = {
      metadata: { name: 'x', namespace: 'ns', uid: 'u' },
      regarding: { kind: 'Pod', name: 'p' },
      eventTime: null,
      deprecatedCount: 3,
      deprecatedFirstTimestamp: '2025-01-01T10:00:00Z',
      deprecatedLastTimestamp: '2025-01-01T10:07:00Z',
      deprecatedSource: { component: 'kubelet' },
    } as unknown as EventsV1Event;
    expect(fromEventsV1(e)).toMatchObject({
      source: 'kubelet',
      count: 3,
      firstTime: ms('2025-01-01T10:00:00Z'),
      lastTime: ms('2025-01-01T10:07:00Z'),
    });
  });
});
