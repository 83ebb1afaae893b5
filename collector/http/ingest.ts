import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { HttpError, type Principal } from '../../core/auth.ts';
import { describeError } from '../../core/errors.ts';
import type { Metrics } from '../../core/metrics.ts';
import type { LogRecord } from '../../core/record/log-record.ts';
import { type RecordRules, readRecord } from '../../core/record/read-record.ts';
import { COLLECTOR_METRICS } from '../metrics.ts';
import type { LogStore } from '../store/store.ts';

const gunzipAsync = promisify(gunzip);
const NEWLINE = 0x0a;
/** Reading lines gives the event loop a turn this often, so a large body never stalls health checks. */
const SLICE_MS = 20;
/** Reasons quote the cluster or the parser; a verdict stays short whatever they say. */
const MAX_REASON_CHARS = 300;

export interface IngestError {
  line: number;
  status: number;
  reason: string;
}

export interface IngestAnswer {
  /** Lines stored by this request. */
  accepted: number;
  /** Lines whose `event.id` was already stored: this copy was not stored again. */
  duplicates: number;
  /** Empty lines, skipped without a verdict each. */
  empty: number;
  errors: IngestError[];
}

export interface IngestOptions {
  store: LogStore;
  maxBodyBytes: number;
  maxLines: number;
  rules: RecordRules;
  metrics: Metrics;
}

/**
 * `POST /api/ingest`: NDJSON records as the sidecar writes them (gzip
 * allowed). It answers once the good records are durable in the store, with a
 * verdict for each refused line (0-based): 429/503 lines may be sent again,
 * other refusals may not.
 */
export function registerIngest(app: FastifyInstance, opts: IngestOptions): void {
  const lines = opts.metrics.counter(COLLECTOR_METRICS.ingestLines);
  app.register(async (scope) => {
    scope.addContentTypeParser(
      ['application/x-ndjson', 'application/json', 'text/plain'],
      { parseAs: 'buffer', bodyLimit: opts.maxBodyBytes },
      (_request, body, done) => done(null, body),
    );
    scope.post(
      '/api/ingest',
      {
        config: {
          role: 'editor',
          summary: 'NDJSON records (gzip allowed); answers a verdict per refused line',
        },
      },
      async (request): Promise<IngestAnswer> => {
        if (!Buffer.isBuffer(request.body)) {
          throw new HttpError(415, 'send NDJSON with content-type application/x-ndjson');
        }
        const body = await decoded(request.body, request.headers['content-encoding'], opts.maxBodyBytes);
        const answer: IngestAnswer = { accepted: 0, duplicates: 0, empty: 0, errors: [] };
        const { records, lineOf } = await readLines(body, request.principal, opts, answer);
        let outcomes: Awaited<ReturnType<LogStore['write']>>;
        try {
          outcomes = await opts.store.write(records);
        } catch (err) {
          request.log.warn({ err: describeError(err) }, 'ingest: log store unavailable');
          throw new HttpError(503, 'the log store is unavailable; send again later');
        }
        outcomes.forEach((outcome, i) => {
          if (outcome.result !== 'ok') refuse(answer, lineOf[i]!, outcome.status, outcome.reason);
          else if (outcome.duplicate) answer.duplicates++;
          else answer.accepted++;
        });
        answer.errors.sort((a, b) => a.line - b.line);
        lines.inc({ outcome: 'accepted' }, answer.accepted);
        if (answer.duplicates > 0) lines.inc({ outcome: 'duplicate' }, answer.duplicates);
        if (answer.empty > 0) lines.inc({ outcome: 'empty' }, answer.empty);
        if (answer.errors.length > 0) lines.inc({ outcome: 'refused' }, answer.errors.length);
        return answer;
      },
    );
  });
}

/** The records of a body, and the line each came from; what cannot be stored or written by this token is refused in `answer`. */
async function readLines(
  body: Buffer,
  principal: Principal,
  opts: IngestOptions,
  answer: IngestAnswer,
): Promise<{ records: LogRecord[]; lineOf: number[] }> {
  const allowed = principal.namespaces;
  const receivedAt = Date.now();
  const records: LogRecord[] = [];
  const lineOf: number[] = [];
  let line = 0;
  let read = 0;
  let sliceStart = performance.now();
  for (let start = 0; start < body.length; ) {
    if (performance.now() - sliceStart > SLICE_MS) {
      await yieldToLoop();
      sliceStart = performance.now();
    }
    if (body[start] === NEWLINE) {
      const end = afterNewlines(body, start);
      answer.empty += end - start;
      line += end - start;
      start = end;
      continue;
    }
    if (++read > opts.maxLines) {
      throw new HttpError(413, `more than ${opts.maxLines} lines in one request; send fewer at a time`);
    }
    let end = body.indexOf(NEWLINE, start);
    if (end < 0) end = body.length;
    const parsed = readRecord(body.subarray(start, end), opts.rules, receivedAt);
    if (!parsed.ok) refuse(answer, line, 400, parsed.reason);
    else if (allowed && !(parsed.namespace && allowed.includes(parsed.namespace))) {
      refuse(answer, line, 403, `token "${principal.name}" may not write this namespace`);
    } else {
      records.push(parsed.record);
      lineOf.push(line);
    }
    line++;
    start = end + 1;
  }
  return { records, lineOf };
}

/** Where a run of newlines starting at `start` ends, looking at most a mebibyte ahead (the loop yields between). */
function afterNewlines(body: Buffer, start: number): number {
  const stop = Math.min(body.length, start + 1024 ** 2);
  let end = start;
  while (end < stop && body[end] === NEWLINE) end++;
  return end;
}

function refuse(answer: IngestAnswer, line: number, status: number, reason: string): void {
  const bounded = reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS)}…` : reason;
  answer.errors.push({ line, status, reason: bounded });
}

async function decoded(body: Buffer, header: string | undefined, maxBytes: number): Promise<Buffer> {
  // Content codings are case-insensitive tokens (RFC 9110); x-gzip is gzip's old name.
  const encoding = header?.trim().toLowerCase();
  if (!encoding || encoding === 'identity') return body;
  if (encoding !== 'gzip' && encoding !== 'x-gzip') {
    throw new HttpError(
      415,
      `content-encoding ${JSON.stringify(header!.slice(0, 40))} is not supported; use gzip`,
    );
  }
  try {
    // Inflates chunk by chunk and stops as soon as the output passes the limit: a bomb costs no more than the limit.
    return await gunzipAsync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new HttpError(413, `the body is larger than ${maxBytes} bytes once decompressed`);
    }
    throw new HttpError(400, 'the body is not valid gzip');
  }
}
