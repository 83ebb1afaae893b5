import { describe, expect, it } from 'vitest';
import { robotsConfig } from '../test/robots/harness.ts';
import type { WecomConfig } from './config.ts';
import { NO_MENTIONS } from './message.ts';
import { roomForText } from './robot-api.ts';
import { WecomApi } from './wecom.ts';

function api(settings: Record<string, unknown> = {}): WecomApi {
  const { dev } = robotsConfig({ dev: { type: 'wecom', key: 'k-1', ...settings } });
  return new WecomApi(dev as WecomConfig);
}

describe('WeCom robot API', () => {
  it('addresses the robot by key', () => {
    expect(api().url()).toBe('https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1');
  });

  it('builds text payloads with mention lists', () => {
    const mentions = { mobiles: ['13800000000'], userIds: ['zhangsan'], all: true };
    expect(api({ msgtype: 'text' }).payload({ title: 't', text: '内存 "high"', mentions })).toEqual({
      msgtype: 'text',
      text: {
        content: '内存 "high"',
        mentioned_list: ['zhangsan', '@all'],
        mentioned_mobile_list: ['13800000000'],
      },
    });
    expect(api({ msgtype: 'text' }).payload({ title: 't', text: 'x', mentions: NO_MENTIONS })).toEqual({
      msgtype: 'text',
      text: { content: 'x' },
    });
  });

  it('writes markdown mentions into the content', () => {
    const mentions = { mobiles: [], userIds: ['zhangsan', 'lisi'], all: false };
    expect(api().payload({ title: 't', text: '**x**', mentions })).toEqual({
      msgtype: 'markdown',
      markdown: { content: '**x**\n<@zhangsan> <@lisi>' },
    });
  });

  it('limits the content: 2,048 bytes for text, 4,096 for markdown', () => {
    const mentions = { mobiles: [], userIds: ['zhangsan'], all: false };
    const markdown = api();
    expect(roomForText(markdown, { title: 't', text: '', mentions })).toBe(4096 - '\n<@zhangsan>'.length);
    expect(roomForText(api({ msgtype: 'text' }), { title: 't', text: '', mentions })).toBe(2048);
  });

  it.each([
    [200, { errcode: 0, errmsg: 'ok' }, 'ok', '0'],
    [200, { errcode: 45009, errmsg: 'api freq out of limit' }, 'rate-limited', '45009'],
    [200, { errcode: 40058, errmsg: 'markdown.content exceed max length 4096' }, 'too-long', '40058'],
    [200, { errcode: 93000, errmsg: 'invalid webhook url' }, 'rejected', '93000'],
    [200, { errcode: 40008, errmsg: 'invalid message type' }, 'rejected', '40008'],
    [200, { errcode: -1, errmsg: 'system busy' }, 'retryable', '-1'],
    [503, { errcode: -1 }, 'retryable', 'http_503'],
  ])('reads HTTP %i %j as %s', (status, body, kind, code) => {
    expect(api().interpret(status, body)).toMatchObject({ kind, code });
  });
});
