import { describe, expect, it } from 'vitest';
import { validate } from '../../core/config.ts';
import { parse, serialized } from './fixtures/parse.ts';
import { parsersSchema } from './parsers.ts';

describe('auto parser', () => {
  it('parses JSON objects with nested values and arrays, taking time and level out', () => {
    const event = parse(
      '{"time":"2024-01-02T03:04:05.678Z","level":"WARNING","msg":"slow","http":{"status":503,"tags":["a","b"]},"ok":false,"n":null}',
    );
    expect(event.time).toBe(Date.parse('2024-01-02T03:04:05.678Z'));
    expect(event.level).toBe('warn');
    expect(event.message).toMatch(/^\{"time"/);
    expect(serialized(event)).toEqual({
      msg: 'slow',
      http: { status: 503, tags: ['a', 'b'] },
      ok: false,
      n: null,
    });
    expect(event.parseError).toBeUndefined();
  });

  it('reads the time from ts, timestamp or @timestamp and levels from nested log.level', () => {
    expect(parse('{"ts":1704164645.5}').time).toBe(1_704_164_645_500);
    expect(parse('{"timestamp":"2024-01-02 03:04:05"}').time).toBe(Date.parse('2024-01-02T03:04:05Z'));
    const ecs = parse('{"@timestamp":"2024-01-02T03:04:05Z","log":{"level":"error","logger":"a.B"}}');
    expect(ecs.time).toBe(Date.parse('2024-01-02T03:04:05Z'));
    expect(ecs.level).toBe('error');
    expect(serialized(ecs)).toEqual({ log: { logger: 'a.B' } });
    expect(parse('{"log.level":"debug"}').level).toBe('debug');
  });

  it('keeps a time field it cannot read', () => {
    const event = parse('{"time":"yesterday","a":1}');
    expect(event.time).toBeUndefined();
    expect(serialized(event)).toEqual({ time: 'yesterday', a: 1 });
  });

  it('leaves lines that only look like JSON as plain text, without an error', () => {
    for (const line of ['{not json}', '{"a":1', '[1,2]', "{'python': 'dict'}"]) {
      const event = parse(line);
      expect(event.fields).toBeUndefined();
      expect(event.parseError).toBeUndefined();
    }
  });

  it('reads the leading time and level of plain lines', () => {
    const event = parse('2024-01-02 03:04:05.123 [main] ERROR com.example.App - failed', undefined, {
      timezone: 'Asia/Shanghai',
    });
    expect(event.time).toBe(Date.parse('2024-01-01T19:04:05.123Z'));
    expect(event.level).toBe('error');
    expect(event.fields).toBeUndefined();
  });

  it('can leave the time of plain lines alone', () => {
    expect(parse('2024-01-02 03:04:05 INFO x', undefined, { fromLine: false }).time).toBeUndefined();
  });
});

describe('json parser', () => {
  it('flags malformed JSON and non-objects, keeping the raw line', () => {
    for (const line of ['{"a":1', 'plain text', '[1,2]', '"string"']) {
      const event = parse(line, { type: 'json' });
      expect(event.message).toBe(line);
      expect(event.parseError).toBe('json: not a JSON object');
      expect(event.fields).toBeUndefined();
    }
  });

  it('puts fields under a target key and takes the message from messageKey', () => {
    const event = parse('{"msg":"order placed","user":{"id":7},"level":"info"}', {
      type: 'json',
      target: 'app',
      messageKey: ['message', 'msg'],
    });
    expect(event.message).toBe('order placed');
    expect(event.level).toBe('info');
    expect(serialized(event)).toEqual({ app: { user: { id: 7 } } });
  });

  it('nests under a dotted target and ignores a non-string message field', () => {
    const event = parse('{"message":{"text":"x"}}', {
      type: 'json',
      target: 'app.fields',
      messageKey: 'message',
    });
    expect(event.message).toBe('{"message":{"text":"x"}}');
    expect(serialized(event)).toEqual({ app: { fields: { message: { text: 'x' } } } });
  });

  it('parses pretty-printed JSON joined by multiline', () => {
    const event = parse('{\n  "level": "info",\n  "a": [1, 2]\n}', { type: 'json' });
    expect(event.level).toBe('info');
    expect(serialized(event)).toEqual({ a: [1, 2] });
  });
});

describe('JSON limits', () => {
  const nested = (depth: number) => `${'{"a":'.repeat(depth - 1)}{"b":[1]}${'}'.repeat(depth - 1)}`;
  const wide = (fields: number) =>
    `{${Array.from({ length: fields }, (_, i) => `"k${i}":"v:{[${i}"`).join(',')}}`;

  it('parses a line at the limits and flags one past them, keeping it as a plain message', () => {
    const limits = { type: 'auto', maxDepth: 4, maxFields: 5 };
    expect(parse(nested(3), limits).parseError).toBeUndefined();
    expect(parse(wide(5), limits).fields).toBeDefined();
    for (const [line, error] of [
      [nested(4), 'json: nested deeper than 4 levels'],
      [wide(6), 'json: more than 5 fields'],
    ] as const) {
      const event = parse(`${line.slice(0, -1)},"level":"error"}`, limits);
      expect(event.parseError).toBe(error);
      expect(event.fields).toBeUndefined();
      expect(event.message).toBe(`${line.slice(0, -1)},"level":"error"}`);
    }
  });

  it('counts neither brackets nor colons inside strings, escaped quotes included', () => {
    const line = JSON.stringify({ a: '{{{{[[[[::::\\"', b: 'x"{{{{' });
    expect(serialized(parse(line, { type: 'json', maxDepth: 1, maxFields: 2 }))).toEqual(JSON.parse(line));
  });

  it('needs no stack for a line nested 100,000 deep, and bounds logfmt fields', () => {
    const deep = `${'['.repeat(50_000)}${'{"a":'.repeat(50_000)}`;
    expect(parse(`{"x":${deep}}`, { type: 'json' }).parseError).toBe('json: nested deeper than 20 levels');
    const many = Array.from({ length: 1001 }, (_, i) => `k${i}=v`).join(' ');
    expect(parse(many, { type: 'logfmt' }).parseError).toBe('logfmt: more than 1000 fields');
    expect(parse(many, { type: 'logfmt', maxFields: 2000 }).parseError).toBeUndefined();
  });
});

describe('regex parser', () => {
  const nginx = {
    type: 'regex',
    pattern: String.raw`^(?<remote>\S+) \S+ \S+ \[(?<time>[^\]]+)\] "(?<method>\S+) (?<path>\S+) \S+" (?<status>\d{3}) (?<bytes>\d+)`,
  };

  it('turns named groups into fields and uses time, level and message groups', () => {
    const event = parse(
      '10.0.0.1 - - [02/Jan/2024:03:04:05 +0800] "GET /api/orders HTTP/1.1" 200 512',
      nginx,
    );
    expect(event.time).toBe(Date.parse('2024-01-01T19:04:05Z'));
    expect(serialized(event)).toEqual({
      remote: '10.0.0.1',
      method: 'GET',
      path: '/api/orders',
      status: '200',
      bytes: '512',
    });

    const app = parse('[E] 2024-01-02T03:04:05Z checkout: payment declined', {
      type: 'regex',
      pattern: String.raw`^\[(?<level>\w)\] (?<time>\S+) (?<component>\w+): (?<message>.*)$`,
    });
    expect(app.message).toBe('payment declined');
    expect(app.level).toBe('e');
    expect(serialized(app)).toEqual({ component: 'checkout' });
  });

  it('flags a line the pattern does not match, keeping the raw line and still detecting its level', () => {
    const event = parse('2024-01-02 03:04:05 ERROR something else entirely', nginx);
    expect(event.parseError).toBe('regex: no match');
    expect(event.message).toBe('2024-01-02 03:04:05 ERROR something else entirely');
    expect(event.level).toBe('error');
    expect(event.time).toBe(Date.parse('2024-01-02T03:04:05Z'));
  });

  it('omits groups that did not take part in the match', () => {
    const event = parse('a', { type: 'regex', pattern: '^(?<x>a)(?<y>b)?$' });
    expect(serialized(event)).toEqual({ x: 'a' });
  });
});

describe('logfmt parser', () => {
  it('reads fields, time, level and message', () => {
    const event = parse('ts=2024-01-02T03:04:05Z level=warn msg="disk \\"/\\" at 91%" used=91', {
      type: 'logfmt',
      messageKey: 'msg',
    });
    expect(event.time).toBe(Date.parse('2024-01-02T03:04:05Z'));
    expect(event.level).toBe('warn');
    expect(event.message).toBe('disk "/" at 91%');
    expect(serialized(event)).toEqual({ used: '91' });
  });

  it('flags text that is not logfmt', () => {
    expect(parse('hello world', { type: 'logfmt' }).parseError).toBe('logfmt: no key=value pairs');
  });
});

describe('parser lists', () => {
  it('tries parsers in order and reports the first failure when none fits', () => {
    const list = [{ type: 'json' }, { type: 'regex', pattern: '^(?<word>\\w+)$' }];
    expect(serialized(parse('{"a":1}', list))).toEqual({ a: 1 });
    expect(serialized(parse('hello', list))).toEqual({ word: 'hello' });
    expect(parse('two words', list).parseError).toBe('json: not a JSON object');
  });

  it('none keeps the line as it is', () => {
    const event = parse('{"a":1} WARN x', { type: 'none' });
    expect(event.fields).toBeUndefined();
    expect(event.level).toBe('warn');
  });

  it('validates parser configs', () => {
    expect(validate(parsersSchema, undefined)).toEqual({
      ok: true,
      value: [
        {
          type: 'auto',
          target: '',
          messageKey: [],
          timeKey: ['time', 'ts', 'timestamp', '@timestamp'],
          levelKey: ['level', 'lvl', 'severity', 'log.level'],
          maxDepth: 20,
          maxFields: 1000,
        },
      ],
    });
    const bad = validate(parsersSchema, [
      { type: 'json', target: 'kubernetes.extra' },
      { type: 'regex', pattern: '(' },
    ]);
    expect(bad.ok || bad.errors.map((e) => e.path)).toEqual(['[0].target', '[1].pattern']);
    expect(validate(parsersSchema, { type: 'xml' }).ok).toBe(false);
  });
});
