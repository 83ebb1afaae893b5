import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The site the probes benchmark probes: a small page on one or more loopback ports, in a process of its
 * own so that serving it costs the measured prober nothing. It prints `listening on <port>,<port>…`.
 *
 * Usage: node bench/probe-site.ts <listeners>
 */

const PAGE = 'ok\n';
const listeners = Number(process.argv[2] ?? 1);
if (!Number.isInteger(listeners) || listeners < 1) throw new Error('usage: probe-site.ts <listeners>');

function listen(): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': PAGE.length });
    res.end(PAGE);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

const servers = await Promise.all(Array.from({ length: listeners }, listen));
console.log(`listening on ${servers.map((s) => (s.address() as AddressInfo).port).join(',')}`);
process.once('SIGTERM', () => {
  for (const server of servers) server.close();
  process.exit(0);
});
