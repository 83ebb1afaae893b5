import { createHash } from 'node:crypto';
import type { Labels } from '../types.ts';

/** An alert's identity: a hash of its labels in name order, the same whatever order they came in. */
export function labelsFingerprint(labels: Labels): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((name) => [name, labels[name]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}
