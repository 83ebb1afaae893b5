/**
 * JavaScript stand-ins for the Go values a Prometheus alert template handles,
 * carrying the Go type names that Go puts into its error messages.
 */

/** A Go `int` (template number literals, `len`), `int64` (time methods) or `uint8` (a byte of a string). */
export class GoInt {
  readonly value: number;
  readonly type: 'int' | 'int64' | 'uint8';
  constructor(value: number, type: 'int' | 'int64' | 'uint8' = 'int') {
    this.value = value;
    this.type = type;
  }
}

export class GoMap {
  readonly entries: ReadonlyMap<string, GoValue>;
  readonly type: string;
  /** What a missing key yields (templates run with missingkey=zero). */
  readonly zero: GoValue;
  constructor(entries: ReadonlyMap<string, GoValue>, type: string, zero: GoValue) {
    this.entries = entries;
    this.type = type;
    this.zero = zero;
  }
}

export class GoSlice {
  readonly items: GoValue[];
  readonly type: string;
  constructor(items: GoValue[], type: string) {
    this.items = items;
    this.type = type;
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

/** The struct Prometheus hands to alert templates. */
export class GoAlertData {
  readonly labels: GoMap;
  readonly externalLabels: GoMap;
  readonly externalURL: string;
  readonly value: number;
  constructor(labels: GoMap, externalLabels: GoMap, externalURL: string, value: number) {
    this.labels = labels;
    this.externalLabels = externalLabels;
    this.externalURL = externalURL;
    this.value = value;
  }
}

/** A `*time.Time` (from `toTime`), as nanoseconds since the Unix epoch, always UTC. */
export class GoTime {
  readonly unixNanos: bigint;
  constructor(unixNanos: bigint) {
    this.unixNanos = unixNanos;
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
  | GoAlertData
  | GoTime
  | GoHTML;

export const QUERY_RESULT_TYPE = 'template.queryResult';
export const SAMPLE_TYPE = '*template.sample';
export const STRING_MAP_TYPE = 'map[string]string';
export const ALERT_DATA_TYPE =
  'struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value float64 }';

export function stringMap(labels: Readonly<Record<string, string>>): GoMap {
  return new GoMap(new Map(Object.entries(labels)), STRING_MAP_TYPE, '');
}

export function goTypeName(v: GoValue): string {
  if (v === undefined || v === null) return 'interface {}';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'float64';
  if (v instanceof GoInt) return v.type;
  if (v instanceof GoMap || v instanceof GoSlice) return v.type;
  if (v instanceof GoSample) return SAMPLE_TYPE;
  if (v instanceof GoAlertData) return ALERT_DATA_TYPE;
  if (v instanceof GoTime) return '*time.Time';
  return 'template.HTML';
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
