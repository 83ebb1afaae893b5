/**
 * Snappy block compression (the format, not the framed stream), as
 * Prometheus remote write wants its bodies. A plain greedy matcher over 64 KiB
 * blocks: the ratio of the reference implementation is not the point, a valid
 * and reasonably small body is.
 */

import { writeVarint } from './varint.ts';

const BLOCK_BYTES = 65_536;
const HASH_BITS = 14;
const MIN_MATCH = 4;

export function snappyCompress(input: Uint8Array): Buffer {
  // The format's own bound on the compressed size (short matches between long literals can exceed the input).
  const out = Buffer.allocUnsafe(32 + input.length + Math.ceil(input.length / 6));
  const source = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  let at = writeVarint(out, 0, input.length);
  const table = new Int32Array(1 << HASH_BITS);
  for (let start = 0; start < input.length; start += BLOCK_BYTES) {
    at = compressBlock(source, start, Math.min(start + BLOCK_BYTES, input.length), table, out, at);
  }
  return out.subarray(0, at);
}

function compressBlock(
  src: Buffer,
  start: number,
  end: number,
  table: Int32Array,
  out: Buffer,
  at: number,
): number {
  table.fill(-1);
  let literalStart = start;
  let i = start;
  while (i + MIN_MATCH <= end) {
    const word = src.readUInt32LE(i);
    const slot = Math.imul(word, 0x1e35a7bd) >>> (32 - HASH_BITS);
    const candidate = table[slot]!;
    table[slot] = i;
    if (candidate < 0 || src.readUInt32LE(candidate) !== word) {
      i++;
      continue;
    }
    let length = MIN_MATCH;
    while (i + length < end && src[candidate + length] === src[i + length]) length++;
    at = writeLiteral(src, literalStart, i, out, at);
    at = writeCopy(i - candidate, length, out, at);
    i += length;
    literalStart = i;
  }
  return writeLiteral(src, literalStart, end, out, at);
}

function writeLiteral(src: Buffer, from: number, to: number, out: Buffer, at: number): number {
  const length = to - from;
  if (length === 0) return at;
  const n = length - 1;
  if (n < 60) {
    out[at++] = n << 2;
  } else {
    const bytes = n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4;
    out[at++] = (59 + bytes) << 2;
    out.writeUIntLE(n, at, bytes);
    at += bytes;
  }
  src.copy(out, at, from, to);
  return at + length;
}

/** Offsets stay below 64 KiB (matches are within a block), so the 1- and 2-byte-offset forms suffice. */
function writeCopy(offset: number, length: number, out: Buffer, at: number): number {
  let left = length;
  while (left >= 68) {
    at = writeCopy2(offset, 64, out, at);
    left -= 64;
  }
  // Keep at least 4 for the last piece, the shortest a 1-byte-offset copy holds.
  if (left > 64) {
    at = writeCopy2(offset, 60, out, at);
    left -= 60;
  }
  if (left < 12 && offset < 2048) {
    out[at++] = 1 | ((left - 4) << 2) | ((offset >> 8) << 5);
    out[at++] = offset & 0xff;
    return at;
  }
  return writeCopy2(offset, left, out, at);
}

function writeCopy2(offset: number, length: number, out: Buffer, at: number): number {
  out[at++] = 2 | ((length - 1) << 2);
  out.writeUInt16LE(offset, at);
  return at + 2;
}
