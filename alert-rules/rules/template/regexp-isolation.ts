/**
 * Go's regexp never backtracks; JavaScript's does, and a pattern like
 * `(a+)+$` can hold the event loop for minutes. Patterns that risk that run
 * in a worker thread that is terminated when it overruns its time.
 */
import { Worker } from 'node:worker_threads';
import { GoCallError } from './functions.ts';
import { GoRegexpError, matchGoRegexp, replaceAllGoRegexp, risksSlowMatching } from './go-regexp.ts';

export type RegexpJob =
  | { op: 'match'; pattern: string; text: string }
  | { op: 'replace'; pattern: string; replacement: string; text: string };

interface Reply {
  id: number;
  value?: string | boolean;
  syntaxError?: string;
}

let worker: Worker | undefined;
let nextId = 0;
let queue: Promise<unknown> = Promise.resolve();

function runInWorker(job: RegexpJob, timeoutMs: number): Promise<string | boolean> {
  const run = (): Promise<string | boolean> =>
    new Promise((resolve, reject) => {
      const w = worker ?? new Worker(new URL('./regexp-worker.ts', import.meta.url));
      worker = w;
      w.unref();
      const id = nextId++;
      const timer = setTimeout(() => {
        w.off('message', onMessage);
        worker = undefined;
        void w.terminate();
        reject(
          new GoCallError(
            `regular expression ${JSON.stringify(job.pattern)} ran longer than ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const onMessage = (reply: Reply): void => {
        if (reply.id !== id) return;
        clearTimeout(timer);
        w.off('message', onMessage);
        if (reply.syntaxError !== undefined) reject(new GoRegexpError(reply.syntaxError));
        else resolve(reply.value as string | boolean);
      };
      w.on('message', onMessage);
      w.postMessage({ id, job });
    });
  // One job at a time: a timeout must stop only the job that overran.
  const result = queue.then(run, run);
  queue = result.catch(() => undefined);
  return result;
}

/** regexp.MatchString or Regexp.ReplaceAllString; throws GoRegexpError on a syntax error. */
export async function runGoRegexp(job: RegexpJob, timeoutMs: number): Promise<string | boolean> {
  if (risksSlowMatching(job.pattern)) return runInWorker(job, timeoutMs);
  return job.op === 'match'
    ? matchGoRegexp(job.pattern, job.text)
    : replaceAllGoRegexp(job.pattern, job.replacement, job.text);
}
