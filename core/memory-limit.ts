import { totalmem } from 'node:os';

const MiB = 1024 ** 2;
const HEAP_FLAG = /^--max-(old|semi)-space-size/;

/** The memory limit the process runs under (a container's cgroup limit), or undefined when there is none. */
export function memoryLimit(
  constrained = process.constrainedMemory(),
  total = totalmem(),
): number | undefined {
  return constrained > 0 && constrained < total ? constrained : undefined;
}

/**
 * V8's heap sizes for a memory limit. V8 sizes its heap from the machine, not the container: under a
 * 128 MiB limit it would let the heap grow to 259 MiB, and the kernel kills the process first. Half the
 * limit is for the old generation; the rest is for the young one, buffers, code and Node itself. A
 * small young generation keeps short-lived garbage (most of what a log line makes) from filling it.
 */
export function heapFlags(limit: number): string[] {
  const mib = Math.floor(limit / MiB);
  const semiSpace = mib >= 512 ? 8 : mib >= 128 ? 4 : mib >= 96 ? 2 : 1;
  const oldSpace = Math.max(16, Math.floor(mib / 2) - 3 * semiSpace);
  return [`--max-old-space-size=${oldSpace}`, `--max-semi-space-size=${semiSpace}`];
}

/**
 * Memory a command keeps to when it has no limit. The sidecar runs beside every application
 * container, so its cost is multiplied by the pods: it stays lean even where nobody set a limit.
 */
export const BUDGET_WITHOUT_LIMIT: Readonly<Record<string, number>> = { sidecar: 128 * MiB };

/**
 * V8's flags for a command under a memory budget. A command that runs in every pod (one with a budget
 * without a limit) also gets `gc`, so that it gives back what it kept for reuse once idle (idle-release.ts).
 */
export function v8Flags(command: string, budget: number): string[] {
  const flags = heapFlags(budget);
  return command in BUDGET_WITHOUT_LIMIT ? [...flags, '--expose-gc'] : flags;
}

interface ProcessView {
  execPath: string;
  execArgv: readonly string[];
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
}

export interface Relaunch {
  args: string[];
  env: NodeJS.ProcessEnv;
}

/**
 * How to start this process again with heap sizes for its memory limit (or, for a command that
 * has one, its budget without a limit), or undefined when there is neither or heap sizes were
 * chosen already (on the command line or in NODE_OPTIONS: those win). glibc's allocator gets
 * two arenas unless told otherwise: with one per thread (its default) the thread pool's arenas
 * held some 7 MiB more at the sidecar's peak, for no speed.
 */
export function relaunchArguments(proc: ProcessView, limit = memoryLimit()): Relaunch | undefined {
  const command = proc.argv[2] ?? '';
  const budget = limit ?? BUDGET_WITHOUT_LIMIT[command];
  if (budget === undefined) return undefined;
  const given = [...proc.execArgv, ...(proc.env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (given.some((arg) => HEAP_FLAG.test(arg))) return undefined;
  return {
    args: [proc.execPath, ...v8Flags(command, budget), ...proc.execArgv, ...proc.argv.slice(1)],
    env: { MALLOC_ARENA_MAX: '2', ...proc.env },
  };
}
