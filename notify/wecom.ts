import type { WecomConfig } from './config.ts';
import type { Outgoing } from './message.ts';
import { type Errcodes, interpretReply, joinUrl, type Outcome, type RobotApi } from './robot-api.ts';

/** WeCom limits the content field, not the body. */
export const WECOM_CONTENT_LIMITS = { text: 2048, markdown: 4096 } as const;

const CODES: Errcodes = {
  // 45009: "api freq out of limit" (20 per minute); 45033: too many concurrent calls.
  rateLimited: new Set([45009, 45033]),
  tooLong: new Set([40058]),
  retryable: new Set([-1]),
};

/** The WeCom group robot ("群机器人"). */
export class WecomApi implements RobotApi {
  readonly encoding = 'utf8';
  readonly limit: number;
  private readonly config: WecomConfig;

  constructor(config: WecomConfig) {
    this.config = config;
    this.limit = WECOM_CONTENT_LIMITS[config.msgtype];
  }

  url(): string {
    const { baseUrl, key } = this.config;
    return `${joinUrl(baseUrl, '/cgi-bin/webhook/send')}?key=${encodeURIComponent(key)}`;
  }

  payload(message: Outgoing): object {
    const { mobiles, userIds, all } = message.mentions;
    if (this.config.msgtype === 'text') {
      const users = all ? [...userIds, '@all'] : userIds;
      return {
        msgtype: 'text',
        text: {
          content: message.text,
          ...(users.length > 0 && { mentioned_list: users }),
          ...(mobiles.length > 0 && { mentioned_mobile_list: mobiles }),
        },
      };
    }
    // Markdown mentions are written into the content; it has no mobile or @all form.
    const tags = userIds.map((id) => `<@${id}>`).join(' ');
    return { msgtype: 'markdown', markdown: { content: tags ? `${message.text}\n${tags}` : message.text } };
  }

  size(payload: object): number {
    const { text, markdown } = payload as { text?: { content: string }; markdown?: { content: string } };
    return Buffer.byteLength((text ?? markdown)?.content ?? '');
  }

  interpret(status: number, body: unknown): Outcome {
    return interpretReply(status, body, CODES);
  }
}
