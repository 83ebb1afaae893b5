import type { Counter } from 'prom-client';
import { z } from 'zod';
import type { Metrics } from '../../core/metrics.ts';
import type { FileLogMetrics, LogMetrics } from '../log-metrics/counters.ts';
import { SIDECAR_METRICS } from '../metrics.ts';
import { type BatchHeader, type PayloadEntry, type PayloadWriter, RecordBuilder } from '../record.ts';
import type { FileIdentity, LogEvent, RawLine, SourceFields } from '../types.ts';
import { type ContainerFormatConfig, ContainerJoiner, containerFormatSchema } from './container-format.ts';
import { compileMultiline, MultilineJoiner, type MultilineRules, multilineSchema } from './multiline.ts';
import { EventParser, parsersSchema } from './parsers.ts';
import { timestampSchema } from './timestamp.ts';

/** How the lines of one kind of file become records: container format → multiline → parsers. */
export const pipelineSchema = z.strictObject({
  container: containerFormatSchema.prefault({}),
  multiline: multilineSchema.optional(),
  parser: parsersSchema,
  timestamp: timestampSchema.prefault({}),
});
export type PipelineConfig = z.output<typeof pipelineSchema>;

/** The file a pipeline reads. A new identity (rotation, copytruncate) takes a new pipeline. */
export interface PipelineFile {
  source: SourceFields;
  identity: FileIdentity;
  path: string;
  /** What event ids are scoped to, if not the pod uid (else host.name) of `source`. */
  sourceId?: string;
}

/** Totals of one pipeline since it was made. */
export interface PipelineCounts {
  events: number;
  parseErrors: number;
  truncated: number;
}

export interface PipelineMetrics {
  parseErrors: Counter;
  truncated: Counter;
}

function pipelineMetrics(metrics: Metrics): PipelineMetrics {
  return {
    parseErrors: metrics.counter(SIDECAR_METRICS.parseErrors),
    truncated: metrics.counter(SIDECAR_METRICS.truncatedEvents),
  };
}

/** A pipeline config with its patterns, time formats and metrics prepared once for every file. */
export interface CompiledPipeline {
  container: ContainerFormatConfig;
  multiline: MultilineRules | undefined;
  parser: EventParser;
  metrics: PipelineMetrics | undefined;
  logMetrics: LogMetrics | undefined;
}

export function compilePipeline(
  config: PipelineConfig,
  metrics?: Metrics,
  logMetrics?: LogMetrics,
): CompiledPipeline {
  return {
    container: config.container,
    multiline: config.multiline ? compileMultiline(config.multiline) : undefined,
    parser: new EventParser(config.parser, config.timestamp),
    metrics: metrics ? pipelineMetrics(metrics) : undefined,
    logMetrics,
  };
}

/**
 * The processing chain of one file. The tailer pushes every line it reads and
 * appends what comes back to the queue. Once that append is durable it may
 * checkpoint the file at `pendingOffset()` when that is defined, else at the
 * end of the last line pushed: what a stage still holds is read again after a
 * crash, and gets the same event ids.
 */
export class FilePipeline {
  readonly counts: PipelineCounts = { events: 0, parseErrors: 0, truncated: 0 };
  private readonly container: ContainerJoiner;
  private readonly multiline: MultilineJoiner | undefined;
  private readonly parser: EventParser;
  private readonly record: RecordBuilder;
  private readonly metrics: PipelineMetrics | undefined;
  private readonly logMetrics: FileLogMetrics | undefined;

  constructor(compiled: CompiledPipeline, file: PipelineFile) {
    this.container = new ContainerJoiner(compiled.container);
    this.multiline = compiled.multiline ? new MultilineJoiner(compiled.multiline) : undefined;
    this.parser = compiled.parser;
    this.record = new RecordBuilder(file.source, file.identity, file.path, file.sourceId);
    this.metrics = compiled.metrics;
    this.logMetrics = compiled.logMetrics?.forFile(file.source);
  }

  /** The batch header: source fields and log.file.path. */
  get header(): BatchHeader {
    return this.record.header;
  }

  /** The entries this line completes; often none, as stages hold events until they know they are whole. */
  push(raw: RawLine): PayloadEntry[] {
    return this.joined(this.container.push(raw), []);
  }

  /** Sends what has waited past its stage's timeout; with force, everything held (at shutdown or file release). */
  flush(now: number, force = false): PayloadEntry[] {
    // The tailer flushes every open file on each pass: the file's container still has logs.
    this.logMetrics?.alive(now);
    const out = this.joined(this.container.flush(now, force), []);
    return this.multiline ? this.finished(this.multiline.flush(now, force), out) : out;
  }

  /** The first byte some stage still holds; the checkpoint must not pass it. */
  pendingOffset(): number | undefined {
    const container = this.container.pendingOffset();
    const multiline = this.multiline?.pendingOffset();
    if (container === undefined) return multiline;
    return multiline === undefined ? container : Math.min(container, multiline);
  }

  /** A queue payload of this file to write entries into as they are made. */
  payload(start: number | Buffer, fullBytes: number): PayloadWriter {
    return this.record.payload(start, fullBytes);
  }

  private joined(events: LogEvent[], out: PayloadEntry[]): PayloadEntry[] {
    if (!this.multiline) return this.finished(events, out);
    for (const event of events) this.finished(this.multiline.push(event), out);
    return out;
  }

  /** Parses and records events, appending to `out`. */
  private finished(events: LogEvent[], out: PayloadEntry[]): PayloadEntry[] {
    for (const event of events) {
      const raw = event.message;
      let entry: PayloadEntry;
      try {
        this.parser.apply(event);
        entry = this.record.build(event);
      } catch (err) {
        // No line may stop the file: whatever failed, the line is kept as it was read, flagged.
        event.message = raw;
        event.fields = undefined;
        event.time = event.futureTime = undefined;
        event.parseError = `unprocessable: ${(err as Error).message}`;
        entry = this.record.build(event);
      }
      this.count(event);
      out.push(entry);
    }
    return out;
  }

  private count(event: LogEvent): void {
    this.counts.events++;
    this.logMetrics?.count(event);
    if (event.parseError !== undefined) {
      this.counts.parseErrors++;
      this.metrics?.parseErrors.inc();
    }
    if (event.truncated) {
      this.counts.truncated++;
      this.metrics?.truncated.inc();
    }
  }
}
