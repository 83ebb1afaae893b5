import { createHmac, randomUUID } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * A stand-in for the DingTalk custom robot and the WeCom group robot, for the
 * tests of notify/ and of every component that notifies. It answers the way
 * the real robots do (HTTP 200 with an errcode in the body) and rejects what
 * they reject: bad signatures and stale timestamps, missing keywords, more
 * than 20 messages a minute, oversize messages, malformed payloads and
 * unknown tokens. What it accepted is kept for assertions.
 */

export interface DingtalkRobotOptions {
  name: string;
  accessToken?: string;
  /** Signing ("加签") is on when set. */
  secret?: string;
  keyword?: string;
  perMinute?: number;
  /** The whole request body; DingTalk's is 20,000 bytes. */
  maxBodyBytes?: number;
  /** How long the robot stays throttled after going over its limit; DingTalk's can be ten minutes. */
  throttleMs?: number;
}

export interface WecomRobotOptions {
  name: string;
  key?: string;
  perMinute?: number;
  textBytes?: number;
  markdownBytes?: number;
  throttleMs?: number;
}

/** What a robot does to the next requests instead of its normal work. */
export type Failure = '500' | 'hang' | 'reset' | { errcode: number; errmsg?: string };

export interface Accepted {
  at: number;
  msgtype: string;
  body: Record<string, unknown>;
  /** Every text field of the message, joined by newlines. */
  text: string;
}

export interface Rejected {
  at: number;
  errcode: number;
  errmsg: string;
}

export interface RobotServer {
  url: string;
  /** Registers a DingTalk robot; returns the settings a notify robot needs to reach it. */
  dingtalk(options: DingtalkRobotOptions): {
    type: 'dingtalk';
    baseUrl: string;
    accessToken: string;
    secret?: string;
    keyword?: string;
  };
  wecom(options: WecomRobotOptions): { type: 'wecom'; baseUrl: string; key: string };
  accepted(name: string): Accepted[];
  rejected(name: string): Rejected[];
  /** Every request that named the robot's token or key, whatever came of it. */
  requests(name: string): number;
  /** Makes the next `times` requests fail; undefined restores normal work. */
  setFailure(name: string, failure: Failure | undefined, times?: number): void;
  close(): Promise<void>;
}

interface Robot {
  name: string;
  kind: 'dingtalk' | 'wecom';
  secret?: string;
  keyword?: string;
  perMinute: number;
  throttleMs: number;
  maxBodyBytes: number;
  textBytes: number;
  markdownBytes: number;
  sends: number[];
  throttledUntil: number;
  accepted: Accepted[];
  rejected: Rejected[];
  requests: number;
  failure?: { failure: Failure; remaining: number };
}

interface Reply {
  errcode: number;
  errmsg: string;
}

type Json = Record<string, unknown>;

const WINDOW_MS = 60_000;
const SIGNATURE_WINDOW_MS = 60 * 60 * 1000;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isStringList = (value: unknown) =>
  value === undefined || (Array.isArray(value) && value.every((v) => typeof v === 'string'));

function dingtalkParamError(msgtype: string, field: string, errcode = 400402): Reply {
  return { errcode, errmsg: `错误描述:参数 ${msgtype} --》 ${field} 缺失，或者参数格式不正确` };
}

/** Checks a DingTalk payload's shape; returns its text fields, or the errcode DingTalk would answer. */
function dingtalkShape(body: Json): string[] | Reply {
  const { msgtype } = body;
  const at = body.at;
  if (at !== undefined) {
    const ok =
      isObject(at) &&
      isStringList(at.atMobiles) &&
      isStringList(at.atUserIds) &&
      (at.isAtAll === undefined || typeof at.isAtAll === 'boolean');
    if (!ok) return dingtalkParamError(String(msgtype), 'at');
  }
  if (msgtype === 'text') {
    const text = body.text;
    if (!isObject(text) || !isText(text.content)) return dingtalkParamError('text', 'content', 400403);
    return [text.content];
  }
  if (msgtype === 'markdown') {
    const md = body.markdown;
    if (!isObject(md) || !isText(md.title)) return dingtalkParamError('markdown', 'title');
    if (!isText(md.text)) return dingtalkParamError('markdown', 'text', 400403);
    return [md.title, md.text];
  }
  if (msgtype === 'actionCard') {
    const card = body.actionCard;
    if (!isObject(card) || !isText(card.title)) return dingtalkParamError('actionCard', 'title');
    if (!isText(card.text)) return dingtalkParamError('actionCard', 'text', 400403);
    if (isText(card.singleTitle) && isText(card.singleURL)) return [card.title, card.text, card.singleTitle];
    const buttons = card.btns;
    const valid =
      Array.isArray(buttons) &&
      buttons.length > 0 &&
      buttons.every((b) => isObject(b) && isText(b.title) && isText(b.actionURL));
    if (!valid) return dingtalkParamError('actionCard', 'singleURL');
    return [card.title, card.text, ...buttons.map((b) => String((b as Json).title))];
  }
  return { errcode: 400105, errmsg: '不支持的消息类型' };
}

/** Checks a WeCom payload's shape and size; returns its text, or the errcode WeCom would answer. */
function wecomShape(body: Json, robot: Robot): string | Reply {
  const { msgtype } = body;
  if (msgtype !== 'text' && msgtype !== 'markdown') return { errcode: 40008, errmsg: 'invalid message type' };
  const message = body[msgtype];
  if (!isObject(message) || !isText(message.content)) return { errcode: 44004, errmsg: 'empty content' };
  if (
    msgtype === 'text' &&
    !(isStringList(message.mentioned_list) && isStringList(message.mentioned_mobile_list))
  ) {
    return { errcode: 40058, errmsg: 'invalid Request Parameter' };
  }
  const limit = msgtype === 'text' ? robot.textBytes : robot.markdownBytes;
  if (Buffer.byteLength(message.content) > limit) {
    return {
      errcode: 40058,
      errmsg: `${msgtype}.content exceed max length ${limit}. invalid Request Parameter`,
    };
  }
  return message.content;
}

function checkSignature(robot: Robot, query: URLSearchParams, now: number): Reply | undefined {
  if (!robot.secret) return undefined;
  const timestamp = query.get('timestamp') ?? '';
  if (!/^\d+$/.test(timestamp) || Math.abs(now - Number(timestamp)) > SIGNATURE_WINDOW_MS) {
    return { errcode: 310000, errmsg: 'invalid timestamp' };
  }
  const expected = createHmac('sha256', robot.secret)
    .update(`${timestamp}\n${robot.secret}`)
    .digest('base64');
  // URLSearchParams turns an unencoded "+" into a space, as DingTalk does: the sign must be URL-encoded.
  if (query.get('sign') !== expected) return { errcode: 310000, errmsg: 'sign not match' };
  return undefined;
}

function parseBody(raw: string): Json | undefined {
  try {
    const body: unknown = JSON.parse(raw);
    return isObject(body) ? body : undefined;
  } catch {
    return undefined;
  }
}

/** The per-minute limit, counting accepted messages in the sliding minute before `at`. */
function overLimit(robot: Robot, at: number, errcode: number, errmsg: string): Reply | undefined {
  robot.sends = robot.sends.filter((t) => t > at - WINDOW_MS);
  if (at < robot.throttledUntil) return { errcode, errmsg };
  if (robot.sends.length < robot.perMinute) return undefined;
  robot.throttledUntil = at + robot.throttleMs;
  return { errcode, errmsg };
}

function accept(robot: Robot, at: number, body: Json, text: string): Reply {
  robot.sends.push(at);
  robot.accepted.push({ at, msgtype: String(body.msgtype), body, text });
  return { errcode: 0, errmsg: 'ok' };
}

/** The DingTalk robot's checks, in its order: signature, size, JSON, shape, keyword, rate. */
function dingtalkSend(robot: Robot, at: number, query: URLSearchParams, raw: string): Reply {
  const signature = checkSignature(robot, query, at);
  if (signature) return signature;
  if (Buffer.byteLength(raw) > robot.maxBodyBytes) {
    return { errcode: 460101, errmsg: `message too long, exceed ${robot.maxBodyBytes} bytes` };
  }
  const body = parseBody(raw);
  if (!body) return { errcode: 40035, errmsg: '缺少参数 json' };
  const fields = dingtalkShape(body);
  if (!Array.isArray(fields)) return fields;
  const text = fields.join('\n');
  if (robot.keyword && !text.includes(robot.keyword))
    return { errcode: 310000, errmsg: 'keywords not in content' };
  const limited = overLimit(robot, at, 130101, `send too fast, exceed ${robot.perMinute} times per minute`);
  return limited ?? accept(robot, at, body, text);
}

/** The WeCom robot's checks: JSON, shape and size, rate. */
function wecomSend(robot: Robot, at: number, _query: URLSearchParams, raw: string): Reply {
  const body = parseBody(raw);
  if (!body) return { errcode: 47001, errmsg: 'data format error' };
  const text = wecomShape(body, robot);
  if (typeof text !== 'string') return text;
  return overLimit(robot, at, 45009, 'api freq out of limit') ?? accept(robot, at, body, text);
}

export async function startRobotServer(options: { clock?: { now(): number } } = {}): Promise<RobotServer> {
  const now = () => options.clock?.now() ?? Date.now();
  const byName = new Map<string, Robot>();
  const byCredential = new Map<string, Robot>();
  const app = Fastify({ logger: false, forceCloseConnections: true, bodyLimit: 4 * 1024 * 1024 });

  // The robots read the body themselves: they measure its bytes and answer bad JSON with an errcode.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  const robotFor = (kind: Robot['kind'], credential: string | null) => {
    const robot = credential === null ? undefined : byCredential.get(`${kind}:${credential}`);
    if (robot) robot.requests++;
    return robot;
  };

  /** Applies an injected failure; true when it took over the request. */
  const fail = async (
    robot: Robot,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<Reply | boolean> => {
    const injected = robot.failure;
    if (!injected) return false;
    if (--injected.remaining <= 0) robot.failure = undefined;
    const { failure } = injected;
    if (failure === '500') {
      await reply.code(500).send('internal error');
      return true;
    }
    if (failure === 'reset') {
      reply.hijack();
      request.raw.socket.destroy();
      return true;
    }
    if (failure === 'hang') {
      reply.hijack();
      return true;
    }
    return { errcode: failure.errcode, errmsg: failure.errmsg ?? `injected errcode ${failure.errcode}` };
  };

  /** What both robots do first: find the robot by its credential, apply an injected failure, record rejections. */
  const route = (
    path: string,
    kind: Robot['kind'],
    credential: string,
    unknown: Reply,
    work: (robot: Robot, at: number, query: URLSearchParams, raw: string) => Reply,
  ) =>
    app.post(path, async (request, reply) => {
      const at = now();
      const query = new URLSearchParams(request.url.split('?')[1] ?? '');
      const robot = robotFor(kind, query.get(credential));
      if (!robot) return unknown;
      const failed = await fail(robot, request, reply);
      if (failed === true) return reply;
      const result = failed || work(robot, at, query, typeof request.body === 'string' ? request.body : '');
      if (result.errcode !== 0) robot.rejected.push({ at, ...result });
      return result;
    });

  route(
    '/robot/send',
    'dingtalk',
    'access_token',
    { errcode: 300001, errmsg: 'token is not exist' },
    dingtalkSend,
  );
  route(
    '/cgi-bin/webhook/send',
    'wecom',
    'key',
    { errcode: 93000, errmsg: 'invalid webhook url' },
    wecomSend,
  );

  const address = await app.listen({ host: '127.0.0.1', port: 0 });

  const register = (robot: Robot, credential: string) => {
    if (byName.has(robot.name)) throw new Error(`robot ${robot.name} is already registered`);
    byName.set(robot.name, robot);
    byCredential.set(`${robot.kind}:${credential}`, robot);
  };
  const blank = (name: string, kind: Robot['kind']): Robot => ({
    name,
    kind,
    perMinute: 20,
    throttleMs: 0,
    maxBodyBytes: 20_000,
    textBytes: 2048,
    markdownBytes: 4096,
    sends: [],
    throttledUntil: 0,
    accepted: [],
    rejected: [],
    requests: 0,
  });
  const get = (name: string) => {
    const robot = byName.get(name);
    if (!robot) throw new Error(`no robot ${name}`);
    return robot;
  };

  return {
    url: address,
    dingtalk(o) {
      const accessToken = o.accessToken ?? randomUUID().replaceAll('-', '');
      register(
        {
          ...blank(o.name, 'dingtalk'),
          secret: o.secret,
          keyword: o.keyword,
          perMinute: o.perMinute ?? 20,
          throttleMs: o.throttleMs ?? 10 * WINDOW_MS,
          maxBodyBytes: o.maxBodyBytes ?? 20_000,
        },
        accessToken,
      );
      return {
        type: 'dingtalk',
        baseUrl: address,
        accessToken,
        ...(o.secret && { secret: o.secret }),
        ...(o.keyword && { keyword: o.keyword }),
      };
    },
    wecom(o) {
      const key = o.key ?? randomUUID();
      register(
        {
          ...blank(o.name, 'wecom'),
          perMinute: o.perMinute ?? 20,
          throttleMs: o.throttleMs ?? 0,
          textBytes: o.textBytes ?? 2048,
          markdownBytes: o.markdownBytes ?? 4096,
        },
        key,
      );
      return { type: 'wecom', baseUrl: address, key };
    },
    accepted: (name) => get(name).accepted,
    rejected: (name) => get(name).rejected,
    requests: (name) => get(name).requests,
    setFailure(name, failure, times = Number.POSITIVE_INFINITY) {
      const robot = get(name);
      robot.failure = failure === undefined ? undefined : { failure, remaining: times };
    },
    close: () => app.close(),
  };
}
