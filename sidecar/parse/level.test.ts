import { describe, expect, it } from 'vitest';
import { detectLevel, normalizeLevel } from './level.ts';

describe('normalizeLevel', () => {
  it.each([
    ['WARNING', 'warn'],
    ['Warning', 'warn'],
    ['err', 'error'],
    ['SEVERE', 'error'],
    ['CRITICAL', 'fatal'],
    ['dpanic', 'fatal'],
    ['notice', 'info'],
    ['TRACE', 'trace'],
    [' Debug ', 'debug'],
    // pino's numbers; unknown names stay, in lower case
    [30, 'info'],
    [50, 'error'],
    [7, '7'],
    ['AUDIT', 'audit'],
    ['', undefined],
    [{ level: 'x' }, undefined],
  ])('%j → %s', (value, level) => {
    expect(normalizeLevel(value)).toBe(level);
  });
});

describe('detectLevel', () => {
  it.each([
    ['2024-01-02 03:04:05.123 [http-nio-8080-exec-1] WARN  com.example.Api - slow', 'warn'],
    ['2024-01-02 03:04:05,123 - root - ERROR - boom', 'error'],
    ['INFO:root:started', 'info'],
    ['2024/01/02 03:04:05 [error] 12#0: *1 open() failed', 'error'],
    ['E0102 03:04:05.123456       1 controller.go:114] sync failed', 'error'],
    ['W0102 03:04:05.123456       1 reflector.go:1] watch closed', 'warn'],
    ['I0102 03:04:05.123456       1 main.go:1] ready', 'info'],
    ['F0102 03:04:05.123456       1 main.go:1] dead', 'fatal'],
    ['time="2024-01-02T03:04:05Z" level=warning msg="disk almost full"', 'warn'],
    ['WARN[0000] deprecated flag', 'warn'],
    ['[2024-01-02T03:04:05Z DEBUG app::db] query', 'debug'],
    ['2024-01-02T03:04:05.123Z\tinfo\tserver started', 'info'],
    ['Error: ENOENT: no such file or directory', 'error'],
    ['<fatal> out of memory', 'fatal'],
    ['I, [2024-01-02T03:04:05.123 #1]  INFO -- : Started GET', 'info'],
  ])('%s → %s', (line, level) => {
    expect(detectLevel(line)).toBe(level);
  });

  it('does not take ordinary words for levels', () => {
    expect(detectLevel('Error connecting to database, retrying')).toBeUndefined();
    expect(detectLevel('debug mode enabled')).toBeUndefined();
    expect(detectLevel('Information about the order follows')).toBeUndefined();
    expect(detectLevel('E11023 is not a klog header')).toBeUndefined();
    expect(detectLevel('one two three four five six seven eight nine ERROR')).toBeUndefined();
    expect(detectLevel('')).toBeUndefined();
  });
});
