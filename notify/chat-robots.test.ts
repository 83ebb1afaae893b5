import { describe, expect, it } from 'vitest';
import { robotsConfig, useRobotBed } from '../test/robots/harness.ts';
import type { Accepted } from '../test/robots/robot-server.ts';

const bed = useRobotBed();

/** The most messages any 60 s window saw. */
function busiestMinute(accepted: Accepted[]): number {
  return Math.max(
    0,
    ...accepted.map((m) => accepted.filter((n) => n.at >= m.at && n.at < m.at + 60_000).length),
  );
}

const numbered = (i: number) => `alert-${String(i).padStart(3, '0')}`;

describe('ChatRobots', () => {
  it.each([
    ['DingTalk', 'dingtalk'],
    ['WeCom', 'wecom'],
  ] as const)(
    'turns a burst of 200 alerts to one %s robot into at most 20 messages a minute, losing none',
    async (_name, kind) => {
      const robot =
        kind === 'dingtalk'
          ? bed.server.dingtalk({ name: 'r', secret: 'SECburst' })
          : bed.server.wecom({ name: 'r' });
      const { chat, metric } = await bed.chat({ r: robot });
      const started = bed.clock.now();
      for (let i = 0; i < 200; i++) {
        const result = chat.send(['r'], {
          title: numbered(i),
          text: `pod ${i} 重启 "CrashLoopBackOff"`,
          severity: 'warning',
        });
        expect(result).toEqual({ queued: ['r'], dropped: [] });
        bed.clock.advance(100);
      }
      await chat.idle();
      const accepted = bed.server.accepted('r');
      expect(bed.server.rejected('r')).toEqual([]);
      expect(busiestMinute(accepted)).toBeLessThanOrEqual(20);
      const everything = accepted.map((m) => m.text).join('\n');
      for (let i = 0; i < 200; i++) expect(everything).toContain(numbered(i));
      expect(accepted.length).toBeLessThan(200);
      expect(accepted.at(-1)!.at - started).toBeLessThanOrEqual(3 * 60_000);
      const digested = await metric('lookout_notify_digested_total', { robot: 'r' });
      expect(digested + accepted.filter((m) => !/\d+ more alerts/.test(m.text)).length).toBe(200);
      expect(accepted.some((m) => /^\d+ more alerts/.test(m.text) || m.text.includes('more alerts:'))).toBe(
        true,
      );
      expect(await metric('lookout_notify_queue_depth', { robot: 'r' })).toBe(0);
    },
  );

  it('writes digests in the robot language, listing the titles', async () => {
    const dev = bed.server.wecom({ name: 'dev', perMinute: 1 });
    const { chat } = await bed.chat({ dev: { ...dev, perMinute: 1, locale: 'zh' } });
    for (const title of ['一', '二', '三']) chat.send(['dev'], { title, severity: 'critical' });
    await chat.idle();
    expect(bed.server.accepted('dev').map((m) => m.text)).toEqual([
      expect.stringContaining('**一**'),
      '另有 2 条告警:\n\n- 🔴 严重 二\n- 🔴 严重 三',
    ]);
  });

  it('sends to several robots per route, each on its own', async () => {
    const ops = bed.server.dingtalk({ name: 'ops' });
    const dev = bed.server.wecom({ name: 'dev' });
    const { chat, metric, records } = await bed.chat({ ops, dev });
    expect(chat.send(['ops', 'dev', 'ops', 'gone'], { title: 'both', key: 'k1' })).toEqual({
      queued: ['ops', 'dev'],
      dropped: ['gone'],
    });
    await chat.idle();
    expect(bed.server.accepted('ops')).toHaveLength(1);
    expect(bed.server.accepted('dev')).toHaveLength(1);
    expect(await metric('lookout_notify_dropped_total', { robot: 'gone', reason: 'unknown_robot' })).toBe(1);
    expect(records()).toContainEqual(expect.objectContaining({ robot: 'gone', notificationKey: 'k1' }));
  });

  it('keeps delivering to one robot while another hangs', async () => {
    const stuck = bed.server.dingtalk({ name: 'stuck' });
    const fine = bed.server.wecom({ name: 'fine' });
    bed.server.setFailure('stuck', 'hang');
    // Real time here: the hang is only cut by the request timeout.
    const { chat } = await bed.chat(
      { stuck: { ...stuck, timeout: '1s', retry: { minDelay: '10ms' } }, fine },
      { realTime: true },
    );
    const sentAt = Date.now();
    for (let i = 0; i < 5; i++) chat.send(['stuck', 'fine'], { title: numbered(i) });
    while (bed.server.accepted('fine').length < 5) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(Date.now() - sentAt).toBeLessThan(1_000);
    // The stuck robot is still on its first request.
    expect(bed.server.requests('stuck')).toBe(1);
    bed.server.setFailure('stuck', undefined);
    await chat.idle();
    expect(bed.server.accepted('stuck')).toHaveLength(5);
  });

  it('on stop, merges what waits into a digest and delivers it before the deadline', async () => {
    const ops = bed.server.dingtalk({ name: 'ops' });
    const { chat, metric } = await bed.chat({ ops });
    for (let i = 0; i < 30; i++) chat.send(['ops'], { title: numbered(i) });
    await chat.stop(AbortSignal.timeout(5_000));
    const accepted = bed.server.accepted('ops');
    expect(accepted).toHaveLength(20);
    const everything = accepted.map((m) => m.text).join('\n');
    for (let i = 0; i < 30; i++) expect(everything).toContain(numbered(i));
    expect(await metric('lookout_notify_dropped_total', { robot: 'ops', reason: 'shutdown' })).toBe(0);
    expect(chat.send(['ops'], { title: 'late', key: 'late-1' })).toEqual({
      queued: [],
      dropped: ['ops'],
    });
  });

  it('drops, counts and logs what is left when the stop deadline passes', async () => {
    const ops = bed.server.dingtalk({ name: 'ops' });
    bed.server.setFailure('ops', 'hang');
    const { chat, metric, records } = await bed.chat({ ops });
    for (let i = 0; i < 3; i++) chat.send(['ops'], { title: numbered(i), key: `k${i}` });
    await chat.stop(AbortSignal.timeout(100));
    expect(await metric('lookout_notify_dropped_total', { robot: 'ops', reason: 'shutdown' })).toBe(3);
    expect(
      records()
        .filter((r) => r.reason === 'shutdown')
        .map((r) => r.notificationKey),
    ).toEqual(['k0', 'k1', 'k2']);
  });

  it('on reload keeps queues and send history, adds and retires robots', async () => {
    const ops = bed.server.dingtalk({ name: 'ops' });
    const dev = bed.server.wecom({ name: 'dev' });
    const { chat, metric } = await bed.chat({ ops });
    for (let i = 0; i < 20; i++) chat.send(['ops'], { title: numbered(i) });
    await chat.idle();
    const firstMinute = bed.server.accepted('ops').at(-1)!.at;
    await chat.reload(robotsConfig({ ops: { ...ops, locale: 'zh' }, dev }), AbortSignal.timeout(5_000));
    chat.send(['ops', 'dev'], { title: 'after reload', severity: 'critical' });
    await chat.idle();
    const last = bed.server.accepted('ops').at(-1)!;
    // The 21st message still waited for the minute: the reload bought no extra sends.
    expect(last.at - firstMinute).toBeGreaterThanOrEqual(60_000);
    expect(last.text).toContain('严重');
    expect(bed.server.rejected('ops')).toEqual([]);
    expect(bed.server.accepted('dev')).toHaveLength(1);
    await chat.reload(robotsConfig({ dev }), AbortSignal.timeout(5_000));
    expect(chat.names()).toEqual(['dev']);
    expect(chat.send(['ops'], { title: 'x' }).dropped).toEqual(['ops']);
    expect(await metric('lookout_notify_dropped_total', { robot: 'ops', reason: 'unknown_robot' })).toBe(1);
  });
});
