import { z } from 'zod';
import { byteSize, duration, regex } from '../../core/config-types.ts';
import type { Joiner, LogEvent } from '../types.ts';
import { Lanes, NONE } from './held.ts';

/**
 * Where a Java log record begins: a line that starts with a time as the
 * layouts Java services use write it (after an optional `[`, or a level):
 * ISO 8601 with `T` or a space (Spring Boot, Logback's and Log4j2's `%d`),
 * `HH:mm:ss.SSS` (Logback's and Log4j2's default layouts), `yyyy/MM/dd`,
 * `dd MMM yyyy` (Log4j's DATE), Tomcat's `dd-MMM-yyyy` and java.util.logging's
 * `MMM d, yyyy h:mm:ss AM`; and a JSON object line, which holds its trace inside.
 * Every other line, blank ones included, belongs to the record before it: a
 * stack trace and its `Caused by:` chain, Spring Boot's blank line before the
 * trace, and multi-line messages (MyBatis's `### Error querying database` block)
 * have no shape to recognise them by, but no timestamp either.
 */
const JAVA_START = new RegExp(
  String.raw`^(?:\[?(?:TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|SEVERE)\]?\s+)?\[?(?:` +
    [
      String.raw`\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}`,
      String.raw`\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}`,
      String.raw`\d{2}:\d{2}:\d{2}[.,]\d{3}`,
      String.raw`\d{2}[- ][A-Z][a-z]{2}[- ]\d{4} \d{2}:\d{2}:\d{2}`,
      String.raw`[A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d{2}:\d{2} [AP]M`,
    ].join('|') +
    String.raw`)|^\{"`,
);

/** Start patterns of the built-in rules. */
const PRESETS = { java: JAVA_START };

export const multilineSchema = z
  .strictObject({
    /** Built-in rules: `java` begins an event only at a line starting with a time, so traces and multi-line messages stay with their record. */
    preset: z.enum(Object.keys(PRESETS) as [keyof typeof PRESETS]).optional(),
    /** A line matching `start` (or the preset's) begins a new event (Fluent Bit's first-line rule). */
    start: regex().optional(),
    /** A line matching `continuation` belongs to the event before it. */
    continuation: regex().optional(),
    /** Filebeat's form: lines matching `pattern` (or not, with negate) are joined `after` the previous line or `before` the next. */
    pattern: regex().optional(),
    negate: z.boolean().default(false),
    match: z.enum(['after', 'before']).default('after'),
    /** Lines beyond this are dropped from the event, which is flagged truncated. */
    maxLines: z.number().int().positive().default(500),
    /** Bytes beyond this are cut from the event, which is flagged truncated. */
    maxBytes: byteSize().default(1024 * 1024),
    /** An event waits this long for more lines before it is sent. */
    timeout: duration().default(3_000),
  })
  .superRefine((value, ctx) => {
    const rules = value.preset ?? value.start ?? value.continuation;
    if (value.pattern !== undefined && rules !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['pattern'],
        message: 'use pattern alone, or preset/start/continuation',
      });
    } else if (value.pattern === undefined && rules === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected a preset, start, continuation or pattern' });
    } else if (value.pattern === undefined && value.match === 'before') {
      ctx.addIssue({ code: 'custom', path: ['match'], message: 'match: before needs pattern' });
    }
  });
export type MultilineConfig = z.output<typeof multilineSchema>;

/** For `after`: does the line join the event before it? For `before`: does it join the line after it? */
type Rule = (line: string) => boolean;

function compileRule(config: MultilineConfig): Rule {
  if (config.pattern !== undefined) {
    const pattern = new RegExp(config.pattern);
    const negate = config.negate;
    return (line) => pattern.test(line) !== negate;
  }
  const own = config.start === undefined ? undefined : new RegExp(config.start);
  const preset = config.preset === undefined ? undefined : PRESETS[config.preset];
  const start = own && preset ? new RegExp(`(?:${own.source})|(?:${preset.source})`) : (own ?? preset);
  const continuation = config.continuation === undefined ? undefined : new RegExp(config.continuation);
  if (!continuation) return (line) => !start!.test(line);
  if (!start) return (line) => continuation.test(line);
  // Both: a start line always begins an event; a line matching neither stands alone, as in Fluent Bit.
  return (line) => !start.test(line) && continuation.test(line);
}

/** A multiline config with its patterns compiled, shared by the joiners of every file. */
export interface MultilineRules {
  readonly rule: Rule;
  readonly before: boolean;
  readonly maxLines: number;
  readonly maxBytes: number;
  readonly timeout: number;
}

export function compileMultiline(config: MultilineConfig): MultilineRules {
  return {
    rule: compileRule(config),
    before: config.pattern !== undefined && config.match === 'before',
    maxLines: config.maxLines,
    maxBytes: config.maxBytes,
    timeout: config.timeout,
  };
}

/**
 * Joins the lines of one event (a stack trace, a pretty-printed object) with
 * "\n". The event keeps the offset, time and stream of its first line; lines
 * past maxLines or bytes past maxBytes are dropped and the event is flagged
 * truncated, but it still ends where its last line ends.
 */
export class MultilineJoiner implements Joiner<LogEvent, LogEvent> {
  private readonly rules: MultilineRules;
  private readonly lanes: Lanes;

  constructor(rules: MultilineRules) {
    this.rules = rules;
    this.lanes = new Lanes(rules.maxBytes);
  }

  push(event: LogEvent): LogEvent[] {
    const { rule, maxLines } = this.rules;
    const lane = this.lanes.get(event.stream);
    if (this.rules.before) {
      if (lane.event) lane.add('\n', event.message, event, lane.lines < maxLines);
      else lane.start(event);
      return rule(event.message) ? NONE : [lane.finish()];
    }
    if (lane.event && rule(event.message)) {
      lane.add('\n', event.message, event, lane.lines < maxLines);
      return NONE;
    }
    const done = lane.event ? lane.finish() : undefined;
    lane.start(event);
    return done ? [done] : NONE;
  }

  flush(now: number, force = false): LogEvent[] {
    return this.lanes.flush(now, this.rules.timeout, force);
  }

  pendingOffset(): number | undefined {
    return this.lanes.pendingOffset();
  }
}
