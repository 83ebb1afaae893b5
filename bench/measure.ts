import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { onPath } from '../test/infra/exec.ts';

/** The command every benchmark starts Lookout's services with. */
export const LOOKOUT_CLI = join(import.meta.dirname, '..', 'bin', 'lookout.js');

// /proc/<pid>/stat counts in clock ticks; USER_HZ is 100 on every Linux architecture Node supports.
const CLOCK_TICKS_PER_SECOND = 100;
const KEPT_OUTPUT_CHUNKS = 200;

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A process under measurement: its CPU time and peak RSS come from /proc, so they are the kernel's figures. */
export class MeasuredProcess {
  readonly startedAt = performance.now();
  private readonly child: ChildProcess;
  private readonly output: string[] = [];

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
    // setpriv execs the command in place, so the pid measured is the command's; the kernel kills it
    // if the benchmark itself dies, which leaves no daemon behind.
    const [cmd, argv] = onPath('setpriv')
      ? ['setpriv', ['--pdeathsig', 'KILL', '--', command, ...args]]
      : [command, args];
    this.child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(this.child);
    this.child.once('exit', () => live.delete(this.child));
    const keep = (chunk: Buffer) => {
      this.output.push(String(chunk));
      if (this.output.length > KEPT_OUTPUT_CHUNKS) this.output.shift();
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Waits for a line of output that matches; returns the first capture group. */
  async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.output.join(''));
      if (match) return match[1] ?? match[0];
      if (this.exited || Date.now() > deadline) throw this.failure(`no output matching ${pattern}`);
      await delay(50);
    }
  }

  /** utime + stime of the process itself. */
  cpuSeconds(): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses; fields are counted after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  }

  peakRssMiB(): number {
    return this.statusMiB('VmHWM');
  }

  rssMiB(): number {
    return this.statusMiB('VmRSS');
  }

  /** Of the RSS, pages of mapped files. */
  rssFileMiB(): number {
    return this.statusMiB('RssFile');
  }

  private statusMiB(field: string): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kib = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!kib) throw new Error(`no ${field} for ${this.pid}`);
    return Number(kib[1]) / 1024;
  }

  /** SIGTERM, then SIGKILL if it has not gone after the grace period. */
  async stop(graceMs = 30_000): Promise<void> {
    if (this.exited) return;
    const exit = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    if ((await Promise.race([exit, delay(graceMs, 'late')])) === 'late') {
      this.child.kill('SIGKILL');
      await exit;
    }
  }

  /** The last lines the process wrote, stdout and stderr together. */
  lastLines(count = 30): string[] {
    return this.output.join('').split('\n').slice(-count);
  }

  failure(problem: string): Error {
    return new Error(`${problem}; last output:\n${this.output.join('').split('\n').slice(-30).join('\n')}`);
  }
}

/** Polls until `done` says so; the process dying or the timeout ends the wait with its output. */
export async function waitUntil(
  proc: MeasuredProcess,
  what: string,
  done: () => Promise<boolean>,
  timeoutMs: number,
  pollMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done().catch(() => false)) return;
    if (proc.exited) throw proc.failure(`exited before ${what}`);
    if (Date.now() > deadline) throw proc.failure(`timed out waiting for ${what}`);
    await delay(pollMs);
  }
}

/** What one benchmark adds to RESULTS.md under its title. */
export interface BenchmarkSection {
  title: string;
  /** Versions of what was measured against, for the machine line. */
  machine: string[];
  body: string;
}

/** The nearest-rank percentile: a value that was measured, never one between two. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A Markdown table; numbers are printed with the digits that mean something at their size. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cell = (v: string | number) => (typeof v === 'number' ? formatNumber(v) : v);
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}
