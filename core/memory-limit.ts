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
  const semiSpace = mib >= 512 ? 8 : mib >= 256 ? 4 : mib >= 128 ? 2 : 1;
  const oldSpace = Math.max(16, Math.floor(mib / 2) - 3 * semiSpace);
  return [`--max-old-space-size=${oldSpace}`, `--max-semi-space-size=${semiSpace}`];
}

interface ProcessView {
  execPath: string;
  execArgv: readonly string[];
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
}

/**
 * The arguments to start this process again with heap sizes for its memory limit, or undefined when
 * there is no limit or heap sizes were chosen already (on the command line or in NODE_OPTIONS: those win).
 */
export function relaunchArguments(proc: ProcessView, limit = memoryLimit()): string[] | undefined {
  if (limit === undefined) return undefined;
  const given = [...proc.execArgv, ...(proc.env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (given.some((arg) => HEAP_FLAG.test(arg))) return undefined;
  return [proc.execPath, ...heapFlags(limit), ...proc.execArgv, ...proc.argv.slice(1)];
}
