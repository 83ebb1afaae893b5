import { describe, expect, it } from 'vitest';
import { validate } from '../../core/config.ts';
import type { LogEvent } from '../types.ts';
import { compileMultiline, MultilineJoiner, multilineSchema } from './multiline.ts';

const READ_AT = 1_700_000_000_000;

/** Events for consecutive lines of one file, as the container stage hands them over. */
function events(lines: string[], stream?: string, start = 0): LogEvent[] {
  let offset = start;
  return lines.map((message) => {
    const end = offset + Buffer.byteLength(message) + 1;
    const event: LogEvent = {
      message,
      offset,
      end,
      truncated: false,
      readAt: READ_AT,
      receivedAt: READ_AT,
      stream,
    };
    offset = end;
    return event;
  });
}

function joiner(config: Record<string, unknown>) {
  return new MultilineJoiner(compileMultiline(multilineSchema.parse(config)));
}

/** Pushes every line, then forces out what is held. */
function join(config: Record<string, unknown>, lines: string[]): LogEvent[] {
  const j = joiner(config);
  const out = events(lines).flatMap((e) => j.push(e));
  return [...out, ...j.flush(0, true)];
}

const TRACE = [
  '2024-01-02 03:04:05.123 ERROR [main] c.e.shop.OrderService - order 42 failed',
  'java.lang.IllegalStateException: boom',
  '\tat com.example.shop.OrderService.place(OrderService.java:87)',
  '\tat java.base/java.lang.Thread.run(Thread.java:1583)',
  'Caused by: java.sql.SQLTransientConnectionException: pool exhausted',
  '\tat com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:696)',
  '\t... 12 more',
  '\tSuppressed: java.io.IOException: close failed',
  '\t\tat com.example.shop.Db.close(Db.java:10)',
  '\t\t... 3 common frames omitted',
  'Caused by: org.postgresql.util.PSQLException: Connection refused',
  '  at org.postgresql.Driver.connect(Driver.java:1)',
  '  ... 20 more',
];

describe('java preset', () => {
  it('keeps a stack trace with nested causes in the event of the line that logged it', () => {
    const out = join({ preset: 'java' }, [
      ...TRACE,
      '2024-01-02 03:04:06.000 INFO  [main] c.e.shop.App - next',
    ]);
    expect(out).toHaveLength(2);
    expect(out[0]!.message).toBe(TRACE.join('\n'));
    expect(out[0]!.offset).toBe(0);
    expect(out[1]!.message).toMatch(/next$/);
    expect(out[0]!.end).toBe(out[1]!.offset);
  });

  it('takes Kotlin and inner-class exceptions and messages without text, but not ordinary lines', () => {
    const out = join({ preset: 'java' }, [
      'ERROR request failed',
      'kotlin.KotlinNullPointerException',
      '\tat com.example.Api$Handler.handle(Api.kt:12)',
      'com.example.Api$BadRequestError: missing id',
      'INFO started',
      'com.example.Config loaded',
      'Exception in thread "main" java.lang.RuntimeException: x',
      '\tat Main.main(Main.java:1)',
    ]);
    expect(out.map((e) => e.message.split('\n').length)).toEqual([4, 1, 1, 2]);
  });

  it('lets an exception printed on its own start its event', () => {
    const out = join({ preset: 'java' }, ['java.lang.Error: alone', '\tat A.b(A.java:1)']);
    expect(out).toHaveLength(1);
    expect(out[0]!.message).toBe('java.lang.Error: alone\n\tat A.b(A.java:1)');
  });
});

describe('start and continuation patterns', () => {
  const DATE = '^\\d{4}-\\d{2}-\\d{2}';

  it('start: a matching line begins an event, every other line continues it', () => {
    const out = join({ start: DATE }, [
      'preamble without date',
      '2024-01-02 first',
      '  detail',
      'more detail',
      '2024-01-02 second',
    ]);
    expect(out.map((e) => e.message)).toEqual([
      'preamble without date',
      '2024-01-02 first\n  detail\nmore detail',
      '2024-01-02 second',
    ]);
  });

  it('continuation: a matching line continues, every other line begins an event', () => {
    const out = join({ continuation: '^\\s' }, ['a', ' a1', '\ta2', 'b', 'c', ' c1']);
    expect(out.map((e) => e.message)).toEqual(['a\n a1\n\ta2', 'b', 'c\n c1']);
  });

  it('both: start always begins, continuation continues, anything else stands alone', () => {
    const out = join({ start: DATE, continuation: '^\\s' }, [
      '2024-01-02 a',
      ' a1',
      'stray',
      ' stray1',
      '2024-01-02 b',
    ]);
    expect(out.map((e) => e.message)).toEqual(['2024-01-02 a\n a1', 'stray\n stray1', '2024-01-02 b']);
  });

  it('adds the java preset to a continuation pattern', () => {
    const out = join({ preset: 'java', continuation: '^>>' }, ['x', '>> more', '\tat A.b(A.java:1)', 'y']);
    expect(out.map((e) => e.message)).toEqual(['x\n>> more\n\tat A.b(A.java:1)', 'y']);
  });
});

describe('Filebeat-style pattern, negate and match', () => {
  const lines = ['[2024] a', 'a1', 'a2', '[2024] b', 'b1'];

  it('negate + after: lines not matching join the previous match', () => {
    const out = join({ pattern: '^\\[', negate: true, match: 'after' }, lines);
    expect(out.map((e) => e.message)).toEqual(['[2024] a\na1\na2', '[2024] b\nb1']);
  });

  it('after: matching lines join the previous line', () => {
    const out = join({ pattern: '^\\s' }, ['a', ' 1', 'b']);
    expect(out.map((e) => e.message)).toEqual(['a\n 1', 'b']);
  });

  it('before: matching lines join the next line (shell-style continuations)', () => {
    const j = joiner({ pattern: '\\\\$', match: 'before' });
    const input = events(['one \\', 'two \\', 'three', 'four']);
    expect(j.push(input[0]!)).toEqual([]);
    expect(j.pendingOffset()).toBe(0);
    expect(j.push(input[1]!)).toEqual([]);
    expect(j.push(input[2]!)).toMatchObject([
      { message: 'one \\\ntwo \\\nthree', offset: 0, end: input[2]!.end },
    ]);
    expect(j.pendingOffset()).toBeUndefined();
    expect(j.push(input[3]!)).toMatchObject([{ message: 'four' }]);
  });

  it('negate + before: lines not matching join the next matching line', () => {
    const out = join({ pattern: ';$', negate: true, match: 'before' }, [
      'SELECT *',
      'FROM t',
      'WHERE x;',
      'COMMIT;',
    ]);
    expect(out.map((e) => e.message)).toEqual(['SELECT *\nFROM t\nWHERE x;', 'COMMIT;']);
  });
});

describe('limits, timeout and pending offset', () => {
  it('drops lines past maxLines and flags the event, which still ends at its last line', () => {
    const input = events(['head', ' 1', ' 2', ' 3', ' 4', 'next']);
    const j = joiner({ continuation: '^\\s', maxLines: 3 });
    const out = input.flatMap((e) => j.push(e));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ message: 'head\n 1\n 2', truncated: true, offset: 0, end: input[4]!.end });
  });

  it('cuts at maxBytes on a character boundary', () => {
    const out = join({ continuation: '^\\s', maxBytes: 12 }, ['日志', ' 错误', ' more']);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ message: '日志\n 错', truncated: true });
    expect(Buffer.byteLength(out[0]!.message)).toBeLessThanOrEqual(12);
  });

  it('cuts a single line longer than maxBytes', () => {
    const out = join({ continuation: '^\\s', maxBytes: 5 }, ['abcdefgh']);
    expect(out[0]).toMatchObject({ message: 'abcde', truncated: true });
  });

  it('flushes an event after it has been idle for the timeout', () => {
    const j = joiner({ preset: 'java', timeout: '2s' });
    const [first, second] = events(['ERROR x', '\tat A.b(A.java:1)']);
    j.push(first!);
    j.push({ ...second!, receivedAt: READ_AT + 1000 });
    expect(j.flush(READ_AT + 2999)).toEqual([]);
    expect(j.pendingOffset()).toBe(0);
    expect(j.flush(READ_AT + 3000)).toMatchObject([{ message: 'ERROR x\n\tat A.b(A.java:1)' }]);
    expect(j.pendingOffset()).toBeUndefined();
    expect(j.flush(READ_AT + 10_000)).toEqual([]);
  });

  it('holds back the first byte of the held event, so the checkpoint cannot pass it', () => {
    const j = joiner({ preset: 'java' });
    const input = events(['INFO a', 'ERROR b', '\tat X.y(X.java:1)'], undefined, 1000);
    expect(j.pendingOffset()).toBeUndefined();
    j.push(input[0]!);
    expect(j.pendingOffset()).toBe(1000);
    j.push(input[1]!);
    expect(j.pendingOffset()).toBe(input[1]!.offset);
    j.push(input[2]!);
    expect(j.pendingOffset()).toBe(input[1]!.offset);
  });

  it('joins each stream separately and reports the smallest held offset', () => {
    const j = joiner({ preset: 'java' });
    const out = [
      ...j.push(events(['ERROR out'], 'stdout', 0)[0]!),
      ...j.push(events(['ERROR err'], 'stderr', 10)[0]!),
      ...j.push(events(['\tat A.b(A.java:1)'], 'stdout', 20)[0]!),
      ...j.push(events(['INFO later'], 'stderr', 40)[0]!),
    ];
    expect(out).toMatchObject([{ message: 'ERROR err', stream: 'stderr' }]);
    expect(j.pendingOffset()).toBe(0);
    expect(j.flush(0, true).map((e) => e.message)).toEqual(['ERROR out\n\tat A.b(A.java:1)', 'INFO later']);
  });

  it('keeps the parse error of a bad line it joins', () => {
    const input = events(['a', ' b']);
    input[1]!.parseError = 'cri: malformed line';
    const j = joiner({ continuation: '^\\s' });
    for (const e of input) j.push(e);
    expect(j.flush(0, true)).toMatchObject([{ message: 'a\n b', parseError: 'cri: malformed line' }]);
  });
});

describe('schema', () => {
  it('applies defaults and refuses contradictory or empty rules', () => {
    expect(validate(multilineSchema, { preset: 'java' })).toEqual({
      ok: true,
      value: {
        preset: 'java',
        negate: false,
        match: 'after',
        maxLines: 500,
        maxBytes: 1024 * 1024,
        timeout: 3000,
      },
    });
    const errors = (value: unknown) => {
      const result = validate(multilineSchema, value);
      return result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`);
    };
    expect(errors({})).toEqual(['(root): expected a preset, start, continuation or pattern']);
    expect(errors({ pattern: 'x', start: 'y' })).toEqual([
      'pattern: use pattern alone, or preset/start/continuation',
    ]);
    expect(errors({ start: 'x', match: 'before' })).toEqual(['match: match: before needs pattern']);
    expect(errors({ start: '(' })[0]).toMatch(/^start: expected a valid regular expression/);
    expect(errors({ preset: 'cobol' })[0]).toMatch(/^preset: expected one of "java"/);
  });
});
