// Text is cut on a character boundary wherever Lookout bounds it (a line the
// sidecar reads, a message a store keeps), so a cut never leaves half a
// character for the next reader to replace.

/** Largest length ≤ limit that does not split a UTF-8 sequence. */
export function utf8Boundary(bytes: Uint8Array, limit: number): number {
  if (limit >= bytes.length) return bytes.length;
  let end = limit;
  // Back off over continuation bytes (10xxxxxx) to the start of the cut character.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return end;
}

/** The longest prefix of `text` that fits in `maxBytes` UTF-8 bytes, cut on a character boundary. */
export function utf8Prefix(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  // A UTF-16 unit never takes more than 3 UTF-8 bytes: most texts need no encoding to know they fit.
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  return bytes.toString('utf8', 0, utf8Boundary(bytes, maxBytes));
}
