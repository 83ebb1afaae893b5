import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'vitest';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'lookout.js');

/** A `lookout` process run the way an operator runs it, so signals and kill -9 are real. */
export class LookoutProcess {
  readonly output: string[] = [];
  private child: ChildProcess | undefined;
  private readonly args: string[];
  private readonly env: NodeJS.ProcessEnv;
  private readonly uid: number | undefined;

  constructor(command: string, configFile: string, options: { env?: NodeJS.ProcessEnv; uid?: number } = {}) {
    this.args = [CLI, command, '--config', configFile];
    this.env = { ...process.env, ...options.env };
    this.uid = options.uid;
  }

  /** Starts and waits until the HTTP server answers; returns its address. */
  async start(timeoutMs = 20_000): Promise<string> {
    const from = this.output.length;
    const child = spawn(process.execPath, this.args, {
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(this.uid !== undefined && { uid: this.uid, gid: this.uid }),
    });
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => this.output.push(String(d)));
    child.stderr?.on('data', (d: Buffer) => this.output.push(String(d)));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = /API at (http:\/\/\S+?)\/ /.exec(this.output.slice(from).join(''));
      if (match) return match[1]!;
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`lookout did not start (exit ${child.exitCode}):\n${this.tail()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILL: no chance to flush or checkpoint. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** SIGHUP: the process reads its configuration file again and keeps running. */
  hangup(): void {
    this.child?.kill('SIGHUP');
  }

  /** SIGTERM and wait; returns the exit code. */
  async stop(): Promise<number | null> {
    return this.signal('SIGTERM');
  }

  private async signal(signal: NodeJS.Signals): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    child.kill(signal);
    await once(child, 'exit');
    return child.exitCode;
  }

  tail(lines = 40): string {
    return this.output.join('').split('\n').slice(-lines).join('\n');
  }
}

/**
 * A process the test owns: killed, and its directory removed, when the test
 * ends; its last log lines printed when the test failed.
 */
export function testProcess(
  test: TestContext,
  dir: string,
  command: string,
  configFile: string,
): LookoutProcess {
  const process = new LookoutProcess(command, configFile);
  test.onTestFinished(async () => {
    if (test.task.result?.state === 'fail') console.log(process.tail(60));
    await process.kill();
    await rm(dir, { recursive: true, force: true });
  });
  return process;
}

export async function writeConfig(dir: string, text: string): Promise<string> {
  const file = join(dir, 'lookout.yaml');
  await writeFile(file, text);
  return file;
}

/** Polls until check() is true; the error says what was awaited and the last value seen. */
export async function eventually<T>(
  probe: () => Promise<T>,
  check: (value: T) => boolean,
  what: string,
  timeoutMs = 60_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await probe();
      if (check(last)) return last;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
