/** Runs Go regular expressions off the main thread, so a runaway match can be stopped. */
import { parentPort } from 'node:worker_threads';
import type { RegexpJob } from './isolation.ts';
import { matchGoRegexp, replaceAllGoRegexp } from './regexp.ts';

parentPort?.on('message', ({ id, job }: { id: number; job: RegexpJob }) => {
  parentPort?.postMessage({ id, started: true });
  try {
    const value =
      job.op === 'match'
        ? matchGoRegexp(job.pattern, job.text)
        : replaceAllGoRegexp(job.pattern, job.replacement, job.text);
    parentPort?.postMessage({ id, value });
  } catch (e) {
    parentPort?.postMessage({ id, error: String(e) });
  }
});
