import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RobotServer, startRobotServer } from '../test/robots/robot-server.ts';
import { VirtualClock } from '../test/robots/virtual-clock.ts';

// The robot server's own tests: it must reject what the real robots reject,
// or the tests that rely on it prove nothing.

const T0 = 1_700_000_000_000;
let clock: VirtualClock;
let server: RobotServer;

beforeEach(async () => {
  clock = new VirtualClock(T0);
  server = await startRobotServer({ clock });
});

afterEach(() => server.close());

async function post(path: string, query: string, body: unknown): Promise<{ status: number; reply: unknown }> {
  const response = await fetch(`${server.url}${path}?${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    reply: response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
  };
}

const ding = (token: string, body: unknown, extra = '') =>
  post('/robot/send', `access_token=${token}${extra}`, body).then((r) => r.reply);
const wecom = (key: string, body: unknown) =>
  post('/cgi-bin/webhook/send', `key=${key}`, body).then((r) => r.reply);
const text = (content: string) => ({ msgtype: 'text', text: { content } });
const markdown = (content: string) => ({ msgtype: 'markdown', markdown: { content } });
const sign = (secret: string, timestamp: number | string) =>
  createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
const signed = (secret: string, timestamp: number) =>
  `&timestamp=${timestamp}&sign=${encodeURIComponent(sign(secret, timestamp))}`;
const OK = { errcode: 0, errmsg: 'ok' };

describe('robot server: DingTalk', () => {
  it('accepts the documented message types and records them', async () => {
    server.dingtalk({ name: 'ops', accessToken: 't1' });
    const messages = [
      { ...text('hello "world" 😀'), at: { atMobiles: ['138'], atUserIds: [], isAtAll: false } },
      { msgtype: 'markdown', markdown: { title: '标题', text: '### 正文' } },
      {
        msgtype: 'actionCard',
        actionCard: { title: 'T', text: 'x', singleTitle: 'Go', singleURL: 'https://c' },
      },
      {
        msgtype: 'actionCard',
        actionCard: { title: 'T', text: 'x', btns: [{ title: 'A', actionURL: 'https://a' }] },
      },
    ];
    for (const message of messages) expect(await ding('t1', message)).toEqual(OK);
    expect(server.accepted('ops').map((m) => [m.msgtype, m.text])).toEqual([
      ['text', 'hello "world" 😀'],
      ['markdown', '标题\n### 正文'],
      ['actionCard', 'T\nx\nGo'],
      ['actionCard', 'T\nx\nA'],
    ]);
  });

  it('rejects an unknown or missing token with 300001', async () => {
    server.dingtalk({ name: 'ops', accessToken: 't1' });
    expect(await ding('nope', text('x'))).toEqual({ errcode: 300001, errmsg: 'token is not exist' });
    expect((await post('/robot/send', '', text('x'))).reply).toMatchObject({ errcode: 300001 });
    expect(server.requests('ops')).toBe(0);
  });

  it('verifies the signature against the known vector', async () => {
    const secret = 'SEC4ef2e3f3b9a04c5e9d7c7f1d2b8a6e0c3f5d9b1a7e2c4f6a8b0d2e4f6a8c0e2';
    server.dingtalk({ name: 'ops', accessToken: 't1', secret });
    const vector = '&timestamp=1700000000000&sign=cN2uYo%2BTpX7COg3rtLd4nYQvPGGmVbiq0r%2BLUNv0Pv0%3D';
    expect(await ding('t1', text('x'), vector)).toEqual(OK);
  });

  it('rejects a wrong, missing or unencoded signature and a timestamp outside the hour with 310000', async () => {
    const secret = 'SECtop';
    server.dingtalk({ name: 'ops', accessToken: 't1', secret });
    const rejects = async (query: string, errmsg: string) =>
      expect(await ding('t1', text('x'), query)).toEqual({ errcode: 310000, errmsg });
    await rejects('', 'invalid timestamp');
    await rejects(signed('SECother', T0), 'sign not match');
    await rejects(`&timestamp=${T0}`, 'sign not match');
    await rejects(signed(secret, T0 - 3_600_001), 'invalid timestamp');
    await rejects(signed(secret, T0 + 3_600_001), 'invalid timestamp');
    // A "+" left unencoded arrives as a space.
    let timestamp = T0;
    while (!sign(secret, timestamp).includes('+')) timestamp++;
    await rejects(`&timestamp=${timestamp}&sign=${sign(secret, timestamp)}`, 'sign not match');
    expect(await ding('t1', text('x'), signed(secret, T0 - 3_500_000))).toEqual(OK);
    expect(server.accepted('ops')).toHaveLength(1);
  });

  it('rejects a message without the keyword with 310000', async () => {
    server.dingtalk({ name: 'ops', accessToken: 't1', keyword: '告警' });
    expect(await ding('t1', text('disk full'))).toEqual({
      errcode: 310000,
      errmsg: 'keywords not in content',
    });
    expect(await ding('t1', text('告警: disk full'))).toEqual(OK);
    expect(await ding('t1', { msgtype: 'markdown', markdown: { title: '告警', text: 'x' } })).toEqual(OK);
  });

  it('rejects malformed payloads with the documented errcodes', async () => {
    server.dingtalk({ name: 'ops', accessToken: 't1' });
    const errcode = async (body: unknown) => ((await ding('t1', body)) as { errcode: number }).errcode;
    expect(await errcode('{"msgtype": "text", ')).toBe(40035);
    expect(await errcode({ msgtype: 'image' })).toBe(400105);
    expect(await errcode({ text: { content: 'x' } })).toBe(400105);
    expect(await errcode({ msgtype: 'text', text: {} })).toBe(400403);
    expect(await errcode({ msgtype: 'text', text: { content: '' } })).toBe(400403);
    expect(await errcode({ msgtype: 'markdown', markdown: { text: 'x' } })).toBe(400402);
    expect(await errcode({ msgtype: 'markdown', markdown: { title: 'x' } })).toBe(400403);
    expect(await errcode({ msgtype: 'actionCard', actionCard: { title: 'T', text: 'x' } })).toBe(400402);
    expect(await errcode({ ...text('x'), at: { atMobiles: '138' } })).toBe(400402);
    expect(server.accepted('ops')).toEqual([]);
  });

  it('rejects a body over 20,000 bytes with 460101, counting bytes, not characters', async () => {
    server.dingtalk({ name: 'ops', accessToken: 't1' });
    const envelope = Buffer.byteLength(JSON.stringify(text('')));
    const fill = (bytes: number) => '中'.repeat(Math.floor(bytes / 3)) + 'a'.repeat(bytes % 3);
    expect(await ding('t1', text(fill(20_000 - envelope)))).toEqual(OK);
    expect(await ding('t1', text(fill(20_001 - envelope)))).toEqual({
      errcode: 460101,
      errmsg: 'message too long, exceed 20000 bytes',
    });
  });

  it('allows 20 messages a minute, then answers 130101 and stays throttled', async () => {
    server.dingtalk({ name: 'ops', accessToken: 't1' });
    for (let i = 0; i < 20; i++) expect(await ding('t1', text(`m${i}`))).toEqual(OK);
    expect(await ding('t1', text('m20'))).toMatchObject({ errcode: 130101 });
    clock.advance(60_000);
    // Over the limit once, the robot stays throttled for ten minutes.
    expect(await ding('t1', text('m21'))).toMatchObject({ errcode: 130101 });
    clock.advance(9 * 60_000);
    expect(await ding('t1', text('m22'))).toEqual(OK);
    expect(server.accepted('ops')).toHaveLength(21);
    expect(server.rejected('ops').map((r) => r.errcode)).toEqual([130101, 130101]);
  });

  it('counts the limit over a sliding minute', async () => {
    server.dingtalk({ name: 'ops', accessToken: 't1', perMinute: 2 });
    expect(await ding('t1', text('a'))).toEqual(OK);
    clock.advance(59_000);
    expect(await ding('t1', text('b'))).toEqual(OK);
    clock.advance(1_000);
    expect(await ding('t1', text('c'))).toEqual(OK);
    expect(await ding('t1', text('d'))).toMatchObject({ errcode: 130101 });
  });

  it('injects failures for a number of requests', async () => {
    server.dingtalk({ name: 'ops', accessToken: 't1' });
    server.setFailure('ops', '500', 1);
    expect(await post('/robot/send', 'access_token=t1', text('x'))).toEqual({
      status: 500,
      reply: 'internal error',
    });
    server.setFailure('ops', { errcode: -1, errmsg: '系统繁忙' }, 1);
    expect(await ding('t1', text('x'))).toEqual({ errcode: -1, errmsg: '系统繁忙' });
    server.setFailure('ops', 'reset', 1);
    await expect(ding('t1', text('x'))).rejects.toThrow();
    expect(await ding('t1', text('x'))).toEqual(OK);
    expect(server.requests('ops')).toBe(4);
  });
});

describe('robot server: WeCom', () => {
  it('accepts text and markdown and records them', async () => {
    server.wecom({ name: 'dev', key: 'k1' });
    const withMentions = {
      msgtype: 'text',
      text: { content: '内存', mentioned_list: ['@all'], mentioned_mobile_list: [] },
    };
    expect(await wecom('k1', withMentions)).toEqual(OK);
    expect(await wecom('k1', markdown('<font color="warning">**x**</font> <@zhangsan>'))).toEqual(OK);
    expect(server.accepted('dev').map((m) => m.text)).toEqual([
      '内存',
      '<font color="warning">**x**</font> <@zhangsan>',
    ]);
  });

  it('rejects an unknown key with 93000', async () => {
    server.wecom({ name: 'dev', key: 'k1' });
    expect(await wecom('k2', text('x'))).toEqual({ errcode: 93000, errmsg: 'invalid webhook url' });
  });

  it('rejects malformed payloads with the documented errcodes', async () => {
    server.wecom({ name: 'dev', key: 'k1' });
    const errcode = async (body: unknown) => ((await wecom('k1', body)) as { errcode: number }).errcode;
    expect(await errcode('not json')).toBe(47001);
    expect(await errcode({ msgtype: 'link', link: {} })).toBe(40008);
    expect(await errcode({ msgtype: 'TEXT', text: { content: 'x' } })).toBe(40008);
    expect(await errcode({ msgtype: 'text', text: { content: '' } })).toBe(44004);
    expect(await errcode({ msgtype: 'markdown' })).toBe(44004);
    expect(await errcode({ msgtype: 'text', text: { content: 'x', mentioned_list: 'zhangsan' } })).toBe(
      40058,
    );
  });

  it('limits text content to 2,048 bytes and markdown to 4,096 with 40058', async () => {
    server.wecom({ name: 'dev', key: 'k1' });
    const fill = (bytes: number) => '好'.repeat(Math.floor(bytes / 3)) + 'a'.repeat(bytes % 3);
    expect(await wecom('k1', text(fill(2048)))).toEqual(OK);
    expect(await wecom('k1', text(fill(2049)))).toEqual({
      errcode: 40058,
      errmsg: 'text.content exceed max length 2048. invalid Request Parameter',
    });
    expect(await wecom('k1', markdown(fill(4096)))).toEqual(OK);
    expect(await wecom('k1', markdown(fill(4097)))).toMatchObject({ errcode: 40058 });
  });

  it('allows 20 messages a minute, then answers 45009 until the minute has passed', async () => {
    server.wecom({ name: 'dev', key: 'k1' });
    for (let i = 0; i < 20; i++) expect(await wecom('k1', text(`m${i}`))).toEqual(OK);
    expect(await wecom('k1', text('m20'))).toEqual({ errcode: 45009, errmsg: 'api freq out of limit' });
    clock.advance(60_000);
    expect(await wecom('k1', text('m21'))).toEqual(OK);
  });
});
