import { Agent, request } from 'node:http';

/**
 * The probes benchmark's load: `concurrency` loops, each asking `url` (a prober's `/probe`) again as soon
 * as the last answer is read, for `seconds`, over kept-alive connections. An answer counts as a probe
 * when it is a 200 whose body says `probe_success 1`. It prints one JSON line: ok, failed, seconds, and
 * the first few failures.
 *
 * Usage: node bench/probe-load.ts <url> <concurrency> <seconds>
 */

const [url, concurrencyArg, secondsArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const seconds = Number(secondsArg);
if (!url || !(concurrency >= 1) || !(seconds > 0))
  throw new Error('usage: probe-load.ts <url> <concurrency> <seconds>');

const KEPT_FAILURES = 5;
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const counts = { ok: 0, failed: 0 };
const failures: string[] = [];

function ask(): Promise<void> {
  return new Promise((resolve) => {
    const fail = (why: string) => {
      counts.failed++;
      if (failures.length < KEPT_FAILURES) failures.push(why);
      resolve();
    };
    const req = request(url!, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => {
        if (res.statusCode === 200 && /^probe_success 1$/m.test(body)) {
          counts.ok++;
          resolve();
        } else fail(`status ${res.statusCode}: ${body.slice(0, 200)}`);
      });
      res.on('error', (err) => fail(err.message));
    });
    req.on('error', (err) => fail(err.message));
    req.end();
  });
}

const started = performance.now();
const endAt = started + seconds * 1000;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (performance.now() < endAt) await ask();
  }),
);
const elapsed = (performance.now() - started) / 1000;
agent.destroy();
console.log(JSON.stringify({ ...counts, seconds: elapsed, failures }));
