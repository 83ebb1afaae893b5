/**
 * DNS messages on the wire (RFC 1035): one query out, the response read
 * with its response code and every record of its three sections, each
 * printed as miekg/dns prints it (blackbox matches its regexps against
 * that text). Node's resolver hides both, so the probe speaks DNS itself.
 */
import { className, typeName } from './dns-names.ts';

export interface DnsQuery {
  id: number;
  name: string;
  type: number;
  class: number;
  recursionDesired: boolean;
}

export interface DnsRecord {
  type: number;
  /** `example.com.\t300\tIN\tA\t192.0.2.1`, as miekg/dns's RR.String(). */
  text: string;
  /** The zone serial, for SOA records. */
  serial?: number;
}

export interface DnsMessage {
  id: number;
  rcode: number;
  truncated: boolean;
  answer: DnsRecord[];
  authority: DnsRecord[];
  additional: DnsRecord[];
}

export class DnsFormatError extends Error {}

/** A name's labels, `example.com.` → `example`, `com`; `\.` and `\DDD` escapes as miekg writes them. */
function labelsOf(name: string): Buffer[] {
  const labels: Buffer[] = [];
  let current: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const char = name[i]!;
    if (char === '\\' && /^\d{3}$/.test(name.slice(i + 1, i + 4))) {
      current.push(Number(name.slice(i + 1, i + 4)));
      i += 3;
    } else if (char === '\\' && i + 1 < name.length) {
      current.push(...Buffer.from(name[++i]!));
    } else if (char === '.') {
      labels.push(Buffer.from(current));
      current = [];
    } else {
      current.push(...Buffer.from(char));
    }
  }
  if (current.length > 0) labels.push(Buffer.from(current));
  return labels.filter((label, i) => label.length > 0 || i < labels.length - 1);
}

export function encodeQuery(query: DnsQuery): Buffer {
  const labels = labelsOf(query.name);
  if (labels.some((label) => label.length === 0 || label.length > 63)) {
    throw new DnsFormatError(`query name ${JSON.stringify(query.name)} has an empty or too long label`);
  }
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.id, 0);
  header.writeUInt16BE(query.recursionDesired ? 0x0100 : 0, 2);
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(query.type, 0);
  tail.writeUInt16BE(query.class, 2);
  const name = Buffer.concat([...labels.flatMap((l) => [Buffer.from([l.length]), l]), Buffer.from([0])]);
  if (name.length > 255) throw new DnsFormatError(`query name ${JSON.stringify(query.name)} is too long`);
  return Buffer.concat([header, name, tail]);
}

/** A label as miekg/dns prints it: special characters escaped with `\`, others outside printable ASCII as `\DDD`. */
function labelText(label: Buffer): string {
  let out = '';
  for (const byte of label) {
    const char = String.fromCharCode(byte);
    if ('.;\\()"@$ '.includes(char)) out += `\\${char}`;
    else if (byte < 0x21 || byte > 0x7e) out += `\\${String(byte).padStart(3, '0')}`;
    else out += char;
  }
  return out;
}

class Reader {
  offset = 0;
  readonly message: Buffer;
  constructor(message: Buffer) {
    this.message = message;
  }

  private need(bytes: number, at = this.offset): void {
    if (at + bytes > this.message.length) throw new DnsFormatError('response is cut short');
  }

  u8(): number {
    this.need(1);
    return this.message.readUInt8(this.offset++);
  }

  u16(): number {
    this.need(2);
    this.offset += 2;
    return this.message.readUInt16BE(this.offset - 2);
  }

  u32(): number {
    this.need(4);
    this.offset += 4;
    return this.message.readUInt32BE(this.offset - 4);
  }

  bytes(length: number): Buffer {
    this.need(length);
    this.offset += length;
    return this.message.subarray(this.offset - length, this.offset);
  }

  /** A possibly compressed name; pointers may only go backwards, so a loop cannot be followed forever. */
  name(): string {
    const labels: string[] = [];
    let at = this.offset;
    let jumped = false;
    let lowestPointer = at;
    for (;;) {
      this.need(1, at);
      const length = this.message[at]!;
      if (length === 0) {
        if (!jumped) this.offset = at + 1;
        break;
      }
      if ((length & 0xc0) === 0xc0) {
        this.need(2, at);
        const target = this.message.readUInt16BE(at) & 0x3fff;
        if (target >= lowestPointer)
          throw new DnsFormatError('name compression pointer does not point backwards');
        if (!jumped) this.offset = at + 2;
        jumped = true;
        lowestPointer = target;
        at = target;
        continue;
      }
      if (length > 63) throw new DnsFormatError('label longer than 63 bytes');
      this.need(1 + length, at);
      labels.push(labelText(this.message.subarray(at + 1, at + 1 + length)));
      at += 1 + length;
    }
    return labels.length === 0 ? '.' : `${labels.join('.')}.`;
  }
}

/** A character-string as miekg prints TXT: quoted, `"` and `\` escaped, non-printable bytes as `\DDD`. */
function quoted(bytes: Buffer): string {
  let out = '';
  for (const byte of bytes) {
    if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte < 0x20 || byte > 0x7e) out += `\\${String(byte).padStart(3, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return `"${out}"`;
}

/** net.IP.String() of 16 bytes: the longest run of zero groups as `::`, IPv4-mapped as `::ffff:a.b.c.d`. */
export function ipv6Text(bytes: Buffer): string {
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${[...bytes.subarray(12)].join('.')}`;
  }
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j + 1;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** The record data in miekg's text form; types without a printer here are RFC 3597's `\# length hex`. */
function rdataText(reader: Reader, type: number, length: number): { text: string; serial?: number } {
  const end = reader.offset + length;
  const name = () => reader.name();
  switch (typeName(type)) {
    case 'A':
      return { text: [...reader.bytes(4)].join('.') };
    case 'AAAA':
      return { text: ipv6Text(reader.bytes(16)) };
    case 'NS':
    case 'CNAME':
    case 'PTR':
    case 'DNAME':
      return { text: name() };
    case 'MX':
      return { text: `${reader.u16()} ${name()}` };
    case 'SRV':
      return { text: `${reader.u16()} ${reader.u16()} ${reader.u16()} ${name()}` };
    case 'SOA': {
      const [ns, mbox] = [name(), name()];
      const [serial, refresh, retry, expire, minimum] = [
        reader.u32(),
        reader.u32(),
        reader.u32(),
        reader.u32(),
        reader.u32(),
      ];
      return { text: `${ns} ${mbox} ${serial} ${refresh} ${retry} ${expire} ${minimum}`, serial };
    }
    case 'TXT':
    case 'SPF': {
      const strings: string[] = [];
      while (reader.offset < end) strings.push(quoted(reader.bytes(reader.u8())));
      return { text: strings.join(' ') };
    }
    case 'CAA': {
      const flag = reader.u8();
      const tag = reader.bytes(reader.u8()).toString('latin1');
      return { text: `${flag} ${tag} ${quoted(reader.bytes(end - reader.offset))}` };
    }
    default:
      return { text: `\\# ${length}${length > 0 ? ` ${reader.bytes(length).toString('hex')}` : ''}` };
  }
}

function readRecord(reader: Reader): DnsRecord {
  const owner = reader.name();
  const type = reader.u16();
  const klass = reader.u16();
  const ttl = reader.u32();
  const length = reader.u16();
  const end = reader.offset + length;
  const { text, serial } = rdataText(reader, type, length);
  if (reader.offset !== end) throw new DnsFormatError(`${typeName(type)} record data has the wrong length`);
  return {
    type,
    text: `${owner}\t${ttl}\t${className(klass)}\t${typeName(type)}\t${text}`,
    ...(serial !== undefined && { serial }),
  };
}

export function decodeMessage(message: Buffer): DnsMessage {
  const reader = new Reader(message);
  const id = reader.u16();
  const flags = reader.u16();
  const counts = [reader.u16(), reader.u16(), reader.u16(), reader.u16()] as const;
  for (let i = 0; i < counts[0]; i++) {
    reader.name();
    reader.bytes(4);
  }
  const section = (count: number) => Array.from({ length: count }, () => readRecord(reader));
  return {
    id,
    rcode: flags & 0x0f,
    truncated: (flags & 0x0200) !== 0,
    answer: section(counts[1]),
    authority: section(counts[2]),
    additional: section(counts[3]),
  };
}
