import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The local site the probes of the console's tests check: `/up` answers 200, anything else 503. */
export async function startProbedSite(): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((request, response) => {
    response.writeHead(request.url === '/up' ? 200 : 503, { 'content-type': 'text/plain' });
    response.end(request.url === '/up' ? 'ok' : 'unavailable');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The probed site's address, which the global setup passes on. */
export function probedSite(path = '/'): string {
  const base = process.env.LOOKOUT_PROBED_SITE;
  if (!base) throw new Error('LOOKOUT_PROBED_SITE is not set: the global setup did not start the site');
  return `${base}${path}`;
}
