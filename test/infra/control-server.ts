import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { INFRA_ACTIONS, type InfraAction, type InfraServer, type InfraStatus } from './control.ts';
import type { ServerProcess } from './process.ts';

export interface ControlServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Loopback HTTP front for the servers' lifecycles, since tests run in worker processes that cannot hold
 * the handles: GET / gives each server's state, POST /<server>/<action> waits for the action to finish.
 */
export async function startControlServer(
  servers: Partial<Record<InfraServer, ServerProcess>>,
): Promise<ControlServer> {
  const httpServer = http.createServer((request, response) => {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    handle(servers, request.method ?? 'GET', request.url ?? '/').then(
      (body) => reply(200, body),
      (err: Error & { status?: number }) => reply(err.status ?? 500, { error: err.message }),
    );
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = httpServer.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => httpServer.close(() => resolve())),
  };
}

async function handle(
  servers: Partial<Record<InfraServer, ServerProcess>>,
  method: string,
  url: string,
): Promise<unknown> {
  const [name, action, ...rest] = new URL(url, 'http://control').pathname.split('/').filter(Boolean);
  if (method === 'GET' && name === undefined) {
    const status: InfraStatus = {};
    for (const [serverName, server] of Object.entries(servers)) {
      status[serverName as InfraServer] = server.isRunning() ? 'running' : 'stopped';
    }
    return status;
  }
  const server = name === undefined ? undefined : servers[name as InfraServer];
  if (method !== 'POST' || !server || rest.length > 0 || !INFRA_ACTIONS.includes(action as InfraAction)) {
    const known = Object.keys(servers).join(', ');
    throw Object.assign(new Error(`expected POST /<server>/<${INFRA_ACTIONS.join('|')}> for ${known}`), {
      status: 404,
    });
  }
  await server[action as InfraAction]();
  return { server: name, action, state: server.isRunning() ? 'running' : 'stopped' };
}
