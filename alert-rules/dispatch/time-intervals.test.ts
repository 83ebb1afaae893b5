import { describe, expect, it } from 'vitest';
import type { ConfigError } from '../../core/config.ts';
import {
  containsTime,
  isActive,
  isMuted,
  parseTimeInterval,
  type RawTimeInterval,
  type TimeInterval,
} from './time-intervals.ts';

function parse(raw: RawTimeInterval): TimeInterval {
  const errors: ConfigError[] = [];
  const interval = parseTimeInterval(raw, 'interval', errors);
  expect(errors).toEqual([]);
  return interval;
}

function problems(raw: RawTimeInterval): ConfigError[] {
  const errors: ConfigError[] = [];
  parseTimeInterval(raw, 'time_intervals[0].time_intervals[0]', errors);
  return errors;
}

const at = (iso: string) => Date.parse(iso);

describe('parseTimeInterval', () => {
  it('reads names, numbers and ranges, case-insensitively', () => {
    expect(
      parse({
        times: [{ start_time: '09:00', end_time: '24:00' }],
        weekdays: ['Monday:friday', 'sunday'],
        days_of_month: ['1:5', -1, '-7:-1'],
        months: ['january:March', 12, '6'],
        years: ['2026:2027'],
        location: 'Asia/Shanghai',
      }),
    ).toEqual({
      times: [{ startMinute: 540, endMinute: 1440 }],
      weekdays: [
        { begin: 1, end: 5 },
        { begin: 0, end: 0 },
      ],
      daysOfMonth: [
        { begin: 1, end: 5 },
        { begin: -1, end: -1 },
        { begin: -7, end: -1 },
      ],
      months: [
        { begin: 1, end: 3 },
        { begin: 12, end: 12 },
        { begin: 6, end: 6 },
      ],
      years: [{ begin: 2026, end: 2027 }],
      location: 'Asia/Shanghai',
    });
  });

  it('reports each bad value with its path', () => {
    expect(
      problems({
        times: [
          { start_time: '10:00', end_time: '09:00' },
          { start_time: '9:00', end_time: '10:00' },
        ],
        weekdays: ['friday:monday', 'funday'],
        days_of_month: [0, '-1:5', '10:-25', 32],
        months: ['march:january', 13],
        years: ['2027:2026'],
        location: 'Mars/Olympus',
      }).map((e) => e.path),
    ).toEqual([
      'time_intervals[0].time_intervals[0].times[0]',
      'time_intervals[0].time_intervals[0].times[1]',
      'time_intervals[0].time_intervals[0].weekdays[0]',
      'time_intervals[0].time_intervals[0].weekdays[1]',
      'time_intervals[0].time_intervals[0].days_of_month[0]',
      'time_intervals[0].time_intervals[0].days_of_month[1]',
      'time_intervals[0].time_intervals[0].days_of_month[2]',
      'time_intervals[0].time_intervals[0].days_of_month[3]',
      'time_intervals[0].time_intervals[0].months[0]',
      'time_intervals[0].time_intervals[0].months[1]',
      'time_intervals[0].time_intervals[0].years[0]',
      'time_intervals[0].time_intervals[0].location',
    ]);
    expect(problems({ location: 'Mars/Olympus' })[0]!.message).toBe('unknown time zone "Mars/Olympus"');
  });
});

describe('containsTime', () => {
  it('takes times with the end excluded, in UTC by default', () => {
    const office = parse({ times: [{ start_time: '09:00', end_time: '17:00' }] });
    expect(containsTime(office, at('2026-12-02T09:00:00Z'))).toBe(true);
    expect(containsTime(office, at('2026-12-02T16:59:59Z'))).toBe(true);
    expect(containsTime(office, at('2026-12-02T17:00:00Z'))).toBe(false);
    expect(containsTime(office, at('2026-12-02T08:59:59Z'))).toBe(false);
  });

  it('needs every condition', () => {
    const weekdayMornings = parse({
      weekdays: ['monday:friday'],
      times: [{ start_time: '06:00', end_time: '12:00' }],
    });
    expect(containsTime(weekdayMornings, at('2026-12-04T07:00:00Z'))).toBe(true); // Friday
    expect(containsTime(weekdayMornings, at('2026-12-05T07:00:00Z'))).toBe(false); // Saturday
    expect(containsTime(weekdayMornings, at('2026-12-04T13:00:00Z'))).toBe(false);
    expect(containsTime(parse({}), at('2026-12-04T13:00:00Z'))).toBe(true);
  });

  it('counts negative days from the month end, whatever its length', () => {
    const lastDay = parse({ days_of_month: [-1] });
    expect(containsTime(lastDay, at('2028-02-29T12:00:00Z'))).toBe(true); // leap year
    expect(containsTime(lastDay, at('2027-02-28T12:00:00Z'))).toBe(true);
    expect(containsTime(lastDay, at('2027-03-30T12:00:00Z'))).toBe(false);
    const lastWeek = parse({ days_of_month: ['-7:-1'] });
    expect(containsTime(lastWeek, at('2026-04-24T00:00:00Z'))).toBe(true);
    expect(containsTime(lastWeek, at('2026-04-23T23:59:00Z'))).toBe(false);
  });

  it('does not let a range past the month end spill into the next month', () => {
    const late = parse({ days_of_month: ['31'] });
    expect(containsTime(late, at('2026-04-30T12:00:00Z'))).toBe(false);
    expect(containsTime(late, at('2026-05-01T12:00:00Z'))).toBe(false);
    expect(containsTime(parse({ days_of_month: ['25:31'] }), at('2026-02-28T12:00:00Z'))).toBe(true);
  });

  it('reads the wall clock of the time zone', () => {
    // 16:30 UTC is 00:30 the next day in Shanghai: a Saturday there.
    const shanghaiWeekend = parse({ weekdays: ['saturday', 'sunday'], location: 'Asia/Shanghai' });
    expect(containsTime(shanghaiWeekend, at('2026-12-04T16:30:00Z'))).toBe(true);
    expect(containsTime(shanghaiWeekend, at('2026-12-04T15:30:00Z'))).toBe(false);
    const newYear = parse({ months: ['january'], days_of_month: [1], location: 'America/New_York' });
    expect(containsTime(newYear, at('2027-01-01T04:59:00Z'))).toBe(false);
    expect(containsTime(newYear, at('2027-01-01T05:00:00Z'))).toBe(true);
  });

  it('follows daylight saving time changes', () => {
    const nineToFive = parse({
      times: [{ start_time: '09:00', end_time: '17:00' }],
      location: 'Europe/Berlin',
    });
    // Berlin is UTC+1 in winter and UTC+2 from the last Sunday of March.
    expect(containsTime(nineToFive, at('2026-03-28T08:00:00Z'))).toBe(true);
    expect(containsTime(nineToFive, at('2026-03-30T07:00:00Z'))).toBe(true);
    expect(containsTime(nineToFive, at('2026-03-30T15:00:00Z'))).toBe(false);
    // 02:30 does not exist on the change day: 01:59:59 UTC+1 is followed by 03:00 UTC+2.
    const night = parse({ times: [{ start_time: '02:00', end_time: '03:00' }], location: 'Europe/Berlin' });
    expect(containsTime(night, at('2026-03-29T00:59:59Z'))).toBe(false);
    expect(containsTime(night, at('2026-03-29T01:00:00Z'))).toBe(false);
    // In autumn the hour 02:00–03:00 happens twice, and both are inside.
    expect(containsTime(night, at('2026-10-25T00:30:00Z'))).toBe(true);
    expect(containsTime(night, at('2026-10-25T01:30:00Z'))).toBe(true);
  });
});

describe('isActive and isMuted', () => {
  const intervals = new Map([
    ['weekends', [parse({ weekdays: ['saturday', 'sunday'] })]],
    ['office', [parse({ weekdays: ['monday:friday'], times: [{ start_time: '09:00', end_time: '18:00' }] })]],
  ]);
  const saturday = at('2026-12-05T10:00:00Z');
  const mondayMorning = at('2026-12-07T10:00:00Z');
  const mondayNight = at('2026-12-07T22:00:00Z');

  it('is active when any named interval contains the time', () => {
    expect(isActive(intervals, ['office', 'weekends'], saturday)).toBe(true);
    expect(isActive(intervals, ['office'], saturday)).toBe(false);
    expect(isActive(intervals, ['unknown'], saturday)).toBe(false);
    expect(isActive(intervals, [], saturday)).toBe(false);
  });

  it('mutes during a mute interval, and outside all active intervals', () => {
    const muteWeekends = { muteTimeIntervals: ['weekends'], activeTimeIntervals: [] };
    expect(isMuted(intervals, muteWeekends, saturday)).toBe(true);
    expect(isMuted(intervals, muteWeekends, mondayNight)).toBe(false);
    const officeOnly = { muteTimeIntervals: [], activeTimeIntervals: ['office'] };
    expect(isMuted(intervals, officeOnly, mondayMorning)).toBe(false);
    expect(isMuted(intervals, officeOnly, mondayNight)).toBe(true);
    expect(isMuted(intervals, { muteTimeIntervals: [], activeTimeIntervals: [] }, saturday)).toBe(false);
  });
});
