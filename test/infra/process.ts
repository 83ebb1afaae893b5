import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { onPath } from './exec.ts';
import { tailLines } from './log-tail.ts';

export interface ServerSpec {
  /** Short name used for the log file and in errors. */
  name: string;
  command: string;
  args: string[];
  /** Working directory and home of the log file; deleted by close(). */
  runDir: string;
  env?: NodeJS.ProcessEnv;
  /** Resolves true once the server answers; thrown errors count as "not yet". */
  ready: () => Promise<boolean>;
  readyTimeoutMs: number;
  /** How long stop() waits after SIGTERM before it uses SIGKILL. */
  stopGraceMs?: number;
}

/**
 * A running server. stop(), kill() and start() keep ports and data, so a test can take a server away for a
 * while and bring it back as it was; close() stops it for good and deletes its run directory.
 */
export interface ServerProcess {
  readonly name: string;
  readonly runDir: string;
  readonly logFile: string;
  isRunning(): boolean;
  start(): Promise<void>;
  /** SIGTERM, then SIGKILL once the grace period is over. */
  stop(): Promise<void>;
  /** SIGKILL: a crash, not a shutdown. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const READY_POLL_MS = 250;
const READY_PROBE_TIMEOUT_MS = 10_000;
const KILL_WAIT_MS = 10_000;

// Last line of defence against orphans when the test runner exits without a teardown: only synchronous
// work is possible in an 'exit' handler, so kill the process groups and drop the run directories.
const liveChildren = new Set<ChildProcess>();
const openRunDirs = new Set<string>();
process.once('exit', () => {
  for (const child of liveChildren) signalGroup(child, 'SIGKILL');
  for (const dir of openRunDirs) rmSync(dir, { recursive: true, force: true });
});

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    // Negative pid: the whole group, which includes the JVM a launcher script started (Elasticsearch).
    process.kill(-child.pid, signal);
  } catch {}
}

/**
 * The child gets SIGKILL from the kernel when this process dies, even by SIGKILL, where no exit handler
 * runs. setpriv is part of util-linux; where it is missing the exit handler above has to do.
 */
function withParentDeathSignal(command: string, args: string[]): [string, string[]] {
  return onPath('setpriv') ? ['setpriv', ['--pdeathsig', 'KILL', '--', command, ...args]] : [command, args];
}

function promiseWithTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([promise, delay(ms, undefined, { ref: false })]);
}

/** Spawns the server and waits until it is ready; throws with the log tail if it never gets there. */
export async function launchServer(spec: ServerSpec): Promise<ServerProcess> {
  const logFile = path.join(spec.runDir, `${spec.name}.log`);
  const stopGraceMs = spec.stopGraceMs ?? 20_000;
  let child: ChildProcess | undefined;
  let exited: Promise<string> = Promise.resolve('not started');
  let exitStatus: string | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  // One lifecycle change at a time: a stop racing a start must not leave an untracked process behind.
  const serially = <T>(operation: () => Promise<T>): Promise<T> => {
    const next = queue.then(operation, operation);
    queue = next.catch(() => {});
    return next;
  };

  const logTail = (): string => {
    try {
      return tailLines(readFileSync(logFile, 'utf8'));
    } catch {
      return '(no log)';
    }
  };

  const spawnChild = (): void => {
    const log = openSync(logFile, 'a');
    writeSync(log, `\n=== ${new Date().toISOString()} ${spec.command} ${spec.args.join(' ')}\n`);
    const [command, args] = withParentDeathSignal(spec.command, spec.args);
    const spawned = spawn(command, args, {
      cwd: spec.runDir,
      env: spec.env ?? process.env,
      stdio: ['ignore', log, log],
      detached: true,
    });
    closeSync(log);
    liveChildren.add(spawned);
    exitStatus = undefined;
    exited = new Promise((resolve) => {
      const done = (status: string) => {
        exitStatus ??= status;
        liveChildren.delete(spawned);
        resolve(exitStatus);
      };
      spawned.once('exit', (code, signal) => done(signal ? `signal ${signal}` : `exit code ${code}`));
      spawned.once('error', (err) => done(`spawn error: ${err.message}`));
    });
    child = spawned;
  };

  const failure = (problem: string): Error =>
    new Error(`${spec.name} ${problem}. Last lines of its log:\n${logTail()}`);

  const waitReady = async (): Promise<void> => {
    const deadline = Date.now() + spec.readyTimeoutMs;
    while (Date.now() < deadline) {
      if (exitStatus) throw failure(`exited (${exitStatus}) before it was ready`);
      const ready = await promiseWithTimeout(
        spec.ready().catch(() => false),
        READY_PROBE_TIMEOUT_MS,
      );
      if (ready) return;
      await Promise.race([delay(READY_POLL_MS), exited]);
    }
    throw failure(`was not ready after ${Math.round(spec.readyTimeoutMs / 1000)}s`);
  };

  const signalAndWait = async (signal: NodeJS.Signals, graceMs: number): Promise<void> => {
    const running = child;
    if (!running) return;
    if (!exitStatus) {
      signalGroup(running, signal);
      const status = await promiseWithTimeout(exited, graceMs);
      if (status === undefined) {
        signalGroup(running, 'SIGKILL');
        await exited;
      }
    }
    // The group leader may be gone while something it started is still alive.
    signalGroup(running, 'SIGKILL');
    child = undefined;
  };

  const start = async (): Promise<void> => {
    if (child && !exitStatus) return;
    // After a crash of its own the leader is gone, but not necessarily all it started.
    if (child) signalGroup(child, 'SIGKILL');
    spawnChild();
    try {
      await waitReady();
    } catch (err) {
      await signalAndWait('SIGKILL', KILL_WAIT_MS);
      throw err;
    }
  };

  const stop = () => serially(() => signalAndWait('SIGTERM', stopGraceMs));

  const close = () =>
    serially(async () => {
      await signalAndWait('SIGTERM', stopGraceMs);
      await rm(spec.runDir, { recursive: true, force: true });
      openRunDirs.delete(spec.runDir);
    });

  openRunDirs.add(spec.runDir);
  try {
    await start();
  } catch (err) {
    await close();
    throw err;
  }

  return {
    name: spec.name,
    runDir: spec.runDir,
    logFile,
    isRunning: () => child !== undefined && !exitStatus,
    start: () => serially(start),
    stop,
    kill: () => serially(() => signalAndWait('SIGKILL', KILL_WAIT_MS)),
    restart: () =>
      serially(async () => {
        await signalAndWait('SIGTERM', stopGraceMs);
        await start();
      }),
    close,
    [Symbol.asyncDispose]: close,
  };
}
