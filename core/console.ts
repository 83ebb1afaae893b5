import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where `make` puts the console Vite built from dashboards/web. */
const CONSOLE_DIR = join(import.meta.dirname, '..', 'dashboards', 'web', 'dist');

/** The console's pages built so far: each is a URL a person can share, answered with the page that routes itself. */
const CONSOLE_PAGES = ['/logs', '/events', '/alerts', '/silences', '/probes', '/status'];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

// The console loads nothing from elsewhere: no CDN, no fonts, no analytics.
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

interface StaticFile {
  type: string;
  body: Buffer;
  gzip?: Buffer;
}

/** The built console, read once at start; files are small enough to keep in memory, compressed. */
export interface ConsoleFiles {
  index: StaticFile;
  assets: Map<string, StaticFile>;
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Lookout</title>
<p>The web console is not built. Run <code>make start</code>, or <code>npx vite build dashboards/web</code>, and start Lookout again.
The API works without it: <code>curl</code> this address for the list of its endpoints.</p>`;

function staticFile(name: string, body: Buffer): StaticFile {
  const type = TYPES[extname(name)] ?? 'application/octet-stream';
  const gzip = body.length > 1024 && !type.startsWith('image/png') ? gzipSync(body, { level: 9 }) : undefined;
  return { type, body, gzip };
}

async function filesUnder(dir: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) =>
      e.isDirectory() ? filesUnder(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
    ),
  );
  return nested.flat();
}

/** The console's files, or a page saying how to build it when there is no build. */
export async function loadConsole(dir = CONSOLE_DIR): Promise<ConsoleFiles> {
  let names: string[];
  try {
    names = await filesUnder(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return { index: staticFile('index.html', Buffer.from(NOT_BUILT)), assets: new Map() };
  }
  const assets = new Map<string, StaticFile>();
  let index: StaticFile | undefined;
  for (const name of names) {
    const file = staticFile(name, await readFile(join(dir, name)));
    if (name === 'index.html') index = file;
    else assets.set(`/${name}`, file);
  }
  return { index: index ?? staticFile('index.html', Buffer.from(NOT_BUILT)), assets };
}

function send(request: FastifyRequest, reply: FastifyReply, file: StaticFile) {
  reply.type(file.type).header('vary', 'accept-encoding');
  const gzip = file.gzip && /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
  if (gzip) reply.header('content-encoding', 'gzip');
  return reply.send(gzip ? file.gzip : file.body);
}

/** Answers with the console's page, which shows the view its URL names. */
export function consolePage(files: ConsoleFiles) {
  return (request: FastifyRequest, reply: FastifyReply) =>
    send(request, reply.headers(PAGE_HEADERS), files.index);
}

/** Whether a request to `/` comes from a browser rather than a program that wants the list of endpoints. */
export function wantsPage(request: FastifyRequest): boolean {
  return /\btext\/html\b/.test(String(request.headers.accept ?? ''));
}

/**
 * Serves the console: its pages (no data in them, so public; the API calls they make carry the
 * token) and its hashed assets, cached for good.
 */
export function registerConsole(app: FastifyInstance, files: ConsoleFiles): void {
  const page = consolePage(files);
  for (const path of CONSOLE_PAGES) {
    app.get(path, { config: { role: 'public', summary: 'the web console' } }, page);
    app.get(`${path}/*`, { config: { role: 'public' } }, page);
  }
  for (const [path, file] of files.assets) {
    const cache = path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    app.get(path, { config: { role: 'public' } }, (request, reply) =>
      send(request, reply.header('cache-control', cache).header('x-content-type-options', 'nosniff'), file),
    );
  }
}
