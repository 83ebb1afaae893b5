import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../../core/auth.ts';
import { describeError } from '../../core/errors.ts';
import type { Metrics } from '../../core/metrics.ts';
import { parseRecord } from '../records.ts';
import type { LogRecord, LogStore } from '../store/store.ts';

const gunzipAsync = promisify(gunzip);
const NEWLINE = 0x0a;

export interface IngestError {
  line: number;
  status: number;
  reason: string;
}

export interface IngestOptions {
  store: LogStore;
  maxBodyBytes: number;
  metrics: Metrics;
}

/**
 * `POST /api/ingest`: NDJSON records as the sidecar writes them (gzip
 * allowed). It answers once the good records are durable in the store, with a
 * verdict for each refused line (0-based): 429/503 lines may be sent again,
 * other refusals may not.
 */
export function registerIngest(app: FastifyInstance, opts: IngestOptions): void {
  const lines = opts.metrics.counter(
    'collector_ingest_lines_total',
    'Lines posted to /api/ingest, by outcome',
    ['outcome'],
  );
  app.register(async (scope) => {
    scope.addContentTypeParser(
      ['application/x-ndjson', 'application/json', 'text/plain'],
      { parseAs: 'buffer', bodyLimit: opts.maxBodyBytes },
      (_request, body, done) => done(null, body),
    );
    scope.post('/api/ingest', { config: { role: 'editor' } }, async (request) => {
      if (!Buffer.isBuffer(request.body)) {
        throw new HttpError(415, 'send NDJSON with content-type application/x-ndjson');
      }
      const body = await decoded(request.body, request.headers['content-encoding'], opts.maxBodyBytes);
      const allowed = request.principal.namespaces;
      const errors: IngestError[] = [];
      const records: LogRecord[] = [];
      const lineOf: number[] = [];
      let line = 0;
      for (let start = 0; start < body.length; line++) {
        let end = body.indexOf(NEWLINE, start);
        if (end < 0) end = body.length;
        const parsed =
          end > start ? parseRecord(body.subarray(start, end)) : { ok: false as const, reason: 'empty line' };
        if (!parsed.ok) errors.push({ line, status: 400, reason: parsed.reason });
        else if (allowed && !(parsed.namespace && allowed.includes(parsed.namespace))) {
          errors.push({
            line,
            status: 403,
            reason: `token "${request.principal.name}" may not write this namespace`,
          });
        } else {
          records.push(parsed.record);
          lineOf.push(line);
        }
        start = end + 1;
      }
      let outcomes: Awaited<ReturnType<LogStore['write']>>;
      try {
        outcomes = await opts.store.write(records);
      } catch (err) {
        request.log.warn({ err: describeError(err) }, 'ingest: log store unavailable');
        throw new HttpError(503, 'the log store is unavailable; send again later');
      }
      let accepted = 0;
      outcomes.forEach((outcome, i) => {
        if (outcome.result === 'ok') accepted++;
        else errors.push({ line: lineOf[i]!, status: outcome.status, reason: outcome.reason });
      });
      errors.sort((a, b) => a.line - b.line);
      lines.inc({ outcome: 'accepted' }, accepted);
      if (errors.length > 0) lines.inc({ outcome: 'refused' }, errors.length);
      return { accepted, errors };
    });
  });
}

async function decoded(body: Buffer, encoding: string | undefined, maxBytes: number): Promise<Buffer> {
  if (!encoding || encoding === 'identity') return body;
  if (encoding !== 'gzip')
    throw new HttpError(415, `content-encoding "${encoding}" is not supported; use gzip`);
  try {
    return await gunzipAsync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new HttpError(413, `the body is larger than ${maxBytes} bytes once decompressed`);
    }
    throw new HttpError(400, 'the body is not valid gzip');
  }
}
