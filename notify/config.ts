import { z } from 'zod';
import { duration, httpUrl } from '../core/config-types.ts';
import { LOCALES } from './locale.ts';
import { SEVERITIES } from './message.ts';
import { templateError } from './template.ts';

/** A template in the robots' syntax, checked to compile when the configuration is read. */
export const templateSource = () =>
  z.string().superRefine((source, ctx) => {
    const error = templateError(source);
    if (error) ctx.addIssue({ code: 'custom', message: `template does not compile: ${error}` });
  });

export const timeZone = () =>
  z.string().refine(
    (zone) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: zone });
        return true;
      } catch {
        return false;
      }
    },
    {
      error: (issue) => `expected an IANA time zone like "Asia/Shanghai", got ${JSON.stringify(issue.input)}`,
    },
  );

const mentionsSchema = z.strictObject({
  mobiles: z.array(z.string().min(1)).default([]),
  userIds: z.array(z.string().min(1)).default([]),
  all: z.boolean().default(false),
  /** Mention only on messages of these severities; unset means on every message. */
  severities: z.array(z.enum(SEVERITIES)).optional(),
});

/** Settings every robot has, whatever its kind. */
const common = {
  /** The robots allow 20 messages per minute; a private gateway may allow another number. */
  perMinute: z.number().int().min(1).default(20),
  /** How long one HTTP request may take before it counts as failed and is retried. */
  timeout: duration().default(10_000),
  locale: z.enum(LOCALES).default('en'),
  timeZone: timeZone().default('UTC'),
  template: z
    .strictObject({ title: templateSource().optional(), text: templateSource().optional() })
    .prefault({}),
  mentions: mentionsSchema.prefault({}),
  /** Too long for one message: send numbered parts instead of truncating. */
  split: z.boolean().default(false),
  maxParts: z.number().int().min(2).max(20).default(5),
  queue: z
    .strictObject({
      /** Messages waiting in the outbox; beyond this, the oldest are merged into one digest (counted). */
      maxMessages: z.number().int().min(2).default(1000),
      /** A message that waited this long is merged with the others waiting into one digest. */
      maxAge: duration().default(60_000),
      /** `always`: each outbox write is fsynced before it returns; or a duration between fsyncs. */
      fsync: z.union([z.literal('always'), duration()]).default('always'),
    })
    .prefault({}),
  retry: z
    .strictObject({
      /** Backoff for network errors, timeouts and 5xx: doubles from minDelay up to maxDelay, jittered. */
      minDelay: duration().default(1_000),
      maxDelay: duration().default(60_000),
      /** Pause after the robot says "too fast"; doubles while it keeps saying so, up to maxPause. */
      pause: duration().default(60_000),
      maxPause: duration().default(600_000),
    })
    .prefault({}),
};

const dingtalkSchema = z.strictObject({
  type: z.literal('dingtalk'),
  baseUrl: httpUrl().default('https://oapi.dingtalk.com'),
  accessToken: z.string().min(1),
  /** The "SEC…" secret of a robot with signing enabled. */
  secret: z.string().min(1).optional(),
  /** The robot's custom keyword; added to any message that lacks it. */
  keyword: z.string().min(1).optional(),
  msgtype: z.enum(['text', 'markdown', 'actionCard']).default('markdown'),
  ...common,
});

const wecomSchema = z
  .strictObject({
    type: z.literal('wecom'),
    baseUrl: httpUrl().default('https://qyapi.weixin.qq.com'),
    key: z.string().min(1),
    msgtype: z.enum(['text', 'markdown']).default('markdown'),
    ...common,
  })
  .superRefine((robot, ctx) => {
    // WeCom markdown can only mention by user id (<@userid>); a mobile or @all would be silently ignored.
    if (robot.msgtype !== 'markdown') return;
    if (robot.mentions.mobiles.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['mentions', 'mobiles'],
        message: 'WeCom markdown messages cannot mention by mobile; use userIds or msgtype text',
      });
    }
    if (robot.mentions.all) {
      ctx.addIssue({
        code: 'custom',
        path: ['mentions', 'all'],
        message: 'WeCom markdown messages cannot mention everyone; use msgtype text',
      });
    }
  });

export const robotSchema = z.discriminatedUnion('type', [dingtalkSchema, wecomSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? 'expected type "dingtalk" or "wecom"' : undefined),
});

const ROBOT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * The `robots` section: robot name → robot. Names appear in routes, logs and
 * metric labels; tokens, keys and secrets never do.
 */
export const robotsSchema = z
  .record(z.string(), robotSchema)
  .superRefine((robots, ctx) => {
    for (const name of Object.keys(robots)) {
      if (ROBOT_NAME.test(name)) continue;
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: 'a robot name is letters, digits, "_", "." and "-", starting with a letter or digit',
      });
    }
  })
  .default({});

export type RobotConfig = z.output<typeof robotSchema>;
export type DingtalkConfig = z.output<typeof dingtalkSchema>;
export type WecomConfig = z.output<typeof wecomSchema>;
export type RobotsConfig = z.output<typeof robotsSchema>;

/** Names a route refers to that are not configured robots; for the root schema's cross-checks. */
export function unknownRobots(robots: RobotsConfig, names: Iterable<string>): string[] {
  return [...new Set(names)].filter((name) => !Object.hasOwn(robots, name));
}
