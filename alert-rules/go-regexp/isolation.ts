/**
 * Go's regexp never backtracks; JavaScript's does, and a pattern like
 * `(a+)+$` can hold the event loop for minutes. Where Go would run such a
 * pattern (templates), it runs in a worker thread that is terminated when it
 * overruns its time.
 */
import { Worker } from 'node:worker_threads';
import { compileGoRegexp, matchGoRegexp, replaceAllGoRegexp } from './regexp.ts';

export type RegexpJob =
  | { op: 'match'; pattern: string; text: string }
  | { op: 'replace'; pattern: string; replacement: string; text: string };

export class RegexpTimeoutError extends Error {
  constructor(pattern: string, timeoutMs: number) {
    super(`regular expression ${JSON.stringify(pattern)} ran longer than ${timeoutMs} ms`);
    this.name = 'RegexpTimeoutError';
  }
}

interface Reply {
  id: number;
  started?: boolean;
  value?: string | boolean;
  error?: string;
}

let worker: Worker | undefined;
let nextId = 0;
let queue: Promise<unknown> = Promise.resolve();

function runInWorker(job: RegexpJob, timeoutMs: number): Promise<string | boolean> {
  const run = (): Promise<string | boolean> =>
    new Promise((resolve, reject) => {
      const w = worker ?? new Worker(new URL('./worker.ts', import.meta.url));
      worker = w;
      w.unref();
      const id = nextId++;
      let timer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        clearTimeout(timer);
        w.off('message', onMessage);
        w.off('error', onError);
      };
      const onError = (err: Error): void => {
        finish();
        worker = undefined;
        reject(err);
      };
      const onMessage = (reply: Reply): void => {
        if (reply.id !== id) return;
        if (reply.started) {
          // The time limit is for the match: starting a worker takes long on a busy machine.
          timer = setTimeout(() => {
            finish();
            worker = undefined;
            void w.terminate();
            reject(new RegexpTimeoutError(job.pattern, timeoutMs));
          }, timeoutMs);
          return;
        }
        finish();
        if (reply.error !== undefined) reject(new Error(reply.error));
        else resolve(reply.value as string | boolean);
      };
      w.on('message', onMessage);
      w.on('error', onError);
      w.postMessage({ id, job });
    });
  // One job at a time: a timeout must stop only the job that overran.
  const result = queue.then(run, run);
  queue = result.catch(() => undefined);
  return result;
}

/**
 * regexp.MatchString or Regexp.ReplaceAllString; throws GoRegexpError on a
 * syntax error (found on this thread) and RegexpTimeoutError when a pattern
 * that risks backtracking overruns `timeoutMs`.
 */
export async function runGoRegexp(job: RegexpJob, timeoutMs: number): Promise<string | boolean> {
  if (compileGoRegexp(job.pattern).backtracking !== 'none') return runInWorker(job, timeoutMs);
  return job.op === 'match'
    ? matchGoRegexp(job.pattern, job.text)
    : replaceAllGoRegexp(job.pattern, job.replacement, job.text);
}
