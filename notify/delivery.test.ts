import { describe, expect, it, vi } from 'vitest';
import { useRobotBed } from '../test/robots/harness.ts';
import type { Delivery } from './delivery.ts';

// What becomes of each message at each robot, as the console shows it: followed through retries,
// digests and drops, on the robot server in virtual time.

const bed = useRobotBed();
const alert = (title: string) => ({ title, text: 'details', severity: 'critical' as const, key: title });

describe('deliveries', () => {
  it('wait, are retried after a failure with its code, and end sent', async () => {
    const ops = bed.server.dingtalk({ name: 'ops' });
    bed.server.setFailure('ops', '500');
    const { chat } = await bed.chat({ ops });
    const deliveries = new Map<string, Delivery>();
    chat.send(['ops'], alert('disk full'), deliveries);
    await vi.waitFor(() =>
      expect(deliveries.get('ops')).toMatchObject({ outcome: 'retrying', detail: 'http_500' }),
    );
    bed.server.setFailure('ops', undefined);
    await chat.idle();
    expect(deliveries.get('ops')!.outcome).toBe('sent');
    expect(deliveries.get('ops')!.detail).toBeUndefined();
  });

  it('say when messages went out merged into a digest, and why one was dropped', async () => {
    const ops = bed.server.dingtalk({ name: 'ops' });
    bed.server.setFailure('ops', 'hang');
    const { chat } = await bed.chat({ ops: { ...ops, timeout: '300ms', queue: { maxMessages: 2 } } });
    const deliveries = ['alpha', 'bravo', 'charlie', 'delta'].map((title) => {
      const map = new Map<string, Delivery>();
      chat.send(['ops'], alert(title), map);
      return map.get('ops')!;
    });
    expect(deliveries.map((d) => d.outcome)).toEqual(['waiting', 'waiting', 'waiting', 'waiting']);
    bed.server.setFailure('ops', undefined);
    await chat.idle();
    // Four messages in a queue of two: at least three went out merged, whichever was on its way alone.
    const outcomes = deliveries.map((d) => d.outcome);
    expect(outcomes.filter((o) => o === 'digested').length).toBeGreaterThanOrEqual(3);
    expect(outcomes.every((o) => o === 'digested' || o === 'sent')).toBe(true);

    bed.server.setFailure('ops', { errcode: 310000, errmsg: 'keywords not in content' });
    const rejected = new Map<string, Delivery>();
    chat.send(['ops'], alert('refused'), rejected);
    await chat.idle();
    expect(rejected.get('ops')).toMatchObject({
      outcome: 'dropped',
      detail: 'rejected, 310000: keywords not in content',
    });
  });
});
