import { describe, expect, it } from 'vitest';
import { parseFileLogsAnnotation } from './annotation.ts';

const parse = (value: string, maxEntries = 16) => parseFileLogsAnnotation(value, maxEntries);

describe('the file-logs annotation', () => {
  it('reads entries separated by commas or newlines, trimmed, with empty ones and repeats ignored', () => {
    expect(parse('app-logs:/logs/*.log')).toEqual({
      ok: true,
      value: [{ volume: 'app-logs', pattern: '/logs/*.log' }],
    });
    expect(parse(' app-logs : /logs/info.log ,\n\tapp-logs:/logs/error.log\ntmp:debug/**/*.log,\n')).toEqual({
      ok: true,
      value: [
        { volume: 'app-logs', pattern: '/logs/info.log' },
        { volume: 'app-logs', pattern: '/logs/error.log' },
        { volume: 'tmp', pattern: 'debug/**/*.log' },
      ],
    });
    expect(parse('a:x.log,a:x.log\na:x.log')).toEqual({
      ok: true,
      value: [{ volume: 'a', pattern: 'x.log' }],
    });
  });

  it('keeps a comma inside braces in its pattern', () => {
    expect(parse('logs:/logs/{info,error}.log, logs:/logs/gc.log')).toEqual({
      ok: true,
      value: [
        { volume: 'logs', pattern: '/logs/{info,error}.log' },
        { volume: 'logs', pattern: '/logs/gc.log' },
      ],
    });
  });

  it.each([
    ['', 'it names no file logs'],
    [' ,\n', 'it names no file logs'],
    ['/logs/*.log', 'entry "/logs/*.log" is not <volume>:<pattern>'],
    [':/logs/*.log', 'entry ":/logs/*.log" has no valid volume name'],
    ['App_Logs:/logs/*.log', 'entry "App_Logs:/logs/*.log" has no valid volume name'],
    [`${'v'.repeat(64)}:x.log`, `entry "${'v'.repeat(64)}:x.log" has no valid volume name`],
    ['logs:', 'entry "logs:" has no pattern after the volume'],
    ['logs:/logs/../etc/passwd', 'entry "logs:/logs/../etc/passwd" has a . or .. path segment'],
    ['logs:./app.log', 'entry "logs:./app.log" has a . or .. path segment'],
    ['logs:/logs//app.log', 'entry "logs:/logs//app.log" has an empty path segment (// or a trailing /)'],
    ['logs:/logs/', 'entry "logs:/logs/" has an empty path segment (// or a trailing /)'],
    ['logs:/', 'entry "logs:/" has an empty path segment (// or a trailing /)'],
    ['logs:/logs/a\\*.log', 'entry "logs:/logs/a\\*.log" has a backslash or NUL in its pattern'],
    ['logs:/logs/{a,b.log', 'its braces are unbalanced'],
    ['logs:/logs/a}.log', 'its braces are unbalanced'],
    ['logs:/logs/{a\n,b}.log', 'its braces are unbalanced'],
  ])('refuses %j: %s', (value, reason) => {
    expect(parse(value)).toEqual({ ok: false, reason });
  });

  it('refuses the whole annotation for one bad entry, and more entries than allowed', () => {
    expect(parse('logs:/logs/a.log, logs:../b.log')).toMatchObject({ ok: false });
    expect(parse('a:1.log,a:2.log,a:3.log', 2)).toEqual({
      ok: false,
      reason: 'it has 3 entries, more than the 2 allowed',
    });
  });
});
