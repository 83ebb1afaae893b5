import { describe, expect, it } from 'vitest';
import { robotsConfig } from '../test/robots/harness.ts';
import type { DingtalkConfig } from './config.ts';
import { DingtalkApi } from './dingtalk.ts';
import { NO_MENTIONS } from './message.ts';
import { roomForText } from './robot-api.ts';
import { dingtalkSignQuery } from './sign.ts';

function api(settings: Record<string, unknown> = {}): DingtalkApi {
  const { ops } = robotsConfig({ ops: { type: 'dingtalk', accessToken: 'tok+/=', ...settings } });
  return new DingtalkApi(ops as DingtalkConfig);
}

const mentions = { mobiles: ['13800000000'], userIds: ['u1'], all: false };

describe('DingTalk robot API', () => {
  it('addresses the robot by token, signing each request when a secret is set', () => {
    expect(api().url(1)).toBe('https://oapi.dingtalk.com/robot/send?access_token=tok%2B%2F%3D');
    expect(api({ baseUrl: 'http://127.0.0.1:9/gw/', secret: 'SECs' }).url(1_700_000_000_000)).toBe(
      `http://127.0.0.1:9/gw/robot/send?access_token=tok%2B%2F%3D&${dingtalkSignQuery('SECs', 1_700_000_000_000)}`,
    );
  });

  it('builds text payloads with @mentions in the content and the at block', () => {
    expect(api({ msgtype: 'text' }).payload({ title: 't', text: 'disk "full"\n磁盘', mentions })).toEqual({
      msgtype: 'text',
      text: { content: 'disk "full"\n磁盘\n\n@13800000000 @u1' },
      at: { atMobiles: ['13800000000'], atUserIds: ['u1'], isAtAll: false },
    });
  });

  it('builds markdown payloads and adds the keyword only when it is missing', () => {
    const robot = api({ keyword: '告警' });
    expect(robot.payload({ title: 'T', text: 'body', mentions: NO_MENTIONS })).toEqual({
      msgtype: 'markdown',
      markdown: { title: 'T', text: 'body\n\n告警' },
    });
    expect(
      robot.payload({ title: 'T', text: '告警: body', mentions: { ...NO_MENTIONS, all: true } }),
    ).toEqual({
      msgtype: 'markdown',
      markdown: { title: 'T', text: '告警: body' },
      at: { atMobiles: [], atUserIds: [], isAtAll: true },
    });
  });

  it('builds an action card when there is a link, and markdown when there is none', () => {
    const robot = api({ msgtype: 'actionCard', locale: 'zh' });
    expect(robot.payload({ title: 'T', text: 'x', mentions, url: 'https://c/1' })).toEqual({
      msgtype: 'actionCard',
      actionCard: { title: 'T', text: 'x', singleTitle: '查看详情', singleURL: 'https://c/1' },
    });
    expect(robot.payload({ title: 'T', text: 'x', mentions: NO_MENTIONS })).toMatchObject({
      msgtype: 'markdown',
    });
  });

  it('counts the whole JSON body against the 20,000 byte limit', () => {
    const robot = api({ keyword: 'kw' });
    const message = { title: '标题 "q"', text: '', mentions };
    const room = roomForText(robot, message);
    // Each '"' takes two bytes in the body.
    const text = '"'.repeat(Math.floor(room / 2)) + 'a'.repeat(room % 2);
    expect(Buffer.byteLength(JSON.stringify(robot.payload({ ...message, text })))).toBe(20_000);
  });

  it.each([
    [200, { errcode: 0, errmsg: 'ok' }, 'ok', '0'],
    [200, { errcode: 130101, errmsg: 'send too fast' }, 'rate-limited', '130101'],
    [200, { errcode: 410100, errmsg: '发送速度太快而限流' }, 'rate-limited', '410100'],
    [200, { errcode: 460101, errmsg: 'message too long' }, 'too-long', '460101'],
    [200, { errcode: 310000, errmsg: 'sign not match' }, 'rejected', '310000'],
    [200, { errcode: 300001, errmsg: 'token is not exist' }, 'rejected', '300001'],
    [200, { errcode: 400102, errmsg: '机器人已停用' }, 'rejected', '400102'],
    [200, { errcode: -1, errmsg: '系统繁忙' }, 'retryable', '-1'],
    [200, undefined, 'retryable', 'invalid_response'],
    [502, undefined, 'retryable', 'http_502'],
    [429, undefined, 'rate-limited', 'http_429'],
    [404, undefined, 'rejected', 'http_404'],
  ])('reads HTTP %i %j as %s', (status, body, kind, code) => {
    expect(api().interpret(status, body)).toMatchObject({ kind, code });
  });
});
