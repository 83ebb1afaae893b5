/** The longest prefix of `text` that fits in `maxBytes` UTF-8 bytes, cut on a character boundary. */
export function utf8Prefix(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  // A UTF-16 unit never takes more than 3 UTF-8 bytes: most texts need no encoding to know they fit.
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.toString('utf8', 0, end);
}

/**
 * A message built from parts (CRI partial lines, multiline continuation lines)
 * under a byte limit. Past the limit it stops growing and reports `cut`; the
 * exact UTF-8 size is only computed once the text could possibly exceed it.
 */
export class BoundedText {
  text = '';
  cut = false;
  private bytes = -1;
  private readonly maxBytes: number;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  reset(first: string): void {
    this.cut = false;
    this.bytes = -1;
    this.text = '';
    this.append('', first);
  }

  append(separator: string, part: string): void {
    if (this.cut) return;
    const length = this.text.length + separator.length + part.length;
    if (this.bytes < 0 && length * 3 <= this.maxBytes) {
      this.text = this.text + separator + part;
      return;
    }
    if (this.bytes < 0) this.bytes = Buffer.byteLength(this.text, 'utf8');
    const added = Buffer.byteLength(separator, 'utf8') + Buffer.byteLength(part, 'utf8');
    if (this.bytes + added <= this.maxBytes) {
      this.text = this.text + separator + part;
      this.bytes += added;
      return;
    }
    const room = this.maxBytes - this.bytes - separator.length;
    if (room > 0) this.text = this.text + separator + utf8Prefix(part, room);
    this.cut = true;
  }
}
