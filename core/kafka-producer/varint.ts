/**
 * Kafka's varints (record fields): zigzag, then seven bits a byte, low first.
 * Only 32-bit values are written: lengths and offset deltas.
 */
export function zigzag(value: number): number {
  return ((value << 1) ^ (value >> 31)) >>> 0;
}

/** Bytes of an already zigzagged value. */
export function varintSize(zigzagged: number): number {
  if (zigzagged < 0x80) return 1;
  if (zigzagged < 0x4000) return 2;
  if (zigzagged < 0x200000) return 3;
  if (zigzagged < 0x10000000) return 4;
  return 5;
}

/** Writes a value (not zigzagged) and returns the offset after it. */
export function writeVarint(target: Buffer, offset: number, value: number): number {
  let rest = zigzag(value);
  while (rest >= 0x80) {
    target[offset++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  target[offset++] = rest;
  return offset;
}
