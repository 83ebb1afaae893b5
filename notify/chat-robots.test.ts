import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
      expect(await metric('lookout_notify_outbox_depth', { robot: 'r' })).toBe(0);
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

  it('keeps what is left at the stop deadline in the outbox and sends it after the next start', async () => {
    const ops = bed.server.dingtalk({ name: 'ops' });
    bed.server.setFailure('ops', 'hang');
    const first = await bed.chat({ ops });
    for (let i = 0; i < 3; i++) first.chat.send(['ops'], { title: numbered(i), key: `k${i}` });
    await first.chat.stop(AbortSignal.timeout(100));
    expect(await first.metric('lookout_notify_dropped_total', { robot: 'ops', reason: 'shutdown' })).toBe(0);
    expect(first.records()).toContainEqual(
      expect.objectContaining({
        robot: 'ops',
        messages: 3,
        msg: 'messages wait in the robot outbox; they are sent after the next start',
      }),
    );
    bed.server.setFailure('ops', undefined);
    const second = await bed.chat({ ops }, { dataDir: first.dataDir });
    expect(await second.metric('lookout_notify_outbox_replayed_total', { robot: 'ops' })).toBe(3);
    await second.chat.idle();
    const everything = bed.server
      .accepted('ops')
      .map((m) => m.text)
      .join('\n');
    for (let i = 0; i < 3; i++) expect(everything).toContain(numbered(i));
  });

  it.each([
    ['DingTalk', 'dingtalk'],
    ['WeCom', 'wecom'],
  ] as const)(
    'after a restart, %s gets only what is left of the minute the last process used',
    async (_name, kind) => {
      const robot =
        kind === 'dingtalk' ? bed.server.dingtalk({ name: 'r' }) : bed.server.wecom({ name: 'r' });
      const first = await bed.chat({ r: robot });
      for (let i = 0; i < 15; i++) first.chat.send(['r'], { title: numbered(i) });
      await first.chat.idle();
      await first.chat.stop(AbortSignal.timeout(1_000));
      const second = await bed.chat({ r: robot }, { dataDir: first.dataDir });
      for (let i = 15; i < 25; i++) second.chat.send(['r'], { title: numbered(i) });
      await second.chat.idle();
      const accepted = bed.server.accepted('r');
      expect(bed.server.rejected('r')).toEqual([]);
      expect(busiestMinute(accepted)).toBeLessThanOrEqual(20);
      const everything = accepted.map((m) => m.text).join('\n');
      for (let i = 0; i < 25; i++) expect(everything).toContain(numbered(i));
    },
  );

  it('after a restart, waits out a throttle the robot announced to the last process', async () => {
    const ops = bed.server.dingtalk({ name: 'ops' });
    bed.server.setFailure('ops', { errcode: 130101, errmsg: 'send too fast' }, 1);
    const first = await bed.chat({ ops });
    const throttledAt = bed.clock.now();
    first.chat.send(['ops'], { title: 'before' });
    await first.chat.stop(AbortSignal.timeout(200));
    const second = await bed.chat({ ops }, { dataDir: first.dataDir });
    await second.chat.idle();
    expect(bed.server.accepted('ops')).toHaveLength(1);
    // retry.pause (60 s by default) after the 130101, not at once after the start.
    expect(bed.server.accepted('ops')[0]!.at - throttledAt).toBeGreaterThanOrEqual(60_000);
  });

  it('replays a backlog left by the last process within the limit, merging it into digests', async () => {
    const ops = bed.server.dingtalk({ name: 'ops' });
    bed.server.setFailure('ops', 'hang');
    const first = await bed.chat({ ops });
    for (let i = 0; i < 40; i++) first.chat.send(['ops'], { title: numbered(i) });
    await first.chat.stop(AbortSignal.timeout(100));
    bed.server.setFailure('ops', undefined);
    const second = await bed.chat({ ops }, { dataDir: first.dataDir });
    await second.chat.idle();
    const accepted = bed.server.accepted('ops');
    expect(bed.server.rejected('ops')).toEqual([]);
    expect(busiestMinute(accepted)).toBeLessThanOrEqual(20);
    expect(accepted.length).toBeLessThan(40);
    for (let i = 0; i < 40; i++) {
      expect(
        accepted.filter((m) => m.text.includes(numbered(i))),
        numbered(i),
      ).toHaveLength(1);
    }
  });

  it("keeps a process's own document beside the outboxes, for the next process", async () => {
    const robots = { r: bed.server.wecom({ name: 'r' }) };
    const first = await bed.chat(robots);
    await first.chat.document('alert-notifications', 'notification log')?.save('{"entries":[]}');
    const next = await bed.chat(robots, { dataDir: first.dataDir });
    expect(next.chat.document('alert-notifications', 'notification log')?.load()).toBe('{"entries":[]}');
  });

  it('moves a corrupt outbox aside, says so loudly, counts it and starts empty', async () => {
    const ops = bed.server.dingtalk({ name: 'ops' });
    const first = await bed.chat({ ops });
    await first.chat.stop(AbortSignal.timeout(1_000));
    const file = join(first.dataDir, 'notify', 'ops.outbox');
    writeFileSync(file, Buffer.alloc(100, 7));
    const second = await bed.chat({ ops }, { dataDir: first.dataDir });
    expect(await second.metric('lookout_notify_outbox_corrupt_total', { robot: 'ops' })).toBe(1);
    const logged = second.records().find((r) => r.robot === 'ops' && r.level === 'error');
    expect(logged?.msg).toMatch(/^robot outbox is corrupt and was not read; it was moved aside/);
    expect(logged?.movedTo).toMatch(/ops\.outbox\.corrupt-/);
    expect(readdirSync(join(first.dataDir, 'notify')).filter((f) => f.includes('.corrupt-'))).toHaveLength(1);
    second.chat.send(['ops'], { title: 'after' });
    await second.chat.idle();
    expect(bed.server.accepted('ops')).toHaveLength(1);
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
