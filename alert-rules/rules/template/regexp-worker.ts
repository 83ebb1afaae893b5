/** Runs Go regular expressions off the main thread, so a runaway match can be stopped. */
import { parentPort } from 'node:worker_threads';
import { GoRegexpError, matchGoRegexp, replaceAllGoRegexp } from './go-regexp.ts';
import type { RegexpJob } from './regexp-isolation.ts';

parentPort?.on('message', ({ id, job }: { id: number; job: RegexpJob }) => {
  try {
    const value =
      job.op === 'match'
        ? matchGoRegexp(job.pattern, job.text)
        : replaceAllGoRegexp(job.pattern, job.replacement, job.text);
    parentPort?.postMessage({ id, value });
  } catch (e) {
    parentPort?.postMessage({ id, syntaxError: e instanceof GoRegexpError ? e.message : String(e) });
  }
});
