import { OWNED_FIELDS } from './log-record.ts';

/**
 * The canonical shape of a record: every dotted name expanded into nesting
 * (`{"kubernetes.namespace": "a"}` is `{"kubernetes": {"namespace": "a"}}`),
 * so each field has one place and every check reads what the stores read.
 * Elasticsearch expands dotted names the same way, and when a record names a
 * field both ways it indexes both values: a check that read one of them could
 * be walked around with the other. Such a record is refused instead.
 */

type Fields = Record<string, unknown>;

export interface ShapeLimits {
  /** Objects and arrays nested deeper than this (a dotted name nests too) are beyond the limits. */
  maxDepth: number;
  /** Fields (object keys at any depth, once expanded) beyond this are beyond the limits. */
  maxFields: number;
}

/** Why a record cannot be given its canonical shape, naming the field. */
export class ShapeError extends Error {}

/** The record is deeper or wider than the limits: the record's text is kept instead (see readRecord). */
class Overflow {
  readonly reason: string;
  constructor(reason: string) {
    this.reason = reason;
  }
}

export type Shaped = { doc: Fields; overflow?: undefined } | { doc?: undefined; overflow: string };

export function isFields(value: unknown): value is Fields {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const OWNED = new Set(OWNED_FIELDS);

/** A top-level key that is, or is under, one of the fields Lookout owns. */
export function isOwnedKey(key: string): boolean {
  const dot = key.indexOf('.');
  return OWNED.has(dot < 0 ? key : key.slice(0, dot));
}

/**
 * The canonical shape of a parsed record, or why it is beyond the limits.
 * Objects without dotted names are kept as they are (most of a record: the
 * copy and its serialisation would cost more than parsing it); others are
 * rebuilt, so `record` must not be used afterwards. `keep` picks the
 * top-level keys to shape. Throws ShapeError when a field is given twice with
 * different values or as both an object and a value, or has a name with an
 * empty part.
 */
export function canonicalShape(record: Fields, limits: ShapeLimits, keep?: (key: string) => boolean): Shaped {
  const shaper = new Shaper(limits);
  try {
    if (!keep) return { doc: shaper.object(record, 1) };
    const kept: Fields = {};
    for (const key of Object.keys(record)) if (keep(key)) shaper.place(kept, key, record[key], 1);
    return { doc: kept };
  } catch (err) {
    if (err instanceof Overflow) return { overflow: err.reason };
    throw err;
  }
}

class Shaper {
  private readonly limits: ShapeLimits;
  private fields = 0;
  /** The names leading to the field being placed, for errors: building every path would cost on each field. */
  private readonly trail: string[] = [];

  constructor(limits: ShapeLimits) {
    this.limits = limits;
  }

  /** `source` in canonical shape: itself (its values shaped in place) when no key of it has a dot. */
  object(source: Fields, depth: number): Fields {
    const keys = Object.keys(source);
    if (keys.some(hasDot)) {
      const out: Fields = {};
      for (const key of keys) this.place(out, key, source[key], depth);
      return out;
    }
    for (const key of keys) {
      this.count();
      const value = source[key];
      if (value === null || typeof value !== 'object') continue;
      this.trail.push(key);
      const shaped = this.value(value, depth);
      if (shaped !== value) setOwn(source, key, shaped);
      this.trail.pop();
    }
    return source;
  }

  /** Puts `value` at `key` (a dotted key is a path) inside `holder`, an object `depth` deep. */
  place(holder: Fields, key: string, value: unknown, depth: number): void {
    const mark = this.trail.length;
    let last = key;
    if (hasDot(key)) {
      const parts = key.split('.');
      if (parts.includes('')) this.fail(mark, key, 'has an empty part in its name');
      last = parts.pop()!;
      for (const part of parts) {
        this.trail.push(part);
        holder = this.child(holder, part, ++depth);
      }
    }
    this.trail.push(last);
    const existing = own(holder, last);
    if (existing === undefined) {
      this.count();
      setOwn(holder, last, this.value(value, depth));
    } else if (isFields(existing) && isFields(value)) {
      for (const inner of Object.keys(value)) this.place(existing, inner, value[inner], depth + 1);
    } else if (isFields(existing) || isFields(value)) {
      this.fail(mark, key, 'is both an object and a value');
    } else if (existing !== value || Array.isArray(value)) {
      this.fail(mark, key, 'is given twice with different values (dotted and nested)');
    }
    this.trail.length = mark;
  }

  /** The object at `part` of `holder`, made when missing. */
  private child(holder: Fields, part: string, depth: number): Fields {
    const existing = own(holder, part);
    if (isFields(existing)) return existing;
    if (existing !== undefined) this.fail(this.trail.length - 1, part, 'is both an object and a value');
    this.deeper(depth);
    this.count();
    const made: Fields = {};
    setOwn(holder, part, made);
    return made;
  }

  /** `value` in canonical shape; it sits in an object `depth` deep. */
  private value(value: unknown, depth: number): unknown {
    if (value === null || typeof value !== 'object') return value;
    this.deeper(depth + 1);
    if (!Array.isArray(value)) return this.object(value as Fields, depth + 1);
    for (let i = 0; i < value.length; i++) value[i] = this.value(value[i], depth + 1);
    return value;
  }

  private deeper(depth: number): void {
    if (depth > this.limits.maxDepth) throw new Overflow(`nested deeper than ${this.limits.maxDepth} levels`);
  }

  private count(): void {
    if (++this.fields > this.limits.maxFields)
      throw new Overflow(`more than ${this.limits.maxFields} fields`);
  }

  private fail(mark: number, key: string, why: string): never {
    const name = [...this.trail.slice(0, mark), key].join('.');
    throw new ShapeError(`field ${JSON.stringify(name)} ${why}`);
  }
}

/** An empty name is refused like a dotted one with an empty part: Elasticsearch takes neither. */
function hasDot(key: string): boolean {
  return key === '' || key.includes('.');
}

/** A field of an object, never one it inherits (`constructor`, `__proto__`). */
function own(holder: Fields, key: string): unknown {
  return Object.hasOwn(holder, key) ? holder[key] : undefined;
}

/** Sets a field, even one named `__proto__`, which plain assignment would turn into a prototype change. */
function setOwn(holder: Fields, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(holder, key, { value, enumerable: true, writable: true, configurable: true });
  else holder[key] = value;
}

type FieldType = 'string' | 'number' | 'boolean';

/**
 * Fields the stores derive something from (a key, an index, a stream, a
 * namespace scope, a flag) beside `@timestamp` and `event.id`: each holds one
 * value of its type when present, and the objects above it are objects, so
 * no store reads an array of namespaces or a second value where a check read
 * the first.
 */
const DERIVED_FIELDS = Object.entries({
  message: 'string',
  'log.level': 'string',
  'log.offset': 'number',
  'log.file.path': 'string',
  'kubernetes.namespace': 'string',
  'kubernetes.pod.name': 'string',
  'kubernetes.pod.uid': 'string',
  'kubernetes.container.name': 'string',
  'kubernetes.node.name': 'string',
  'host.name': 'string',
  'service.name': 'string',
  'event.id': 'string',
  'lookout.truncated': 'boolean',
  'lookout.parse_error': 'string',
} satisfies Record<string, FieldType>).map(([path, type]) => ({ parts: path.split('.'), type }));

/** Throws ShapeError naming the first derived field of a canonical record that breaks its rule. */
export function checkDerivedFields(doc: Fields): void {
  for (const { parts, type } of DERIVED_FIELDS) {
    let holder: Fields = doc;
    for (let i = 0; i < parts.length; i++) {
      const value = own(holder, parts[i]!);
      if (value === undefined) break;
      const name = () => JSON.stringify(parts.slice(0, i + 1).join('.'));
      if (i < parts.length - 1) {
        if (!isFields(value)) throw new ShapeError(`field ${name()} must be an object`);
        holder = value;
      } else if (typeof value !== type) {
        throw new ShapeError(`field ${name()} must be a ${type}`);
      } else if (type === 'number' && !(Number.isSafeInteger(value) && (value as number) >= 0)) {
        throw new ShapeError(`field ${name()} must be a whole number from 0 up`);
      }
    }
  }
}
