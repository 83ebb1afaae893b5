import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/** How much of a file's start identifies it; the first line, up to this many bytes. */
export const FINGERPRINT_MAX_BYTES = 1024;

export interface Fingerprint {
  hash: string;
  length: number;
}

function hashOf(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('base64url').slice(0, 22);
}

/**
 * The file's first line (up to FINGERPRINT_MAX_BYTES) identifies its content,
 * so a reused inode or a truncated-and-rewritten file is told apart from the
 * one a checkpoint remembers. Undefined while the first line is still
 * incomplete, unless `acceptPartial` (the writer went idle mid-line).
 */
export async function readFingerprint(
  fd: FileHandle,
  acceptPartial = false,
): Promise<Fingerprint | undefined> {
  const buf = Buffer.allocUnsafe(FINGERPRINT_MAX_BYTES);
  const { bytesRead } = await fd.read(buf, 0, FINGERPRINT_MAX_BYTES, 0);
  if (bytesRead === 0) return undefined;
  const nl = buf.indexOf(0x0a);
  let length: number;
  if (nl !== -1 && nl < bytesRead) length = nl + 1;
  else if (bytesRead === FINGERPRINT_MAX_BYTES || acceptPartial) length = bytesRead;
  else return undefined;
  return { hash: hashOf(buf.subarray(0, length)), length };
}

/** Whether the file still starts with the bytes a fingerprint was taken of. */
export async function matchesFingerprint(fd: FileHandle, expected: Fingerprint): Promise<boolean> {
  const buf = Buffer.allocUnsafe(expected.length);
  const { bytesRead } = await fd.read(buf, 0, expected.length, 0);
  return bytesRead === expected.length && hashOf(buf) === expected.hash;
}
