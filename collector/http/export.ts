import type { FastifyInstance } from 'fastify';
import { HttpError } from '../../core/auth.ts';
import { type QueryParams, type SearchLimits, searchQueryOf } from '../query/request.ts';
import type { LogStore } from '../store/store.ts';

export interface ExportOptions {
  store: LogStore;
  limits: SearchLimits;
  maxRows: number;
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

/** `GET /api/logs/export?format=ndjson|csv&limit=N&columns=a,b`: a query's lines, streamed page by page. */
export function registerExport(app: FastifyInstance, opts: ExportOptions): void {
  app.get('/api/logs/export', { config: { role: 'viewer' } }, async (request, reply) => {
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
    const query = searchQueryOf(
      { ...params, size: String(Math.min(PAGE, limit)), histogram: undefined },
      request.principal,
      {
        ...opts.limits,
        maxPageSize: PAGE,
      },
    );
    const closed = new AbortController();
    request.raw.on('close', () => closed.abort());
    // The first page runs before any byte is sent, so a failing store still gets a proper error status.
    let page = await opts.store.search(query, closed.signal);
    reply.hijack();
    const out = reply.raw;
    out.writeHead(200, {
      'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
      'content-disposition': `attachment; filename="lookout-logs.${format === 'csv' ? 'csv' : 'ndjson'}"`,
    });
    if (format === 'csv') out.write(`${columns.map(csvCell).join(',')}\r\n`);
    let rows = 0;
    try {
      for (;;) {
        let chunk = '';
        for (const hit of page.hits) {
          if (rows++ >= limit) break;
          chunk +=
            format === 'csv'
              ? `${columns.map((c) => csvCell(fieldOf(hit.doc, c))).join(',')}\r\n`
              : `${JSON.stringify(hit.doc)}\n`;
        }
        if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
        if (rows >= limit || !page.next || closed.signal.aborted) break;
        page = await opts.store.search({ ...query, after: page.next }, closed.signal);
      }
    } catch (err) {
      // Headers are gone; cutting the stream short is the only honest signal left.
      request.log.warn({ err }, 'export stopped early');
      out.destroy();
      return;
    }
    out.end();
  });
}
