import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, logProcessWarnings, scrubSecrets, scrubUrls } from './log.ts';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, log: createLogger({ level: 'info', destination }) };
}

describe('log', () => {
  it("logs Node's warnings as JSON lines", async () => {
    const saved = process.listeners('warning');
    const { lines, log } = capture();
    try {
      logProcessWarnings(log);
      process.emitWarning('-3 is a negative number.', 'TimeoutNegativeWarning');
      process.emitWarning('something odd');
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.removeAllListeners('warning');
      for (const listener of saved) process.on('warning', listener);
    }
    const logged = lines.map((line) => JSON.parse(line));
    expect(logged.map((l) => [l.level, l.warning, l.msg])).toEqual([
      ['warn', 'TimeoutNegativeWarning', '-3 is a negative number.'],
      ['warn', 'Warning', 'something odd'],
    ]);
  });

  it('writes JSON lines with a level label and time', () => {
    const { lines, log } = capture();
    log.info({ component: 'sidecar' }, 'started');
    const record = JSON.parse(lines[0]!);
    expect(record).toMatchObject({ level: 'info', component: 'sidecar', msg: 'started' });
    expect(typeof record.time).toBe('string');
  });

  it('redacts secrets by key at any depth', () => {
    const { lines, log } = capture();
    log.info(
      {
        robot: { name: 'oncall', secret: 'SEC123', accessToken: 'abc' },
        sink: { auth: { password: 'p4ss', apiKey: 'k3y' } },
        token: 't0k',
      },
      'config',
    );
    const text = lines.join('');
    for (const secret of ['SEC123', 'abc', 'p4ss', 'k3y', 't0k']) expect(text).not.toContain(`"${secret}"`);
    expect(JSON.parse(text).robot.name).toBe('oncall');
  });

  it('removes webhook query strings from fields, messages and errors', () => {
    const { lines, log } = capture();
    const url = 'https://oapi.dingtalk.com/robot/send?access_token=deadbeef&timestamp=1&sign=xyz';
    log.error({ url, err: new Error(`connect ECONNREFUSED ${url}`) }, `send to ${url} failed`);
    const text = lines.join('');
    expect(text).not.toContain('deadbeef');
    expect(text).not.toContain('xyz');
    expect(text).toContain('https://oapi.dingtalk.com/robot/send?redacted');
  });

  it('scrubs several URLs in one text and leaves plain text alone', () => {
    expect(scrubUrls('a http://h/x?key=1 and https://w/y?key=2 end')).toBe(
      'a http://h/x?redacted and https://w/y?redacted end',
    );
    expect(scrubUrls('no urls here ?key=1')).toBe('no urls here ?key=1');
  });

  it('redacts secrets in free text: values after their names, credentials and URL queries', () => {
    expect(scrubSecrets('login failed password=hunter2 user=bob')).toBe(
      'login failed password=[redacted] user=bob',
    );
    expect(scrubSecrets('{"api_key": "abc123", "n": 1}')).toBe('{"api_key": "[redacted]", "n": 1}');
    expect(scrubSecrets('Authorization: Bearer eyJhbGciOi.x.y sent')).toBe('Authorization: [redacted] sent');
    expect(scrubSecrets('calling with bearer abcdefgh12345678')).toBe('calling with bearer [redacted]');
    expect(scrubSecrets('GET https://h/cb?access_token=s3cr3t 200')).toBe('GET https://h/cb?redacted 200');
    expect(scrubSecrets('OutOfMemoryError: Java heap space')).toBe('OutOfMemoryError: Java heap space');
  });
});
