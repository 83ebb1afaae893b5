import { totalmem } from 'node:os';

/** The memory limit the process runs under (a container's cgroup limit), or undefined when there is none. */
export function memoryLimit(
  constrained = process.constrainedMemory(),
  total = totalmem(),
): number | undefined {
  return constrained > 0 && constrained < total ? constrained : undefined;
}
