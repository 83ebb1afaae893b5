import { crc32 } from 'node:zlib';

/**
 * A file of records (a queue segment, an outbox) is a sequence of frames, little-endian:
 *
 *   u32 payload length | u32 CRC-32 of (appendedAt + payload) | f64 appendedAt (epoch ms) | payload
 *
 * appendedAt sits right before the payload so one CRC call covers both.
 */
export const FRAME_HEADER = 16;
const CRC_FROM = 8;

/**
 * A batch as frame headers interleaved with the payloads themselves, for one
 * gathered write: the payloads are not copied.
 */
export function frameParts(payloads: readonly Buffer[], appendedAt: number): Buffer[] {
  const headers = Buffer.allocUnsafe(FRAME_HEADER * payloads.length);
  const parts: Buffer[] = [];
  payloads.forEach((payload, i) => {
    const header = headers.subarray(i * FRAME_HEADER, (i + 1) * FRAME_HEADER);
    header.writeUInt32LE(payload.length, 0);
    header.writeDoubleLE(appendedAt, 8);
    header.writeUInt32LE(crc32(payload, crc32(header.subarray(CRC_FROM))), 4);
    parts.push(header, payload);
  });
  return parts;
}

/** Encodes a batch into one buffer: one write syscall for the whole batch. */
export function encodeFrames(payloads: readonly Buffer[], appendedAt: number): Buffer {
  return Buffer.concat(frameParts(payloads, appendedAt));
}

export interface ScanResult {
  /** Offset in the buffer just past the last whole, valid frame. */
  end: number;
  /**
   * `complete`: stopped at a frame boundary (the buffer's end, or `onFrame` said stop). `short`: the frame
   * at `end` runs past the buffer and needs `need` bytes. `corrupt`: the frame
   * at `end` fails its checksum.
   */
  status: 'complete' | 'short' | 'corrupt';
  need: number;
}

/**
 * Walks the frames in `buf`, calling `onFrame` with each valid one's start
 * offset, payload length and appendedAt; stops at the first frame that is
 * incomplete or corrupt, or when `onFrame` returns false.
 */
export function scanFrames(
  buf: Buffer,
  onFrame?: (start: number, length: number, appendedAt: number) => boolean | undefined,
): ScanResult {
  let p = 0;
  while (p < buf.length) {
    if (buf.length - p < FRAME_HEADER) return { end: p, status: 'short', need: FRAME_HEADER };
    const length = buf.readUInt32LE(p);
    const end = p + FRAME_HEADER + length;
    if (end > buf.length) return { end: p, status: 'short', need: FRAME_HEADER + length };
    if (crc32(buf.subarray(p + CRC_FROM, end)) !== buf.readUInt32LE(p + 4)) {
      return { end: p, status: 'corrupt', need: 0 };
    }
    const appendedAt = buf.readDoubleLE(p + 8);
    const start = p;
    p = end;
    if (onFrame?.(start, length, appendedAt) === false) break;
  }
  return { end: p, status: 'complete', need: 0 };
}

/**
 * The last frame boundary at or before `offset`, walking headers from the
 * start of an already validated buffer: a cursor must sit on a boundary.
 */
export function boundaryAtOrBefore(buf: Buffer, offset: number): number {
  let p = 0;
  while (buf.length - p >= FRAME_HEADER) {
    const next = p + FRAME_HEADER + buf.readUInt32LE(p);
    if (next > offset || next > buf.length) break;
    p = next;
  }
  return p;
}
