import type { DingtalkConfig } from './config.ts';
import { STRINGS } from './locale.ts';
import type { Outgoing } from './message.ts';
import { type Errcodes, interpretReply, joinUrl, type Outcome, type RobotApi } from './robot-api.ts';
import { dingtalkSignQuery } from './sign.ts';

/** DingTalk limits the whole request body. */
export const DINGTALK_BODY_LIMIT = 20_000;

const CODES: Errcodes = {
  // 130101: "send too fast" (20 per minute); 410100: the newer code for the same throttle.
  rateLimited: new Set([130101, 410100]),
  tooLong: new Set([460101]),
  // -1: "system busy".
  retryable: new Set([-1]),
};

/** The DingTalk custom robot ("自定义机器人"). */
export class DingtalkApi implements RobotApi {
  readonly encoding = 'json';
  readonly limit = DINGTALK_BODY_LIMIT;
  private readonly config: DingtalkConfig;

  constructor(config: DingtalkConfig) {
    this.config = config;
  }

  url(now: number): string {
    const { baseUrl, accessToken, secret } = this.config;
    const url = `${joinUrl(baseUrl, '/robot/send')}?access_token=${encodeURIComponent(accessToken)}`;
    return secret ? `${url}&${dingtalkSignQuery(secret, now)}` : url;
  }

  payload(message: Outgoing): object {
    const { keyword, msgtype, locale } = this.config;
    const { mobiles, userIds, all } = message.mentions;
    let text = message.text;
    if (keyword && !text.includes(keyword)) text = `${text}\n\n${keyword}`;
    if (msgtype === 'actionCard' && message.url) {
      // An action card cannot mention anyone; its button carries the link.
      return {
        msgtype,
        actionCard: {
          title: message.title,
          text,
          singleTitle: STRINGS[locale].details,
          singleURL: message.url,
        },
      };
    }
    // A mention only highlights when "@mobile" (or "@userId") is also in the text.
    const handles = [...mobiles, ...userIds].map((id) => `@${id}`).join(' ');
    if (handles) text = `${text}\n\n${handles}`;
    const at = handles || all ? { at: { atMobiles: mobiles, atUserIds: userIds, isAtAll: all } } : undefined;
    if (msgtype === 'text') return { msgtype: 'text', text: { content: text }, ...at };
    return { msgtype: 'markdown', markdown: { title: message.title, text }, ...at };
  }

  size(payload: object): number {
    return Buffer.byteLength(JSON.stringify(payload));
  }

  interpret(status: number, body: unknown): Outcome {
    return interpretReply(status, body, CODES);
  }
}
