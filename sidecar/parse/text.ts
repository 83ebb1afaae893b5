import { utf8Prefix } from '../../core/utf8.ts';

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
