import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfig } from '../core/config.ts';
import { robotsSchema, unknownRobots } from './config.ts';

const schema = z.strictObject({ robots: robotsSchema });

function errorsOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  const result = parseConfig(schema, text, env);
  if (result.ok) throw new Error('expected errors');
  return result.errors.map((e) => `${e.path}: ${e.message}`);
}

describe('robots config', () => {
  it('applies defaults and reads secrets from the environment', () => {
    const result = parseConfig(
      schema,
      `robots:
  ops:
    type: dingtalk
    accessToken: \${DING_TOKEN}
    secret: \${DING_SECRET}
    keyword: 告警
  dev:
    type: wecom
    key: \${WECOM_KEY}
    msgtype: text
    mentions: { mobiles: ["13800000000"], severities: [critical] }
    queue: { maxAge: 2m }
`,
      { DING_TOKEN: 'tok', DING_SECRET: 'SECxyz', WECOM_KEY: 'k-1' },
    );
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const { ops, dev } = result.value.robots;
    expect(ops).toMatchObject({
      type: 'dingtalk',
      baseUrl: 'https://oapi.dingtalk.com',
      accessToken: 'tok',
      secret: 'SECxyz',
      keyword: '告警',
      msgtype: 'markdown',
      perMinute: 20,
      timeout: 10_000,
      locale: 'en',
      split: false,
      queue: { maxMessages: 1000, maxAge: 60_000 },
      retry: { minDelay: 1_000, maxDelay: 60_000, pause: 60_000, maxPause: 600_000 },
    });
    expect(dev).toMatchObject({
      type: 'wecom',
      baseUrl: 'https://qyapi.weixin.qq.com',
      key: 'k-1',
      msgtype: 'text',
      mentions: { mobiles: ['13800000000'], userIds: [], all: false, severities: ['critical'] },
      queue: { maxAge: 120_000 },
    });
  });

  it('is empty when absent', () => {
    expect(parseConfig(schema, '{}')).toEqual({ ok: true, value: { robots: {} } });
  });

  it('reports every problem with its path, without echoing secrets', () => {
    expect(
      errorsOf(`robots:
  ops:
    type: dingtalk
    accessToken: 12345
    msgtype: link
    timeout: soon
    colour: red
    template: { text: "{{#if severity}}open" }
    timeZone: Mars/Base
  dev:
    type: feishu
`),
    ).toEqual([
      'robots.ops.accessToken: expected string, got a redacted value',
      'robots.ops.msgtype: expected one of "text", "markdown", "actionCard", got "link"',
      'robots.ops.timeout: expected a duration like "30s" or "5m", got "soon"',
      'robots.ops.timeZone: expected an IANA time zone like "Asia/Shanghai", got "Mars/Base"',
      `robots.ops.template.text: template does not compile: Parse error on line 1: "{{#if severity}}open" got 'EOF'`,
      'robots.ops.colour: unknown key',
      'robots.dev.type: expected type "dingtalk" or "wecom"',
    ]);
  });

  it('rejects mentions a WeCom markdown message cannot carry, and odd robot names', () => {
    expect(
      errorsOf(`robots:
  dev:
    type: wecom
    key: k
    mentions: { mobiles: ["13800000000"], all: true }
  "two words":
    type: wecom
    key: k2
    msgtype: text
`),
    ).toEqual([
      'robots.dev.mentions.mobiles: WeCom markdown messages cannot mention by mobile; use userIds or msgtype text',
      'robots.dev.mentions.all: WeCom markdown messages cannot mention everyone; use msgtype text',
      'robots.two words: a robot name is letters, digits, "_", "." and "-", starting with a letter or digit',
    ]);
  });

  it('lists route references to robots that do not exist', () => {
    const result = parseConfig(schema, 'robots:\n  ops: { type: wecom, key: k }\n');
    if (!result.ok) throw new Error('invalid');
    expect(unknownRobots(result.value.robots, ['ops', 'oncall', 'oncall'])).toEqual(['oncall']);
  });
});
