import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { logbackLine, logbackTime, writeLines, xorshift } from './logback-lines.ts';

/** A node's container logs: what the kubelet and a CRI runtime leave under /var/log. */
export interface ContainerLogSet {
  /** Holds `pods/` and `containers/`. */
  root: string;
  /** The /var/log/containers links, one per container. */
  links: string[];
  lines: number;
  bytes: number;
}

const NAMESPACES = ['shop', 'payments', 'search', 'identity', 'logistics'];
const PODS_PER_NAMESPACE = 10;
// Container names without "-": rsyslog's rule base for the link's name cannot tell a "-" in a name from the one before the id.
const CONTAINERS = ['app', 'envoy'];
export const CONTAINER_COUNT = NAMESPACES.length * PODS_PER_NAMESPACE * CONTAINERS.length;

/**
 * `pods/<namespace>_<pod>_<uid>/<container>/0.log` for 100 containers, each linked from
 * `containers/<pod>_<namespace>_<container>-<id>.log`, holding `linesPerContainer` CRI lines
 * (`<RFC 3339 with nanoseconds> stdout F <Logback line>`, one in ten on stderr).
 */
export async function writeContainerLogs(root: string, linesPerContainer: number): Promise<ContainerLogSet> {
  const random = xorshift(0x5eed1e55);
  const hex = (n: number) => Array.from({ length: n }, () => (random() % 16).toString(16)).join('');
  const start = Date.UTC(2026, 10, 23, 3, 12);
  const links: string[] = [];
  let bytes = 0;
  await mkdir(join(root, 'containers'), { recursive: true });
  for (const namespace of NAMESPACES) {
    for (let p = 0; p < PODS_PER_NAMESPACE; p++) {
      const pod = `${namespace}-api-${hex(10)}-${hex(5)}`;
      const uid = [8, 4, 4, 4, 12].map(hex).join('-');
      for (const container of CONTAINERS) {
        const file = join(root, 'pods', `${namespace}_${pod}_${uid}`, container, '0.log');
        await mkdir(join(file, '..'), { recursive: true });
        const link = join(root, 'containers', `${pod}_${namespace}_${container}-${hex(64)}.log`);
        await symlink(file, link);
        links.push(link);
        bytes += await writeCriFile(file, linesPerContainer, start, random);
      }
    }
  }
  return { root, links, lines: links.length * linesPerContainer, bytes };
}

function writeCriFile(path: string, lines: number, start: number, random: () => number): Promise<number> {
  return writeLines(path, lines, (i) => {
    const ms = start + i * 7;
    const stream = random() % 10 === 0 ? 'stderr' : 'stdout';
    const time = `${new Date(ms).toISOString().slice(0, -1)}${String(random() % 1_000_000).padStart(6, '0')}Z`;
    return `${time} ${stream} F ${logbackLine(logbackTime(ms), random)}`;
  });
}
