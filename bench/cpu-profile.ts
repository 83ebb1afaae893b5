import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { table } from './measure.ts';

const ROOT = join(import.meta.dirname, '..');

export interface ProfileEntry {
  name: string;
  selfMs: number;
  share: number;
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** The functions with the most self time in the `.cpuprofile` that `node --cpu-prof-dir=dir` wrote on exit. */
export async function profileSummary(dir: string, count = 12): Promise<ProfileEntry[] | undefined> {
  const file = (await readdir(dir)).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return undefined;
  return topSelfTime(JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile, count);
}

function topSelfTime(profile: CpuProfile, count: number): ProfileEntry[] {
  const nameOf = new Map(
    profile.nodes.map((n) => {
      const { functionName, url, lineNumber } = n.callFrame;
      const where = url.replace(`file://${ROOT}/`, '').replace(/^.*\/node_modules\//, '');
      if (!where) return [n.id, functionName || '(unnamed native code)'];
      return [n.id, `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`];
    }),
  );
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    const name = nameOf.get(id) ?? '?';
    self.set(name, (self.get(name) ?? 0) + us);
  });
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({ name, selfMs: us / 1000, share: us / total }));
}

export function profileTable(profile: ProfileEntry[]): string {
  return table(
    ['function', 'self ms', 'share'],
    profile.map((p) => [`\`${p.name}\``, p.selfMs, `${(p.share * 100).toFixed(1)}%`]),
  );
}
