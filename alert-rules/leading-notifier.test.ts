import { describe, expect, it } from 'vitest';
import { LeadingNotifier } from './leading-notifier.ts';
import type { PostableAlert } from './types.ts';

const MINUTE = 60_000;
const START = Date.parse('2026-12-02T10:00:00Z');

function alert(instance: string, endsAtMs: number): PostableAlert {
  return {
    labels: { alertname: 'Down', instance },
    annotations: {},
    startsAt: new Date(START).toISOString(),
    endsAt: new Date(endsAtMs).toISOString(),
    generatorURL: '',
  };
}

function setup() {
  let now = START;
  const notifier = new LeadingNotifier({ retentionMs: 15 * MINUTE, now: () => now });
  const received: PostableAlert[][] = [];
  return {
    notifier,
    received,
    target: { send: (alerts: readonly PostableAlert[]) => received.push([...alerts]) },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('LeadingNotifier', () => {
  it('drops alerts while it does not lead, and gives a new target the latest of each at once', () => {
    const { notifier, received, target } = setup();
    const firing = alert('db-1', START + 4 * MINUTE);
    const resolved = alert('db-1', START + MINUTE);
    notifier.send([firing, alert('db-2', START + 4 * MINUTE)]);
    notifier.send([resolved]);
    expect(received).toEqual([]);

    notifier.lead(target);
    expect(received).toEqual([[resolved, alert('db-2', START + 4 * MINUTE)]]);
    notifier.send([firing]);
    expect(received[1]).toEqual([firing]);

    notifier.unlead();
    notifier.send([resolved]);
    expect(received).toHaveLength(2);
  });

  it('forgets an alert once it ended longer ago than the retention', () => {
    const { notifier, received, target, advance } = setup();
    notifier.send([alert('old', START), alert('recent', START + 10 * MINUTE)]);
    advance(20 * MINUTE);
    notifier.lead(target);
    expect(received).toEqual([[alert('recent', START + 10 * MINUTE)]]);
  });
});
