import { readFileSync } from 'node:fs';

/** cgroup v2, then v1, as seen from inside a container (its own cgroup is the root of what it sees). */
const LIMIT_FILES = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];
/** cgroup v1 says "no limit" with a number near 2^63; nothing real is that large. */
const NO_LIMIT_ABOVE = 2 ** 60;

function readIfThere(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The memory limit of the container (cgroup) this process runs in, in bytes; undefined when there is
 * none or it cannot be read. Components size what they buffer by default from it.
 */
export function cgroupMemoryLimit(
  read: (path: string) => string | undefined = readIfThere,
): number | undefined {
  for (const path of LIMIT_FILES) {
    const text = read(path)?.trim();
    if (text === undefined) continue;
    const bytes = Number(text);
    // "max" (v2) or an unreadable value: no limit here.
    return Number.isSafeInteger(bytes) && bytes > 0 && bytes < NO_LIMIT_ABOVE ? bytes : undefined;
  }
  return undefined;
}
