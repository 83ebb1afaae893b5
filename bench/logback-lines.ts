import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';

export interface LogFileSet {
  paths: string[];
  lines: number;
  bytes: number;
}

const THREADS = ['main', 'http-nio-8080-exec-3', 'http-nio-8080-exec-17', 'kafka-producer-1', 'scheduling-1'];
const LEVELS = ['INFO', 'INFO', 'INFO', 'INFO', 'DEBUG', 'DEBUG', 'WARN', 'ERROR'];
const LOGGERS = [
  'c.e.shop.order.OrderService',
  'c.e.shop.payment.PaymentClient',
  'o.s.web.servlet.DispatcherServlet',
  'c.e.shop.inventory.StockCache',
  'c.z.hikari.pool.HikariPool',
];
const MESSAGES = [
  (r: () => number) =>
    `Order ${r()} placed by user ${r() % 100000} total=${(r() % 50000) / 100} items=${r() % 9}`,
  (r: () => number) => `GET /api/v2/products/${r() % 20000} 200 ${r() % 900}ms`,
  (r: () => number) => `Payment ${r().toString(16)} authorised, gateway latency ${r() % 400}ms`,
  (r: () => number) => `Cache refresh done: ${r() % 5000} entries, ${r() % 40} evicted`,
  (r: () => number) => `Connection pool stats (total=${r() % 20}, active=${r() % 10}, idle=${r() % 10})`,
  (r: () => number) => `Retrying request to inventory-service attempt=${r() % 3} cause=timeout`,
];

/** xorshift: the same data on every run, without the cost of crypto randomness. */
export function xorshift(seed: number): () => number {
  let state = seed | 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
}

/**
 * One line in Logback's default pattern (no newline), with messages and their lengths spread like a busy
 * web service's (~120 B a line). `at` is the time as Logback prints it: `2026-11-23 03:12:00.007`.
 */
export function logbackLine(at: string, random: () => number): string {
  const pick = <T>(list: readonly T[]) => list[random() % list.length]!;
  return `${at} [${pick(THREADS)}] ${pick(LEVELS).padEnd(5)} ${pick(LOGGERS)} - ${pick(MESSAGES)(random)}`;
}

/** The time of a Logback line as its default pattern prints it, in UTC. */
export function logbackTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 23);
}

export async function writeLogFiles(dir: string, files: number, linesPerFile: number): Promise<LogFileSet> {
  const random = xorshift(0x2545f491);
  const paths: string[] = [];
  let bytes = 0;
  const start = Date.UTC(2026, 10, 23, 3, 12);
  for (let f = 0; f < files; f++) {
    const path = join(dir, `app-${f}.log`);
    paths.push(path);
    bytes += await writeLines(path, linesPerFile, (i) => logbackLine(logbackTime(start + i * 7), random));
  }
  return { paths, lines: files * linesPerFile, bytes };
}

/** Writes `count` lines made by `line(i)` to a new file, in chunks of about 1 MiB; returns the bytes written. */
export async function writeLines(path: string, count: number, line: (i: number) => string): Promise<number> {
  const out = createWriteStream(path);
  let chunk = '';
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    chunk += `${line(i)}\n`;
    if (chunk.length > 1 << 20 || i === count - 1) {
      bytes += Buffer.byteLength(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end();
  await once(out, 'finish');
  return bytes;
}
