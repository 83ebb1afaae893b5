import { describe, expect, it } from 'vitest';
import { validate } from '../../core/config.ts';
import {
  DEFAULT_TIME_FORMATS,
  daysFromCivil,
  epochToMs,
  parseIsoToken,
  TimestampParser,
  timestampSchema,
  timeZone,
  toIso,
} from './timestamp.ts';

const REF = Date.parse('2024-06-15T12:00:00Z');

function parser(timezone = 'UTC', formats = DEFAULT_TIME_FORMATS) {
  return new TimestampParser({ formats, timezone });
}

/** The instant a text reads as, in ISO form, or undefined. */
function read(text: string, timezone = 'UTC', formats = DEFAULT_TIME_FORMATS, ref = REF) {
  const ms = parser(timezone, formats).parseAt(text, 0, ref);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

describe('calendar arithmetic', () => {
  it('matches Date.UTC across eras, leap years and month ends', () => {
    for (const [y, m, d] of [
      [1970, 1, 1],
      [1969, 12, 31],
      [2000, 2, 29],
      [2024, 2, 29],
      [2100, 3, 1],
      [1600, 1, 1],
      [9999, 12, 31],
    ] as const) {
      expect(daysFromCivil(y, m, d) * 86_400_000).toBe(Date.UTC(y, m - 1, d));
    }
  });
});

describe('formats', () => {
  const ISO = ['iso8601'];
  it.each([
    // ISO 8601 / RFC 3339, with and without zone and fraction
    ['2024-01-02T03:04:05Z', '2024-01-02T03:04:05.000Z', ISO],
    ['2024-01-02T03:04:05.123456789Z', '2024-01-02T03:04:05.123Z', ISO],
    ['2024-01-02T03:04:05.1+08:00', '2024-01-01T19:04:05.100Z', ISO],
    ['2024-01-02T03:04:05-0530', '2024-01-02T08:34:05.000Z', ISO],
    ['2024-01-02T03:04:05+08', '2024-01-01T19:04:05.000Z', ISO],
    ['2024-01-02t03:04z', '2024-01-02T03:04:00.000Z', ISO],
    ['2024-01-02T03:04:05.5', '2024-01-02T03:04:05.500Z', ISO],
    ['2024-01-02 03:04:05 +0800 rest', '2024-01-01T19:04:05.000Z', ISO],
    // logback and log4j defaults, which ISO covers too
    ['2024-01-02 03:04:05.123 INFO x', '2024-01-02T03:04:05.123Z', ISO],
    ['2024-01-02 03:04:05,123 INFO x', '2024-01-02T03:04:05.123Z', ISO],
    ['2024-01-02 03:04:05.123', '2024-01-02T03:04:05.123Z', ['logback']],
    ['2024-01-02 03:04:05,987', '2024-01-02T03:04:05.987Z', ['log4j']],
    ['2024-01-02 03:04:05.123', undefined, ['log4j']],
    // nginx/apache, Go, klog, syslog
    ['02/Jan/2024:03:04:05 +0800', '2024-01-01T19:04:05.000Z', ['nginx']],
    ['15/Jun/2024:10:00:00 -0000', '2024-06-15T10:00:00.000Z', ['apache']],
    ['2024/01/02 03:04:05', '2024-01-02T03:04:05.000Z', ['go']],
    ['2024/01/02 03:04:05.123456 x', '2024-01-02T03:04:05.123Z', ['go']],
    ['E0102 03:04:05.123456    1 main.go:12] boom', '2024-01-02T03:04:05.123Z', ['klog']],
    ['Jun  5 03:04:05 host app[1]: x', '2024-06-05T03:04:05.000Z', ['syslog']],
    ['Jun 15 11:59:00 host', '2024-06-15T11:59:00.000Z', ['syslog']],
    // every one of them is in the default list
    ['02/Jan/2024:03:04:05 +0800', '2024-01-01T19:04:05.000Z', DEFAULT_TIME_FORMATS],
    ['E0102 03:04:05.123456    1 main.go:12] boom', '2024-01-02T03:04:05.123Z', DEFAULT_TIME_FORMATS],
    ['Jun  5 03:04:05 host app[1]: x', '2024-06-05T03:04:05.000Z', DEFAULT_TIME_FORMATS],
    ['2024/01/02 03:04:05', '2024-01-02T03:04:05.000Z', DEFAULT_TIME_FORMATS],
    // impossible dates and text that is not a time
    ['2023-02-29 00:00:00', undefined, DEFAULT_TIME_FORMATS],
    ['2024-13-01 00:00:00', undefined, DEFAULT_TIME_FORMATS],
    ['2024-01-01 24:00:00', undefined, DEFAULT_TIME_FORMATS],
    ['hello world', undefined, DEFAULT_TIME_FORMATS],
    ['12345', undefined, DEFAULT_TIME_FORMATS],
  ])('%s → %s (%j)', (text, expected, formats) => {
    expect(read(text, 'UTC', formats)).toBe(expected);
  });

  it('gives syslog times without a year the year that does not lie in the future', () => {
    const newYear = Date.parse('2024-01-01T00:00:10Z');
    expect(read('Dec 31 23:59:59 host x', 'UTC', ['syslog'], newYear)).toBe('2023-12-31T23:59:59.000Z');
    expect(read('Jan  1 00:00:05 host x', 'UTC', ['syslog'], newYear)).toBe('2024-01-01T00:00:05.000Z');
  });

  it('reads user patterns with quotes, month names, weekdays and optional parts', () => {
    expect(read('02.01.2024 03:04', 'UTC', ['dd.MM.yyyy HH:mm'])).toBe('2024-01-02T03:04:00.000Z');
    expect(read("2024-01-02T03'", 'UTC', ["yyyy-MM-dd'T'HH''"])).toBe('2024-01-02T03:00:00.000Z');
    expect(read('Tue Jan 02 03:04:05 2024', 'UTC', ['EEE MMM dd HH:mm:ss yyyy'])).toBe(
      '2024-01-02T03:04:05.000Z',
    );
    expect(read('January 2, 24 03:04', 'UTC', ['MMMM d, yy HH:mm'])).toBe('2024-01-02T03:04:00.000Z');
    expect(read('2024-01-02 03:04', 'UTC', ['yyyy-MM-dd HH:mm[:ss][XXX]'])).toBe('2024-01-02T03:04:00.000Z');
    expect(read('2024-01-02 03:04:05+01:00', 'UTC', ['yyyy-MM-dd HH:mm[:ss][XXX]'])).toBe(
      '2024-01-02T02:04:05.000Z',
    );
  });

  it('reads epoch numbers by magnitude, and digit strings when epoch is listed', () => {
    const p = parser();
    expect(p.value(1_704_164_645, REF)).toBe(1_704_164_645_000);
    expect(p.value(1_704_164_645.25, REF)).toBe(1_704_164_645_250);
    expect(p.value(1_704_164_645_123, REF)).toBe(1_704_164_645_123);
    expect(p.value(1_704_164_645_123_456, REF)).toBe(1_704_164_645_123);
    expect(p.value(1_704_164_645_123_456_800, REF)).toBe(1_704_164_645_123);
    expect(p.value('1704164645123', REF)).toBe(1_704_164_645_123);
    expect(p.value('2024-01-02T03:04:05Z', REF)).toBe(Date.parse('2024-01-02T03:04:05Z'));
    expect(p.value({}, REF)).toBeNaN();
    expect(p.value('', REF)).toBeNaN();
    expect(parser('UTC', ['iso8601']).value('1704164645', REF)).toBeNaN();
    expect(epochToMs(-1)).toBeNaN();
    expect(epochToMs(1e30)).toBeNaN();
    expect(p.value('99999999999999999999', REF)).toBeNaN();
  });

  it('finds the leading time of a line, also inside a bracket', () => {
    const p = parser();
    expect(p.leading('[2024-01-02 03:04:05] production.ERROR: x', REF)).toBe(
      Date.parse('2024-01-02T03:04:05Z'),
    );
    expect(p.leading('no time here', REF)).toBeNaN();
  });

  it('takes a whole CRI timestamp token only', () => {
    const line = '2024-01-02T03:04:05.123456789Z stdout F x';
    expect(parseIsoToken(line, 0, 30)).toBe(Date.parse('2024-01-02T03:04:05.123Z'));
    expect(parseIsoToken(line, 0, 29)).toBeNaN();
  });
});

describe('time zones', () => {
  it('converts zone-less times with fixed offsets and IANA zones', () => {
    expect(read('2024-01-02 08:00:00', 'Asia/Shanghai')).toBe('2024-01-02T00:00:00.000Z');
    expect(read('2024-07-02 08:00:00', 'Asia/Shanghai')).toBe('2024-07-02T00:00:00.000Z');
    expect(read('2024-01-02 08:00:00', '+08:00')).toBe('2024-01-02T00:00:00.000Z');
    expect(read('2024-01-02 08:00:00', 'UTC+0530')).toBe('2024-01-02T02:30:00.000Z');
    expect(read('2024-01-02 08:00:00', '-03')).toBe('2024-01-02T11:00:00.000Z');
    // A time with its own zone ignores the configured one.
    expect(read('2024-01-02T08:00:00Z', 'Asia/Shanghai')).toBe('2024-01-02T08:00:00.000Z');
  });

  it('follows DST in Europe/Berlin, including the skipped and the repeated hour', () => {
    const berlin = (text: string) => read(text, 'Europe/Berlin');
    expect(berlin('2024-01-15 12:00:00')).toBe('2024-01-15T11:00:00.000Z');
    expect(berlin('2024-07-15 12:00:00')).toBe('2024-07-15T10:00:00.000Z');
    // Spring forward: 02:00 → 03:00 on 31 March 2024.
    expect(berlin('2024-03-31 01:59:59')).toBe('2024-03-31T00:59:59.000Z');
    expect(berlin('2024-03-31 02:30:00')).toBe('2024-03-31T01:30:00.000Z');
    expect(berlin('2024-03-31 03:00:00')).toBe('2024-03-31T01:00:00.000Z');
    // Fall back: 03:00 → 02:00 on 27 October 2024; the repeated hour takes its first instant.
    expect(berlin('2024-10-27 01:59:59')).toBe('2024-10-26T23:59:59.000Z');
    expect(berlin('2024-10-27 02:30:00')).toBe('2024-10-27T00:30:00.000Z');
    expect(berlin('2024-10-27 03:00:00')).toBe('2024-10-27T02:00:00.000Z');
  });

  it('knows zone history: Shanghai kept DST until 1991', () => {
    expect(read('1988-07-01 12:00:00', 'Asia/Shanghai')).toBe('1988-07-01T03:00:00.000Z');
    expect(timeZone('Asia/Shanghai').offsetAt(Date.parse('2024-07-01T00:00:00Z'))).toBe(8 * 3_600_000);
  });

  it('validates zone names and formats in the schema', () => {
    expect(validate(timestampSchema, {})).toEqual({
      ok: true,
      value: { formats: DEFAULT_TIME_FORMATS, timezone: 'UTC', fromLine: true, maxFutureSkew: 3_600_000 },
    });
    const bad = validate(timestampSchema, {
      timezone: 'Mars/Olympus',
      formats: ['iso8601', 'yyyy-QQ', 'dd[MM'],
    });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.errors.map((e) => e.path)).toEqual(['formats[1]', 'formats[2]', 'timezone']);
    }
  });
});

describe('toIso', () => {
  it('formats like Date#toISOString, reusing the second', () => {
    for (const ms of [
      0, 1, 999, 1_704_164_645_123, 1_704_164_645_124, 1_704_164_646_000, 253_402_300_799_999,
    ]) {
      expect(toIso(ms)).toBe(new Date(ms).toISOString());
    }
    expect(toIso(-1)).toBe(new Date(-1).toISOString());
  });
});
