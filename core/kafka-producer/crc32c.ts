/**
 * CRC-32C (Castagnoli), the checksum of Kafka's record batches. Slice-by-16:
 * sixteen tables let the loop take four 32-bit words a step, several times
 * faster than a byte at a time on the half-megabyte batches the producer
 * sends uncompressed.
 */
const POLYNOMIAL = 0x82f63b78;
const SLICES = 16;
/** Signed, so every entry stays a small integer in V8's arithmetic. */
const TABLES = makeTables();

function makeTables(): Int32Array {
  const tables = new Int32Array(SLICES * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    tables[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = tables[n]!;
    for (let t = 1; t < SLICES; t++) {
      c = tables[c & 0xff]! ^ (c >>> 8);
      tables[t * 256 + n] = c;
    }
  }
  return tables;
}

/** Words read in the machine's order match the byte tables only on little-endian machines (all Node targets in use). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The checksum of `bytes`; pass the checksum of what came before to continue it over a split buffer. */
export function crc32c(bytes: Uint8Array, previous = 0): number {
  const t = TABLES;
  let crc = ~previous;
  let i = 0;
  // Bytes one at a time up to a 4-byte boundary, then four aligned words a step.
  while (i < bytes.length && (bytes.byteOffset + i) % 4 !== 0)
    crc = t[(crc ^ bytes[i++]!) & 0xff]! ^ (crc >>> 8);
  const words = LITTLE_ENDIAN ? Math.floor((bytes.length - i) / 16) * 4 : 0;
  if (words > 0) {
    const w = new Int32Array(bytes.buffer, bytes.byteOffset + i, words);
    for (let k = 0; k < words; k += 4) {
      const a = w[k]! ^ crc;
      const b = w[k + 1]!;
      const c = w[k + 2]!;
      const d = w[k + 3]!;
      crc =
        t[15 * 256 + (a & 0xff)]! ^
        t[14 * 256 + ((a >>> 8) & 0xff)]! ^
        t[13 * 256 + ((a >>> 16) & 0xff)]! ^
        t[12 * 256 + (a >>> 24)]! ^
        t[11 * 256 + (b & 0xff)]! ^
        t[10 * 256 + ((b >>> 8) & 0xff)]! ^
        t[9 * 256 + ((b >>> 16) & 0xff)]! ^
        t[8 * 256 + (b >>> 24)]! ^
        t[7 * 256 + (c & 0xff)]! ^
        t[6 * 256 + ((c >>> 8) & 0xff)]! ^
        t[5 * 256 + ((c >>> 16) & 0xff)]! ^
        t[4 * 256 + (c >>> 24)]! ^
        t[3 * 256 + (d & 0xff)]! ^
        t[2 * 256 + ((d >>> 8) & 0xff)]! ^
        t[256 + ((d >>> 16) & 0xff)]! ^
        t[d >>> 24]!;
    }
    i += words * 4;
  }
  for (; i < bytes.length; i++) crc = t[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}
