import type { FastifyInstance } from 'fastify';
import { HttpError } from '../../core/auth.ts';
import { type QueryParams, type SearchLimits, searchQueryOf } from '../query/request.ts';
import type { LogStore } from '../store/store.ts';
import { sliceSize } from './bounded-page.ts';

export interface ExportSettings {
  maxRows: number;
  maxBytes: number;
  /** What one store call may hold, as for a search page. */
  pageBytes: number;
}

const PAGE = 1_000;
const DEFAULT_COLUMNS = [
  '@timestamp',
  'kubernetes.namespace',
  'kubernetes.pod.name',
  'kubernetes.container.name',
  'log.level',
  'message',
];

/** A field by dotted name, nested or flat. */
function fieldOf(doc: Record<string, unknown>, path: string): unknown {
  if (path in doc) return doc[path];
  let value: unknown = doc;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * One CSV cell. Quoted when needed; a cell that a spreadsheet would run as a
 * formula (=, +, -, @ first) is prefixed with an apostrophe, since log lines
 * are written by whoever can make a service log something.
 */
export function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The last line of an export cut short by a limit of the collector, in the export's own format. */
export function cutNotice(format: 'ndjson' | 'csv', rows: number, reason: string): string {
  const text = `the export stopped after ${rows} rows at ${reason}; narrow the query or the time range to get the rest`;
  return format === 'csv'
    ? `${csvCell(`# ${text}`)}\r\n`
    : `${JSON.stringify({ lookout: { export: { complete: false, rows, reason: text } } })}\n`;
}

/**
 * `GET /api/logs/export?format=ndjson|csv&limit=N&columns=a,b`: a query's
 * lines, streamed page by page. When the collector's own limits (rows or
 * bytes) end it before the last matching line, its last line says so; the
 * trailers `x-lookout-rows` and `x-lookout-truncated` give the count either way.
 */
export function registerExport(
  app: FastifyInstance,
  store: LogStore,
  settings: () => { limits: SearchLimits; export: ExportSettings },
): void {
  const summary = 'the lines of a search as NDJSON or CSV (?format=csv&columns=a,b&limit=N)';
  app.get('/api/logs/export', { config: { role: 'viewer', summary } }, async (request, reply) => {
    const { limits, export: opts } = settings();
    const params = request.query as QueryParams;
    const format = params.format ?? 'ndjson';
    if (format !== 'ndjson' && format !== 'csv') throw new HttpError(400, 'format is "ndjson" or "csv"');
    const limit = Number(params.limit ?? opts.maxRows);
    if (!Number.isInteger(limit) || limit < 1 || limit > opts.maxRows) {
      throw new HttpError(400, `limit must be a whole number from 1 to ${opts.maxRows}`);
    }
    const columns =
      typeof params.columns === 'string' && params.columns
        ? params.columns.split(',').map((c) => c.trim())
        : DEFAULT_COLUMNS;
    // One row past the limit tells a cut export from one that ended exactly there.
    const query = searchQueryOf(
      { ...params, size: undefined, histogram: undefined },
      request.principal,
      limits,
    );
    const seen = { bytes: 0, hits: 0 };
    const nextSize = () => sliceSize(opts.pageBytes, seen, Math.min(PAGE, limit - seen.hits + 1));
    const closed = new AbortController();
    request.raw.on('close', () => closed.abort());
    // The first page runs before any byte is sent, so a failing store still gets a proper error status.
    let page = await store.search({ ...query, size: nextSize() }, closed.signal);
    reply.hijack();
    const out = reply.raw;
    out.writeHead(200, {
      'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
      'content-disposition': `attachment; filename="lookout-logs.${format === 'csv' ? 'csv' : 'ndjson'}"`,
      trailer: 'x-lookout-rows, x-lookout-truncated',
    });
    if (format === 'csv') out.write(`${columns.map(csvCell).join(',')}\r\n`);
    let cut: string | undefined;
    try {
      for (;;) {
        let chunk = '';
        for (const hit of page.hits) {
          if (seen.hits >= limit) {
            if (params.limit === undefined)
              cut = `the collector's limit of ${limit} rows (search.exportMaxRows)`;
            break;
          }
          const row =
            format === 'csv'
              ? `${columns.map((c) => csvCell(fieldOf(hit.doc, c))).join(',')}\r\n`
              : `${JSON.stringify(hit.doc)}\n`;
          const bytes = Buffer.byteLength(row);
          if (seen.bytes + bytes > opts.maxBytes) {
            cut = `the collector's limit of ${opts.maxBytes} bytes (search.exportMaxBytes)`;
            break;
          }
          chunk += row;
          seen.bytes += bytes;
          seen.hits++;
        }
        if (cut) chunk += cutNotice(format, seen.hits, cut);
        if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
        if (cut || seen.hits >= limit || !page.next || closed.signal.aborted) break;
        page = await store.search({ ...query, size: nextSize(), after: page.next }, closed.signal);
      }
    } catch (err) {
      // Headers are gone; cutting the stream short is the only honest signal left.
      request.log.warn({ err }, 'export stopped early');
      out.destroy();
      return;
    }
    out.addTrailers({
      'x-lookout-rows': String(seen.hits),
      'x-lookout-truncated': String(cut !== undefined),
    });
    out.end();
  });
}
