import { z } from 'zod';
import { regex } from '../../core/config-types.ts';
import { type JsonLimits, jsonBeyondLimits } from '../../core/record/json-depth.ts';
import { OWNED_FIELDS } from '../../core/record/log-record.ts';
import type { LogEvent } from '../types.ts';
import { nginxJsonFields, parseCombined } from './access.ts';
import { detectLevel, normalizeLevel } from './level.ts';
import { parseLogfmt } from './logfmt.ts';
import { nest } from './object.ts';
import { type TimestampConfig, TimestampParser } from './timestamp.ts';

type Fields = Record<string, unknown>;

const keyList = (defaults: string[]) =>
  z
    .union([z.string().min(1), z.array(z.string().min(1))])
    .transform((value) => (typeof value === 'string' ? [value] : value))
    .default(defaults);

const target = z
  .string()
  .default('')
  .refine((value) => !OWNED_FIELDS.includes(value.split('.')[0]!), {
    error: (issue) => `${JSON.stringify(issue.input)} is a field the sidecar sets; choose another target`,
  });

const TIME_KEYS = ['time', 'ts', 'timestamp', '@timestamp'];
const LEVEL_KEYS = ['level', 'lvl', 'severity', 'log.level'];

const fieldOptions = {
  /** Where parsed fields go: '' for the record's root, else a key (dotted for deeper). */
  target,
  /** Fields whose string value becomes the message (the first present wins). */
  messageKey: keyList([]),
  /** Fields the event time is read from. */
  timeKey: keyList(TIME_KEYS),
  /** Fields the level is read from. */
  levelKey: keyList(LEVEL_KEYS),
};

/**
 * Elasticsearch's own mapping limits (index.mapping.depth.limit,
 * index.mapping.total_fields.limit): a line past them would be refused there.
 */
const maxFields = z.number().int().positive().default(1000);
const jsonLimits = { maxDepth: z.number().int().positive().default(20), maxFields };

export const parserSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('auto'), ...fieldOptions, ...jsonLimits }),
  z.strictObject({ type: z.literal('json'), ...fieldOptions, ...jsonLimits }),
  z.strictObject({ type: z.literal('logfmt'), ...fieldOptions, maxFields }),
  z.strictObject({
    type: z.literal('regex'),
    /** Named groups become fields; `time`, `level` and `message` groups are used as such. */
    pattern: regex(),
    ...fieldOptions,
    messageKey: keyList(['message']),
    timeKey: keyList(['time']),
    levelKey: keyList(['level']),
  }),
  /** nginx's and Apache's common and combined access logs, in ECS fields; the time from the line. */
  z.strictObject({ type: z.literal('combined'), target }),
  /** JSON access logs whose keys are nginx's variable names (`log_format … escape=json`). */
  z.strictObject({ type: z.literal('nginx-json'), target, ...jsonLimits }),
  z.strictObject({ type: z.literal('none') }),
]);
export type ParserConfig = z.output<typeof parserSchema>;

/** One parser or a list tried in order (the first that matches wins). */
export const parsersSchema = z
  .union([parserSchema, z.array(parserSchema).min(1)])
  .transform((value) => (Array.isArray(value) ? value : [value]))
  .prefault([{ type: 'auto' }]);

export interface Key {
  name: string;
  /** The dotted name split, for nested objects; undefined for plain names. */
  path?: string[];
}

interface Parser {
  readonly structured: boolean;
  /** Reads the time in the parser's own formats, whatever the input's `timestamp.formats` say. */
  readonly time?: TimestampParser;
  readonly target?: string[];
  readonly messageKey: Key[];
  readonly timeKey: Key[];
  readonly levelKey: Key[];
  /** Fields; null for a line without structure that is fine as plain text; or why it failed. */
  parse(text: string): Fields | null | string;
}

/**
 * The object a JSON line holds, without throwing for lines that are clearly
 * not one; why, when it is one but beyond the limits.
 */
function jsonObject(text: string, limits: JsonLimits): Fields | string | undefined {
  let first = 0;
  while (text.charCodeAt(first) === 32 || text.charCodeAt(first) === 9) first++;
  if (text.charCodeAt(first) !== 123) return undefined;
  let last = text.length - 1;
  while (last > first && text.charCodeAt(last) <= 32) last--;
  if (text.charCodeAt(last) !== 125) return undefined;
  const beyond = jsonBeyondLimits(text, limits);
  if (beyond !== undefined) return `json: ${beyond}`;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Fields)
      : undefined;
  } catch {
    return undefined;
  }
}

const targetPath = (target: string) => (target ? target.split('.') : undefined);

export const keys = (names: readonly string[]): Key[] =>
  names.map((name) => (name.includes('.') ? { name, path: name.split('.') } : { name }));

/** Access logs carry their time in nginx's and Apache's format, ISO 8601 or epoch seconds (`$msec`). */
const accessTime = (timezone: string) => ({
  messageKey: [],
  timeKey: keys(['time']),
  levelKey: [],
  time: new TimestampParser({ formats: ['nginx', 'iso8601', 'epoch'], timezone }),
});

function compile(config: ParserConfig, timezone: string): Parser {
  if (config.type === 'none') {
    return { structured: false, messageKey: [], timeKey: [], levelKey: [], parse: () => null };
  }
  if (config.type === 'combined' || config.type === 'nginx-json') {
    const common = { ...accessTime(timezone), target: targetPath(config.target) };
    if (config.type === 'combined') {
      return { ...common, structured: true, parse: (text) => parseCombined(text) ?? 'combined: no match' };
    }
    return {
      ...common,
      structured: true,
      parse: (text) => {
        const object = jsonObject(text, config) ?? 'nginx-json: not a JSON object';
        return typeof object === 'string' ? object : nginxJsonFields(object);
      },
    };
  }
  const common = {
    target: targetPath(config.target),
    messageKey: keys(config.messageKey),
    timeKey: keys(config.timeKey),
    levelKey: keys(config.levelKey),
  };
  switch (config.type) {
    case 'auto':
      return { ...common, structured: true, parse: (text) => jsonObject(text, config) ?? null };
    case 'json':
      return {
        ...common,
        structured: true,
        parse: (text) => jsonObject(text, config) ?? 'json: not a JSON object',
      };
    case 'logfmt':
      return {
        ...common,
        structured: true,
        parse: (text) => {
          const fields = parseLogfmt(text);
          if (!fields) return 'logfmt: no key=value pairs';
          return Object.keys(fields).length > config.maxFields
            ? `logfmt: more than ${config.maxFields} fields`
            : fields;
        },
      };
    case 'regex': {
      const pattern = new RegExp(config.pattern);
      return {
        ...common,
        structured: false,
        parse: (text) => (pattern.exec(text)?.groups as Fields | undefined) ?? 'regex: no match',
      };
    }
  }
}

// Where find() found its value, so that a value used for the record can be
// cleared from the fields without allocating a result object per lookup.
let foundIn: Fields = {};
let foundKey = '';

/** The first of the keys present with a value, a dotted key read whole first, then through nested objects. */
export function find(fields: Fields, list: readonly Key[]): unknown {
  for (const key of list) {
    const value = fields[key.name];
    if (value !== undefined && value !== null) {
      foundIn = fields;
      foundKey = key.name;
      return value;
    }
    if (!key.path) continue;
    let holder: unknown = fields;
    const last = key.path.length - 1;
    for (let i = 0; i < last && holder !== null && typeof holder === 'object'; i++) {
      holder = (holder as Fields)[key.path[i]!];
    }
    if (holder === null || typeof holder !== 'object') continue;
    const nested = (holder as Fields)[key.path[last]!];
    if (nested !== undefined && nested !== null) {
      foundIn = holder as Fields;
      foundKey = key.path[last]!;
      return nested;
    }
  }
  return undefined;
}

/**
 * Drops the field find() returned; it now lives in an ECS field. Set to
 * undefined rather than deleted: JSON.stringify skips it either way, and
 * delete would slow the object down for the serialization that follows.
 */
function consumeFound(): void {
  foundIn[foundKey] = undefined;
}

/**
 * Parses events in place: fields, then time, level and message from them, or
 * from the start of a plain line. A parser that fails leaves the raw message
 * and says why in `parseError`.
 */
export class EventParser {
  private readonly parsers: Parser[];
  private readonly time: TimestampParser;
  private readonly timeFromLine: boolean;
  private readonly maxFutureSkew: number;

  constructor(parsers: readonly ParserConfig[], timestamp: TimestampConfig) {
    this.parsers = parsers.map((parser) => compile(parser, timestamp.timezone));
    this.time = new TimestampParser(timestamp);
    this.timeFromLine = timestamp.fromLine;
    this.maxFutureSkew = timestamp.maxFutureSkew;
  }

  apply(event: LogEvent): void {
    const text = event.message;
    let parser: Parser | undefined;
    let fields: Fields | null = null;
    let error: string | undefined;
    for (const candidate of this.parsers) {
      const result = candidate.parse(text);
      if (typeof result === 'string') {
        error ??= result;
        continue;
      }
      parser = candidate;
      fields = result;
      break;
    }
    if (!parser && error !== undefined) event.parseError ??= error;

    let time = Number.NaN;
    let level: string | undefined;
    if (parser && fields) {
      const timeValue = find(fields, parser.timeKey);
      if (timeValue !== undefined) {
        time = (parser.time ?? this.time).value(timeValue, event.readAt);
        if (!Number.isNaN(time)) consumeFound();
      }
      level = normalizeLevel(find(fields, parser.levelKey));
      if (level !== undefined) consumeFound();
      const message = find(fields, parser.messageKey);
      if (typeof message === 'string') {
        event.message = message;
        consumeFound();
      }
      event.fields = parser.target ? nest(parser.target, fields) : fields;
    }
    // Structured lines say what they mean in fields; only text is searched for a leading time and level.
    const plain = !parser?.structured || fields === null;
    if (plain && Number.isNaN(time) && this.timeFromLine) time = this.time.leading(text, event.readAt);
    if (!Number.isNaN(time)) event.time = time;
    // The read time is the one the tailer saved, so a replay decides the same way.
    if (event.time !== undefined && event.time - event.readAt > this.maxFutureSkew) {
      event.futureTime = event.time;
      event.time = undefined;
    }
    if (plain && level === undefined) level = detectLevel(text);
    if (level !== undefined) event.level = level;
  }
}
