import { xxhash64 } from './xxhash64.ts';

const NS_PER_MS = 1_000_000n;

/**
 * Prometheus's label-set hash of {file, name}: each label's name and value
 * followed by a 0xff byte, labels sorted by name ("file" before "name").
 */
function groupHash(file: string, name: string): bigint {
  const encoder = new TextEncoder();
  const parts = [encoder.encode('file'), encoder.encode(file), encoder.encode('name'), encoder.encode(name)];
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
    bytes[at++] = 0xff;
  }
  return xxhash64(bytes);
}

/**
 * The group's evaluation slot at or before `nowMs`, as Prometheus's
 * `EvalTimestamp` computes it: slots are `interval` apart, shifted from the
 * perfect multiples by the group's hash modulo the interval so groups spread
 * over the interval. Prometheus works in nanoseconds; the result is
 * truncated to the millisecond, as Prometheus truncates it for queries.
 */
export function evalTimestamp(file: string, name: string, intervalMs: number, nowMs: number): number {
  const interval = BigInt(intervalMs) * NS_PER_MS;
  const offset = groupHash(file, name) % interval;
  const adjusted = BigInt(nowMs) * NS_PER_MS - offset;
  const next = adjusted - (adjusted % interval) + offset;
  return Number(next / NS_PER_MS);
}
