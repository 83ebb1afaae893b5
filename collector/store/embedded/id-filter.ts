/** Bits per id: with 7 probes, about one false "may have" in a hundred. */
const BITS_PER_ID = 10;
const PROBES = 7;

/** Two independent 32-bit FNV-1a hashes of the UTF-16 units, for double hashing. */
function hashes(id: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ id.length;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  // An odd step reaches every bit position of a power-of-two table.
  return [a >>> 0, (b | 1) >>> 0];
}

/**
 * A Bloom filter of the event ids of one day file. A lookup by id asks each
 * day's filter and opens only the days that may hold the id, instead of
 * opening every day file (a store with a thousand days took seconds per
 * unknown id). "No" is certain; "maybe" is wrong about once in a hundred.
 */
export class IdFilter {
  private readonly bits: Uint32Array;
  private readonly mask: number;
  private added = 0;
  /** Ids it holds at its designed error rate; past this it is full. */
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
    const size = 2 ** Math.max(10, Math.ceil(Math.log2(capacity * BITS_PER_ID)));
    this.bits = new Uint32Array(size / 32);
    this.mask = size - 1;
  }

  /** False once more ids were added than it was made for: its answers are then no longer worth having. */
  add(id: string): boolean {
    const [a, b] = hashes(id);
    for (let i = 0; i < PROBES; i++) {
      const bit = (a + i * b) & this.mask;
      this.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
    return ++this.added <= this.capacity;
  }

  mayHave(id: string): boolean {
    const [a, b] = hashes(id);
    for (let i = 0; i < PROBES; i++) {
      const bit = (a + i * b) & this.mask;
      if ((this.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}
