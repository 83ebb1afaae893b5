import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Coalescer, Mutex, Notifier } from './waiters.ts';

describe('waiters', () => {
  it('Mutex grants in arrival order and lets a queued waiter give up', async () => {
    const mutex = new Mutex();
    const order: string[] = [];
    const first = await mutex.acquire();
    const abort = new AbortController();
    const quitter = mutex.acquire(abort.signal);
    const second = mutex.acquire().then((release) => {
      order.push('second');
      release();
    });
    abort.abort(new Error('gave up'));
    await expect(quitter).rejects.toThrow('gave up');
    order.push('first');
    first();
    first();
    await second;
    expect(order).toEqual(['first', 'second']);
    (await mutex.acquire())();
  });

  it('Coalescer runs once more for all calls made during a run, and never twice at once', async () => {
    let running = 0;
    let runs = 0;
    const coalescer = new Coalescer(async () => {
      running++;
      runs++;
      expect(running).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 10));
      running--;
    });
    await Promise.all([coalescer.run(), coalescer.run(), coalescer.run(), coalescer.run()]);
    expect(runs).toBe(2);
    await coalescer.run();
    expect(runs).toBe(3);
  });

  it('Coalescer hands a failure to the callers of that run and runs again on the next call', async () => {
    let fail = true;
    const coalescer = new Coalescer(async () => {
      if (fail) throw new Error('disk full');
    });
    await expect(coalescer.run()).rejects.toThrow('disk full');
    fail = false;
    await coalescer.run();
  });

  it('Notifier does not miss a change between mark and wait, and aborted waits leave nothing behind', async () => {
    const notifier = new Notifier();
    const mark = notifier.mark();
    notifier.notify();
    await notifier.wait(mark);

    const abort = new AbortController();
    const waits = Array.from({ length: 50 }, () => notifier.wait(notifier.mark(), abort.signal));
    abort.abort(new Error('stop'));
    for (const wait of waits) await expect(wait).rejects.toThrow('stop');
    expect(getEventListeners(abort.signal, 'abort')).toHaveLength(0);

    const long = new AbortController();
    for (let i = 0; i < 50; i++) {
      const waiting = notifier.wait(notifier.mark(), long.signal);
      notifier.notify();
      await waiting;
    }
    expect(getEventListeners(long.signal, 'abort')).toHaveLength(0);
  });
});
