/** Unsigned LEB128 varints, as protobuf and snappy write lengths; a negative int64 is its ten-byte two's complement. */

export function varintSize(value: number): number {
  if (value < 0) return 10;
  let size = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 128)) size++;
  return size;
}

/** Writes `value` at `at`; returns where the next byte goes. */
export function writeVarint(out: Buffer, at: number, value: number): number {
  let next = at;
  if (value < 0) {
    let rest = BigInt.asUintN(64, BigInt(value));
    for (; rest >= 0x80n; rest >>= 7n) out[next++] = Number(rest & 0x7fn) | 0x80;
    out[next++] = Number(rest);
    return next;
  }
  let rest = value;
  for (; rest >= 0x80; rest = Math.floor(rest / 128)) out[next++] = (rest & 0x7f) | 0x80;
  out[next++] = rest;
  return next;
}
