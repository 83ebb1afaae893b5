import { describe, expect, it } from 'vitest';
import type { ObservedEvent } from '../event.ts';
import { Hold, limitKeys, ResumePoint, type ResumeState } from './resume.ts';

function event(uid: string, lastTime: number, count = 1): ObservedEvent {
  return {
    namespace: 'ns',
    kind: 'Pod',
    name: 'p',
    reason: 'BackOff',
    type: 'Warning',
    message: '',
    source: 'kubelet',
    labels: {},
    uid,
    eventName: `p.${uid}`,
    objectUid: undefined,
    count,
    firstTime: lastTime,
    lastTime,
    host: undefined,
  };
}

/** A clock the test moves by hand. */
function clock(start: number) {
  const c = { time: start, now: () => c.time };
  return c;
}

describe('ResumePoint', () => {
  it('on the first start ever, treats what happened before as old and what comes after as new', () => {
    const t = clock(1_000_400);
    const resume = new ResumePoint(undefined, { clock: t });
    expect(resume.judge(event('a', 999_000))).toBe('old');
    // core/v1 times are whole seconds: an event recorded just after the start reads as the start's second.
    expect(resume.judge(event('b', 1_000_000))).toBe('new');
    expect(resume.judge(event('c', 1_000_401))).toBe('new');
  });

  it('tells an unchanged event (seen) from one that recurred (update)', () => {
    const resume = new ResumePoint({ time: 0, keys: {} });
    expect(resume.judge(event('a', 10, 1))).toBe('new');
    expect(resume.judge(event('a', 10, 1))).toBe('seen');
    expect(resume.judge(event('a', 20, 2))).toBe('update');
    expect(resume.judge(event('a', 20, 2))).toBe('seen');
    // A series can move its lastObservedTime without a new count, or the other way round.
    expect(resume.judge(event('a', 30, 2))).toBe('update');
    expect(resume.judge(event('a', 30, 3))).toBe('update');
    // A stale copy (an older watch event replayed) is no news.
    expect(resume.judge(event('a', 25, 2))).toBe('seen');
  });

  it('does not remember an old event, so its recurrence after the resume time is new', () => {
    const resume = new ResumePoint({ time: 100, keys: {} });
    expect(resume.judge(event('a', 50, 4))).toBe('old');
    expect(resume.judge(event('a', 50, 4))).toBe('old');
    expect(resume.judge(event('a', 150, 5))).toBe('new');
    expect(resume.size).toBe(1);
  });

  it('saves an event as handled once its message is written, and as not yet judged until then', () => {
    const t = clock(1_000_000);
    const resume = new ResumePoint({ time: 900_000, keys: {} }, { clock: t, slackMs: 30_000 });
    const holds = { told: new Hold(), grows1: new Hold(), grows2: new Hold(), untold: new Hold() };
    expect(resume.judge(event('told', 950_000), holds.told)).toBe('new');
    expect(resume.judge(event('grows', 955_000, 1), holds.grows1)).toBe('new');
    t.time = 1_020_000;
    expect(resume.judge(event('grows', 1_015_000, 2), holds.grows2)).toBe('update');
    expect(resume.judge(event('untold', 960_000), holds.untold)).toBe('new');
    // An event going to two routes is handled once both messages are written.
    holds.untold.add();
    holds.untold.done();
    holds.told.done();
    holds.grows1.done();
    t.time = 1_025_000;

    const held = resume.snapshot();
    expect(Object.keys(held.keys).sort()).toEqual(['grows', 'told']);
    expect(held.keys.grows).toEqual({ count: 1, lastTime: 955_000 });
    // The untold event happened before now - slack: the time goes back so that it is new again.
    expect(held.time).toBe(959_999);
    const after = new ResumePoint(held, { clock: t });
    expect(after.judge(event('told', 950_000))).toBe('seen');
    expect(after.judge(event('grows', 1_015_000, 2))).toBe('update');
    expect(after.judge(event('untold', 960_000))).toBe('new');

    // However long ago they were judged: what is written is not held back, what is not stays out.
    t.time = 1_300_000;
    holds.grows2.done();
    expect(Object.keys(resume.snapshot().keys).sort()).toEqual(['grows', 'told']);
    holds.untold.done();
    expect(Object.keys(resume.snapshot().keys).sort()).toEqual(['grows', 'told', 'untold']);
  });

  it('after a restart from its snapshot: no repeat, no gap', () => {
    const t = clock(1_000_000);
    const before = new ResumePoint({ time: 900_000, keys: {} }, { clock: t, slackMs: 30_000 });
    expect(before.judge(event('sent', 950_000))).toBe('new');
    expect(before.judge(event('grows', 960_000, 1))).toBe('new');
    t.time = 1_000_000;
    // JSON round trip, as through a file or a ConfigMap.
    const saved = JSON.parse(JSON.stringify(before.snapshot())) as ResumeState;
    expect(saved.time).toBe(970_000);

    t.time = 2_000_000;
    const after = new ResumePoint(saved, { clock: t });
    expect(after.judge(event('sent', 950_000))).toBe('seen');
    expect(after.judge(event('grows', 1_500_000, 2))).toBe('update');
    // Happened while the router was down.
    expect(after.judge(event('while-down', 1_200_000))).toBe('new');
    // History from before the previous run's resume time.
    expect(after.judge(event('ancient', 800_000))).toBe('old');
  });

  it('keeps the slack: an event from just before the save that had not arrived yet is new after a restart', () => {
    const t = clock(1_000_000);
    const before = new ResumePoint({ time: 900_000, keys: {} }, { clock: t, slackMs: 30_000 });
    expect(before.judge(event('handled', 990_000))).toBe('new');
    const saved = before.snapshot();
    const after = new ResumePoint(saved, { clock: t });
    expect(after.judge(event('handled', 990_000))).toBe('seen');
    expect(after.judge(event('in-flight', 985_000))).toBe('new');
    expect(after.judge(event('late-beyond-slack', 960_000))).toBe('old');
  });

  it('does not move its own time to the snapshot time, so events still in flight stay new', () => {
    const t = clock(1_000_000);
    const resume = new ResumePoint({ time: 900_000, keys: {} }, { clock: t, slackMs: 30_000 });
    resume.snapshot();
    expect(resume.judge(event('in-flight', 950_000))).toBe('new');
  });

  it('forgets events last seen beyond the horizon, and judges them old if they are listed again', () => {
    const t = clock(10_000_000);
    const resume = new ResumePoint({ time: 0, keys: {} }, { clock: t, slackMs: 0, horizonMs: 1_000_000 });
    resume.judge(event('stale', 8_000_000));
    resume.judge(event('fresh', 9_500_000));
    const saved = resume.snapshot();
    expect(Object.keys(saved.keys)).toEqual(['fresh']);
    expect(resume.judge(event('stale', 8_000_000))).toBe('old');
    expect(new ResumePoint(saved).judge(event('stale', 8_000_000))).toBe('old');
  });

  it('is bounded by maxKeys, dropping the oldest, and never judges a dropped event new again', () => {
    const t = clock(1_000);
    const resume = new ResumePoint({ time: 0, keys: {} }, { clock: t, slackMs: 0, maxKeys: 10 });
    for (let i = 1; i <= 30; i++) expect(resume.judge(event(`e${i}`, i))).toBe('new');
    expect(resume.size).toBeLessThanOrEqual(11);
    const saved = resume.snapshot();
    expect(Object.keys(saved.keys).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `e${i + 21}`).sort());
    for (let i = 1; i <= 30; i++) expect(resume.judge(event(`e${i}`, i))).not.toBe('new');
    for (let i = 1; i <= 30; i++) expect(new ResumePoint(saved).judge(event(`e${i}`, i))).not.toBe('new');
  });
});

describe('limitKeys', () => {
  it('keeps the newest keys and moves the time up to the newest dropped one', () => {
    const state: ResumeState = {
      time: 5,
      keys: { a: { count: 1, lastTime: 10 }, b: { count: 1, lastTime: 30 }, c: { count: 1, lastTime: 20 } },
    };
    expect(limitKeys(state, 2)).toEqual({
      time: 10,
      keys: { b: { count: 1, lastTime: 30 }, c: { count: 1, lastTime: 20 } },
    });
    expect(limitKeys(state, 3)).toBe(state);
  });
});
