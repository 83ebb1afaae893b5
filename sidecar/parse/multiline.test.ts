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

/** The events `lines` make with the java preset, each as its lines. */
const javaEvents = (lines: string[]) => join({ preset: 'java' }, lines).map((e) => e.message.split('\n'));

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

  it("keeps Spring Boot's trace after the blank line it writes, in Boot 2 and Boot 3 layouts", () => {
    const boot3 = [
      '2026-11-23T03:12:00.123+08:00 ERROR 1 --- [shop] [nio-8080-exec-1] o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() for servlet [dispatcherServlet] in context with path [] threw exception [Request processing failed: java.lang.IllegalStateException: cart is empty] with root cause',
      '',
      'java.lang.IllegalStateException: cart is empty',
      '\tat com.shop.cart.CartService.checkout(CartService.java:42) ~[classes/:na]',
      '\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885) ~[spring-webmvc-6.1.4.jar:6.1.4]',
      '\tat java.base/java.lang.Thread.run(Thread.java:1583) ~[na:na]',
      '',
    ];
    const boot2 = [
      '2026-11-23 03:12:01.456 ERROR 4711 --- [nio-8080-exec-2] o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() threw exception',
      '',
      'org.springframework.dao.DataAccessResourceFailureException: unable to connect',
      '\tat com.shop.Repo.find(Repo.java:10)',
    ];
    const next =
      '2026-11-23T03:12:02.000+08:00  INFO 1 --- [shop] [           main] com.shop.App                             : next';
    expect(javaEvents([...boot3, ...boot2, next])).toEqual([boot3, boot2, [next]]);
  });

  it('keeps Logback and Log4j2 default layouts, Caused by chains, Suppressed and "... N more" together', () => {
    const logback = [
      '03:12:00.123 [http-nio-8080-exec-1] ERROR com.shop.OrderService - order 42 failed',
      'org.springframework.jdbc.CannotGetJdbcConnectionException: Failed to obtain JDBC Connection',
      '\tat org.springframework.jdbc.datasource.DataSourceUtils.getConnection(DataSourceUtils.java:84)',
      '\tat com.shop.OrderService.place(OrderService.java:87)',
      'Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available',
      '\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)',
      '\t... 2 common frames omitted',
      '\tSuppressed: java.io.IOException: close failed',
      '\t\tat com.shop.Db.close(Db.java:10)',
      '\t\t... 3 more',
    ];
    const log4j2 = [
      '2026-11-23 03:12:00,456 ERROR [main] com.shop.Billing: charge failed',
      'java.lang.RuntimeException: wrapped',
      '\tat com.shop.Billing.charge(Billing.java:20) ~[shop.jar:?]',
      'Caused by: java.net.SocketTimeoutException: Read timed out',
      '\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:278) ~[?:?]',
      '\t... 1 more',
    ];
    const next = '03:12:01.000 [main] INFO  com.shop.App - next';
    expect(javaEvents([...logback, ...log4j2, next])).toEqual([logback, log4j2, [next]]);
  });

  it("keeps a multi-line exception message such as MyBatis's ### block in its event", () => {
    const mybatis = [
      '2026-11-23 03:12:00.789 ERROR 1 --- [nio-8080-exec-3] c.s.web.GlobalExceptionHandler           : query failed',
      '',
      'org.springframework.jdbc.BadSqlGrammarException: ',
      "### Error querying database.  Cause: java.sql.SQLSyntaxErrorException: Unknown column 'x' in 'field list'",
      '### The error may exist in com/shop/mapper/OrderMapper.xml',
      '### The error may involve defaultParameterMap',
      '### The error occurred while setting parameters',
      '### SQL: select x from orders where id = ?',
      "### Cause: java.sql.SQLSyntaxErrorException: Unknown column 'x' in 'field list'",
      "; bad SQL grammar []; nested exception is java.sql.SQLSyntaxErrorException: Unknown column 'x' in 'field list'",
      '\tat org.springframework.jdbc.support.SQLErrorCodeSQLExceptionTranslator.doTranslate(SQLErrorCodeSQLExceptionTranslator.java:239)',
      '\tat com.sun.proxy.$Proxy87.selectOne(Unknown Source)',
    ];
    const validation = [
      '2026-11-23 03:12:01.000  WARN 1 --- [main] com.shop.Validator : rejected order:',
      "Field error in object 'order' on field 'qty': rejected value [-1]",
      '  codes [Min.order.qty,Min.qty]; default message [must be greater than 0]',
    ];
    expect(javaEvents([...mybatis, ...validation])).toEqual([mybatis, validation]);
  });

  it("starts events at the other layouts' times: bracketed, level first, Tomcat, java.util.logging", () => {
    const lines = [
      '[2026-11-23 03:12:00.000] [main] INFO com.shop.App - bracketed',
      'INFO  2026-11-23 03:12:00,001 [main] com.shop.App - level first',
      '[ERROR] 2026-11-23T03:12:00.002Z com.shop.App - level in brackets',
      '23-Nov-2026 03:12:00.003 SEVERE [main] org.apache.catalina.core.StandardContext.startInternal failed',
      'Nov 23, 2026 3:12:00 AM com.shop.Legacy run',
      'SEVERE: legacy failure',
      'java.lang.Error: legacy',
      '\tat com.shop.Legacy.run(Legacy.java:5)',
      '2026/11/23 03:12:00 slashes',
    ];
    expect(javaEvents(lines).map((event) => event.length)).toEqual([1, 1, 1, 1, 4, 1]);
  });

  it('lets a line without a time start the first event, and lets JSON lines stand alone', () => {
    expect(javaEvents(['java.lang.Error: alone', '\tat A.b(A.java:1)'])).toEqual([
      ['java.lang.Error: alone', '\tat A.b(A.java:1)'],
    ]);
    expect(javaEvents(['{"level":"info"}', '{"level":"error","stack":"x"}'])).toHaveLength(2);
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

  it("adds a start pattern of one's own to the java preset's", () => {
    const out = join({ preset: 'java', start: '^\\d{10} ' }, [
      '1795403520 epoch layout',
      '\tat A.b(A.java:1)',
      '03:12:00.000 [main] INFO x',
      'detail',
    ]);
    expect(out.map((e) => e.message)).toEqual([
      '1795403520 epoch layout\n\tat A.b(A.java:1)',
      '03:12:00.000 [main] INFO x\ndetail',
    ]);
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
    const input = events(
      ['03:12:00.000 INFO a', '03:12:00.001 ERROR b', '\tat X.y(X.java:1)'],
      undefined,
      1000,
    );
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
      ...j.push(events(['03:12:00.000 ERROR out'], 'stdout', 0)[0]!),
      ...j.push(events(['03:12:00.001 ERROR err'], 'stderr', 30)[0]!),
      ...j.push(events(['\tat A.b(A.java:1)'], 'stdout', 60)[0]!),
      ...j.push(events(['03:12:00.002 INFO later'], 'stderr', 80)[0]!),
    ];
    expect(out).toMatchObject([{ message: '03:12:00.001 ERROR err', stream: 'stderr' }]);
    expect(j.pendingOffset()).toBe(0);
    expect(j.flush(0, true).map((e) => e.message)).toEqual([
      '03:12:00.000 ERROR out\n\tat A.b(A.java:1)',
      '03:12:00.002 INFO later',
    ]);
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
