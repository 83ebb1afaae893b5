import { describe, expect, it } from 'vitest';
import { robotsConfig } from '../test/robots/harness.ts';
import { Composer } from './compose.ts';
import type { RobotConfig } from './config.ts';
import { DingtalkApi } from './dingtalk.ts';
import { WecomApi } from './wecom.ts';

function composer(settings: Record<string, unknown>): Composer {
  const { r } = robotsConfig({ r: settings }) as { r: RobotConfig };
  return new Composer(r, r.type === 'dingtalk' ? new DingtalkApi(r) : new WecomApi(r));
}

const wecom = { type: 'wecom', key: 'k', template: { title: '{{title}}', text: '{{text}}' } };

describe('Composer', () => {
  it('keeps a message that fits as it is', () => {
    const { entries, fitted } = composer(wecom).compose({ title: 't', text: '短信息', key: 'k1' }, 5);
    expect(fitted).toBe(false);
    expect(entries).toEqual([
      {
        outgoing: { title: 't', text: '短信息', mentions: { mobiles: [], userIds: [], all: false } },
        key: 'k1',
        enqueuedAt: 5,
        shrunk: false,
      },
    ]);
  });

  it("sends text already written for the robot's format instead of its templates, fitted like any", () => {
    const formatted = {
      'wecom-markdown': { title: 'wecom title', text: `**wecom** ${'字'.repeat(2_000)}` },
      markdown: { title: 'dingtalk title', text: '### dingtalk' },
    };
    const n = { title: 'plain', text: 'plain text', formatted };
    const { entries } = composer({ type: 'wecom', key: 'k' }).compose(n, 0);
    expect(entries[0]!.outgoing.title).toBe('wecom title');
    expect(entries[0]!.outgoing.text).toMatch(/^\*\*wecom\*\* 字+/);
    expect(Buffer.byteLength(entries[0]!.outgoing.text)).toBeLessThanOrEqual(4096);
    const text = composer({ type: 'wecom', key: 'k', msgtype: 'text' }).compose(n, 0);
    expect(text.entries[0]!.outgoing.text).toContain('plain text');
  });

  it('clips a long title to 256 bytes on a character boundary', () => {
    const { entries } = composer(wecom).compose({ title: '标'.repeat(200) }, 0);
    const title = entries[0]!.outgoing.title;
    expect(Buffer.byteLength(title)).toBeLessThanOrEqual(256);
    expect(title).toMatch(/^标+…$/);
  });

  it('truncates instead of splitting when mentions leave no room for parts', () => {
    // 448 markdown mentions "<@u0000>" take 4,032 of the 4,096 bytes.
    const userIds = Array.from({ length: 448 }, (_, i) => `u${String(i).padStart(4, '0')}`);
    const c = composer({ ...wecom, split: true, mentions: { userIds } });
    const { entries } = c.compose({ title: 't', text: 'x'.repeat(5_000) }, 0);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.outgoing.text).toMatch(/truncated/);
  });

  it('merges as many titles into a digest as fit, leaving the rest for the next one', () => {
    const c = composer(wecom);
    const entries = Array.from(
      { length: 300 },
      (_, i) => c.compose({ title: `告警标题 ${i} ${'x'.repeat(20)}` }, 0).entries[0]!,
    );
    const { outgoing, count } = c.digest(entries, false);
    expect(count).toBeGreaterThan(50);
    expect(count).toBeLessThan(300);
    expect(Buffer.byteLength(outgoing.text)).toBeLessThanOrEqual(4096);
    expect(outgoing.text.startsWith(`${count} more alerts:\n\n- 告警标题 0 `)).toBe(true);
    expect(outgoing.text.split('\n- ')).toHaveLength(count + 1);
    expect(c.digest(entries, true).count).toBeLessThanOrEqual(Math.ceil(count / 2));
  });

  it('mentions in a digest the people of the messages it covers', () => {
    const c = composer({ ...wecom, msgtype: 'text' });
    const a = c.compose({ title: 'a', mentions: { userIds: ['u1'] } }, 0).entries[0]!;
    const b = c.compose({ title: 'b', mentions: { mobiles: ['138'], all: true } }, 0).entries[0]!;
    expect(c.digest([a, b], false).outgoing.mentions).toEqual({
      mobiles: ['138'],
      userIds: ['u1'],
      all: true,
    });
  });

  it('halves a message the robot found too long', () => {
    const c = composer({ type: 'dingtalk', accessToken: 't' });
    const [entry] = c.compose({ title: 't', text: 'y'.repeat(4_000) }, 0).entries;
    const shrunk = c.shrink(entry!);
    expect(shrunk.shrunk).toBe(true);
    expect(Buffer.byteLength(shrunk.outgoing.text)).toBeLessThanOrEqual(
      Buffer.byteLength(entry!.outgoing.text) / 2,
    );
  });
});
