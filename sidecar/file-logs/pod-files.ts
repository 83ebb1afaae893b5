import { posix } from 'node:path';
import type { V1Container, V1PodSpec, V1VolumeMount } from '@kubernetes/client-node';
import type { FileLogEntry, Judged } from './annotation.ts';

/** One annotation entry placed on the node: which files, in which directory, written by which container. */
export interface PodFileLog {
  /** The container that mounts the volume where the entry's files are. */
  container: string;
  /** The emptyDir volume's directory on the node: the files must really be inside it. */
  dir: string;
  /** Glob of the files on the node. */
  pattern: string;
}

/** Where the kubelet keeps a pod's emptyDir volume on the node. */
export function emptyDirPath(kubeletRoot: string, podUid: string, volume: string): string {
  return posix.join(kubeletRoot, 'pods', podUid, 'volumes', 'kubernetes.io~empty-dir', volume);
}

const GLOB_CHARS = /[*?[\]{}!]/;
const POD_UID = /^[0-9a-zA-Z][-0-9a-zA-Z]*$/;

/** A mount of the volume that can hold the entry's files, and where they are inside the volume. */
interface Candidate {
  container: string;
  mount: V1VolumeMount;
  /** The pattern relative to the volume's root. */
  inVolume: string;
  /** How deep the mount reaches into the pattern: the deeper one is the more specific. */
  reach: number;
}

/** `sub/dir` of a subPath, without `./` or a trailing slash; '' for the whole volume. */
function cleanSubPath(subPath: string | undefined): string {
  const clean = posix.normalize(subPath || '.').replace(/\/+$/, '');
  return clean === '.' ? '' : clean;
}

/**
 * Where the entry's files are in the volume if the container writes them through this mount, or
 * undefined when they are out of its sight. An absolute pattern is the container's view: it must lie
 * below the mount path, written out literally up to there. A relative one is inside the volume: it
 * must lie below the mount's subPath.
 */
function throughMount(container: V1Container, mount: V1VolumeMount, pattern: string): Candidate | undefined {
  // $(VAR) in subPathExpr is expanded by the kubelet from the container's environment: not known here.
  if (mount.subPathExpr) return undefined;
  const subPath = cleanSubPath(mount.subPath);
  // The API server refuses such a subPath; a spec read from elsewhere must not lead out of the volume either.
  if (subPath.startsWith('..') || subPath.startsWith('/')) return undefined;
  if (!pattern.startsWith('/')) {
    if (subPath && !pattern.startsWith(`${subPath}/`)) return undefined;
    return { container: container.name, mount, inVolume: pattern, reach: subPath.length };
  }
  const mountPath = mount.mountPath.replace(/\/+$/, '');
  if (!pattern.startsWith(`${mountPath}/`)) return undefined;
  const rest = pattern.slice(mountPath.length + 1);
  return {
    container: container.name,
    mount,
    inVolume: subPath ? `${subPath}/${rest}` : rest,
    reach: mountPath.length,
  };
}

/**
 * The container that writes an entry's files: among those mounting the volume where the files are,
 * writable mounts before read-only ones, then the mount reaching deepest into the pattern, then the
 * first in the pod spec (containers before init containers).
 */
function writerOf(spec: V1PodSpec, entry: FileLogEntry): Candidate | undefined {
  const containers = [...spec.containers, ...(spec.initContainers ?? [])];
  const candidates = containers.flatMap((container) =>
    (container.volumeMounts ?? [])
      .filter((mount) => mount.name === entry.volume)
      .map((mount) => throughMount(container, mount, entry.pattern))
      .filter((candidate) => candidate !== undefined),
  );
  // Array.prototype.sort is stable: equal candidates keep the pod spec's order.
  candidates.sort(
    (a, b) => Number(a.mount.readOnly ?? false) - Number(b.mount.readOnly ?? false) || b.reach - a.reach,
  );
  return candidates[0];
}

/**
 * Places the annotation's entries on the node. All or nothing, like the annotation itself: an entry
 * naming a volume that is missing or not an emptyDir, or files no container's mount shows, refuses all.
 */
export function placeFileLogs(
  spec: V1PodSpec,
  podUid: string,
  entries: readonly FileLogEntry[],
  kubeletRoot: string,
): Judged<PodFileLog[]> {
  if (!POD_UID.test(podUid)) return { ok: false, reason: `the pod uid "${podUid}" is not a uid` };
  const placed = new Map<string, PodFileLog>();
  for (const entry of entries) {
    const named = `entry "${entry.volume}:${entry.pattern}"`;
    const volume = spec.volumes?.find((v) => v.name === entry.volume);
    if (!volume) return { ok: false, reason: `${named}: the pod has no volume ${entry.volume}` };
    if (!volume.emptyDir) return { ok: false, reason: `${named}: volume ${entry.volume} is not an emptyDir` };
    const writer = writerOf(spec, entry);
    if (!writer) {
      return {
        ok: false,
        reason: `${named}: no container mounts volume ${entry.volume} where the pattern points (a mount with subPathExpr is not followed)`,
      };
    }
    const { subPath } = writer.mount;
    if (subPath && GLOB_CHARS.test(subPath)) {
      return { ok: false, reason: `${named}: the subPath of its mount has glob characters` };
    }
    const dir = emptyDirPath(kubeletRoot, podUid, entry.volume);
    const pattern = posix.join(dir, writer.inVolume);
    if (!placed.has(pattern)) placed.set(pattern, { container: writer.container, dir, pattern });
  }
  return { ok: true, value: [...placed.values()] };
}
