/**
 * JavaScript stand-ins for the Go values Prometheus's alert templates and
 * Alertmanager's notification templates handle, carrying the Go type names
 * that Go puts into its error messages.
 */
import type { TemplateFunction } from './functions.ts';
import { type GoLocation, UTC } from './go-location.ts';

/** Methods of a value of a named Go type, bound to it: `.Labels.SortedPairs`. */
export type GoMethods = ReadonlyMap<string, TemplateFunction>;

const NO_METHODS: GoMethods = new Map();

/**
 * A Go `int` (template number literals, `len`), `int64` (time methods),
 * `uint8` (a byte of a string) or `time.Duration` (nanoseconds, printed as "1h2m3s").
 */
export class GoInt {
  readonly value: number;
  readonly type: GoIntType;
  constructor(value: number, type: GoIntType = 'int') {
    this.value = value;
    this.type = type;
  }
}

export type GoIntType = 'int' | 'int64' | 'uint8' | 'time.Duration';

export class GoMap {
  readonly entries: ReadonlyMap<string, GoValue>;
  readonly type: string;
  /** What a missing key yields (templates run with missingkey=zero). */
  readonly zero: GoValue;
  readonly methods: GoMethods;
  constructor(entries: ReadonlyMap<string, GoValue>, type: string, zero: GoValue, methods = NO_METHODS) {
    this.entries = entries;
    this.type = type;
    this.zero = zero;
    this.methods = methods;
  }
}

export class GoSlice {
  readonly items: GoValue[];
  readonly type: string;
  readonly methods: GoMethods;
  constructor(items: GoValue[], type: string, methods = NO_METHODS) {
    this.items = items;
    this.type = type;
    this.methods = methods;
  }
}

/** A Go struct: its exported fields in declaration order (fmt prints them in that order). */
export class GoStruct {
  readonly type: string;
  readonly fields: ReadonlyMap<string, GoValue>;
  readonly methods: GoMethods;
  constructor(type: string, fields: ReadonlyMap<string, GoValue>, methods = NO_METHODS) {
    this.type = type;
    this.fields = fields;
    this.methods = methods;
  }
}

/** Prometheus's `*template.sample`: one element of a `query` result. */
export class GoSample {
  readonly labels: GoMap;
  readonly value: number;
  constructor(labels: GoMap, value: number) {
    this.labels = labels;
    this.value = value;
  }
}

/**
 * A `time.Time` (Alertmanager's alert times, `tz`) or a `*time.Time` (from
 * Prometheus's `toTime`): nanoseconds since the Unix epoch, shown in its location.
 */
export class GoTime {
  readonly unixNanos: bigint;
  readonly location: GoLocation;
  readonly type: 'time.Time' | '*time.Time';
  constructor(unixNanos: bigint, location = UTC, type: 'time.Time' | '*time.Time' = '*time.Time') {
    this.unixNanos = unixNanos;
    this.location = location;
    this.type = type;
  }
}

/** html/template.HTML (from `safeHtml`): a string of a distinct type. */
export class GoHTML {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** undefined is Go's invalid reflect.Value ("<no value>"); null is a nil interface or pointer. */
export type GoValue =
  | undefined
  | null
  | string
  | boolean
  | number
  | GoInt
  | GoMap
  | GoSlice
  | GoSample
  | GoStruct
  | GoTime
  | GoHTML;

export const QUERY_RESULT_TYPE = 'template.queryResult';
export const SAMPLE_TYPE = '*template.sample';
export const STRING_MAP_TYPE = 'map[string]string';
export const ALERT_DATA_TYPE =
  'struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value float64 }';

/** A struct from its fields in declaration order. */
export function goStruct(
  type: string,
  fields: Readonly<Record<string, GoValue>>,
  methods?: GoMethods,
): GoStruct {
  return new GoStruct(type, new Map(Object.entries(fields)), methods);
}

export function stringMap(labels: Readonly<Record<string, string>>): GoMap {
  return new GoMap(new Map(Object.entries(labels)), STRING_MAP_TYPE, '');
}

export function goTypeName(v: GoValue): string {
  if (v === undefined || v === null) return 'interface {}';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'float64';
  if (v instanceof GoInt) return v.type;
  if (v instanceof GoMap || v instanceof GoSlice || v instanceof GoStruct || v instanceof GoTime)
    return v.type;
  if (v instanceof GoSample) return SAMPLE_TYPE;
  return 'template.HTML';
}

/** The method `name` a map, slice or struct of a named type has, bound to it. */
export function ownMethod(receiver: GoValue, name: string): TemplateFunction | undefined {
  if (receiver instanceof GoMap || receiver instanceof GoSlice || receiver instanceof GoStruct) {
    return receiver.methods.get(name);
  }
  return undefined;
}

export function sortedKeys(m: GoMap): string[] {
  return [...m.entries.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Go's template truth: empty and zero values are false; `ok` false when Go cannot tell. */
export function truth(v: GoValue): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (v instanceof GoInt) return v.value !== 0;
  if (v instanceof GoMap) return v.entries.size > 0;
  if (v instanceof GoSlice) return v.items.length > 0;
  if (v instanceof GoHTML) return v.text.length > 0;
  return true;
}

const encoder = new TextEncoder();
/** UTF-8 length without encoding (called for every piece of template output). */
export function utf8Length(s: string): number {
  let bytes = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A surrogate pair is two units and four bytes.
    if (c >= 0xd800 && c < 0xe000) bytes += 1;
    else if (c >= 0x800) bytes += 2;
    else if (c >= 0x80) bytes += 1;
  }
  return bytes;
}
export function utf8Bytes(s: string): Uint8Array {
  return encoder.encode(s);
}
