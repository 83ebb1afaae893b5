import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigInvalidError, loadConfig, parseConfig } from './config.ts';
import { byteSize, duration, hostPort, regex } from './config-types.ts';
import { httpTargetSchema } from './http-target.ts';

const schema = z.strictObject({
  name: z.string(),
  port: z.number().int().default(8080),
  enabled: z.boolean().default(true),
  flush: duration().default(5_000),
  maxLine: byteSize().default(1024 * 1024),
  pattern: regex().optional(),
  sinks: z
    .strictObject({
      kafka: z
        .strictObject({ brokers: z.array(hostPort()).min(1), password: z.string().min(8).optional() })
        .optional(),
    })
    .prefault({}),
  mode: z.enum(['sidecar', 'node']).default('sidecar'),
});

const errorsOf = (text: string, env: NodeJS.ProcessEnv = {}) => {
  const result = parseConfig(schema, text, env);
  if (result.ok) throw new Error('expected errors');
  return result.errors.map((e) => `${e.path}: ${e.message}`);
};

describe('config', () => {
  it('accepts a valid file and applies defaults and units', () => {
    const result = parseConfig(
      schema,
      'name: app\nflush: 250ms\nmaxLine: 2MiB\nsinks:\n  kafka:\n    brokers: ["127.0.0.1:9092", "kafka-0.kafka:9093"]\n',
    );
    expect(result).toEqual({
      ok: true,
      value: {
        name: 'app',
        port: 8080,
        enabled: true,
        flush: 250,
        maxLine: 2 * 1024 * 1024,
        sinks: { kafka: { brokers: ['127.0.0.1:9092', 'kafka-0.kafka:9093'] } },
        mode: 'sidecar',
      },
    });
  });

  it('interpolates ${VAR} and ${VAR:-default}, typing whole-value references', () => {
    const result = parseConfig(
      schema,
      'name: "${APP}-${SUFFIX:-blue}"\nport: ${PORT}\nenabled: ${ON:-false}\npattern: "^x$$"\n',
      { APP: 'shop', PORT: '9000' },
    );
    expect(result.ok && result.value).toMatchObject({
      name: 'shop-blue',
      port: 9000,
      enabled: false,
      pattern: '^x$',
    });
  });

  it('never lets an environment value change the YAML structure', () => {
    const result = parseConfig(schema, 'name: ${EVIL}\n', { EVIL: 'x\nport: 1' });
    expect(result.ok && result.value).toMatchObject({ name: 'x\nport: 1', port: 8080 });
  });

  it('reports every error at once, each with its path', () => {
    const errors = errorsOf(
      [
        'name: 5',
        'port: high',
        'flush: soon',
        'maxLine: 3 parsecs',
        'pattern: "([a-z"',
        'mode: daemon',
        'sinks:',
        '  kafka:',
        '    brokers: ["kafka", "ok:1"]',
        '    colour: red',
        'extra: true',
      ].join('\n'),
    );
    expect(errors).toEqual(
      expect.arrayContaining([
        'name: expected string, got 5',
        'port: expected number, got "high"',
        'flush: expected a duration like "30s" or "5m", got "soon"',
        'maxLine: expected a size like "512KiB" or "64MiB", got "3 parsecs"',
        'pattern: expected a valid regular expression, got "([a-z"',
        'mode: expected one of "sidecar", "node", got "daemon"',
        'sinks.kafka.brokers[0]: expected host:port, got "kafka"',
        'sinks.kafka.colour: unknown key',
        'extra: unknown key',
      ]),
    );
    expect(errors).toHaveLength(9);
  });

  it('reports missing required values and empty lists', () => {
    expect(errorsOf('sinks:\n  kafka:\n    brokers: []\n')).toEqual([
      'name: expected string, got nothing',
      'sinks.kafka.brokers: expected at least 1 items, got a list',
    ]);
  });

  it('names a variable that is not set, once', () => {
    expect(errorsOf('name: ${MISSING}\n')).toEqual([
      'name: environment variable MISSING is not set and has no default',
    ]);
  });

  it('reports YAML syntax errors with a line', () => {
    const errors = errorsOf('name: app\nsinks: [unclosed\n');
    expect(errors[0]).toMatch(/^line \d+: /);
  });

  it('rejects duplicate keys', () => {
    expect(errorsOf('name: a\nname: b\n')[0]).toMatch(/^line 2: .*unique/i);
  });

  it('refuses a YAML alias bomb with a clear error instead of expanding it', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (const [i, name] of ['b', 'c', 'd', 'e', 'f', 'g'].entries()) {
      const previous = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(', ')}]`);
    }
    expect(errorsOf(`${levels.join('\n')}\n`)).toEqual([
      expect.stringMatching(/^\(yaml\): Excessive alias count .*at most 100 values/),
    ]);
  });

  it('names a value inside one of several shapes by its full path', () => {
    const union = z.strictObject({
      es: z.strictObject({
        auth: z.union([
          z.strictObject({ username: z.string(), password: z.string() }),
          z.strictObject({ apiKey: z.string() }),
        ]),
      }),
    });
    const result = parseConfig(union, 'es:\n  auth: { username: elastic }\n');
    expect(result.ok ? [] : result.errors).toEqual([
      { path: 'es.auth.password', message: 'expected string, got nothing' },
    ]);
  });

  it('reports an invalid URL as an error, not a crash, where more checks follow it', () => {
    const result = parseConfig(z.strictObject({ prometheus: httpTargetSchema }), 'prometheus: { url: "" }\n');
    expect(result.ok ? [] : result.errors).toEqual([
      { path: 'prometheus.url', message: 'expected an http(s) URL, got ""' },
    ]);
  });

  it('never echoes a secret in an error', () => {
    const errors = errorsOf('name: a\nsinks:\n  kafka:\n    brokers: ["k:1"]\n    password: hunter2\n');
    expect(errors).toEqual(['sinks.kafka.password: expected at least 8 characters, got a redacted value']);
    expect(errors.join()).not.toContain('hunter2');
  });

  it('loads a file and throws ConfigInvalidError listing all errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lookout-config-'));
    await writeFile(join(dir, 'ok.yaml'), 'name: app\n');
    await writeFile(join(dir, 'bad.yaml'), 'name: app\nport: x\nflush: y\n');
    await expect(loadConfig(schema, join(dir, 'ok.yaml'), {})).resolves.toMatchObject({ name: 'app' });
    const err = await loadConfig(schema, join(dir, 'bad.yaml'), {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigInvalidError);
    expect((err as ConfigInvalidError).errors.map((e) => e.path)).toEqual(['port', 'flush']);
    const missing = await loadConfig(schema, join(dir, 'nope.yaml'), {}).catch((e: unknown) => e);
    expect((missing as ConfigInvalidError).errors[0]?.path).toBe('(file)');
  });
});
