import { startTestServer, type TestServer } from '../../alert-rules/rules/fixtures/http-server.ts';
import type { PostableAlert } from '../../alert-rules/types.ts';

export interface ReceivedAlert extends PostableAlert {
  receivedAtMs: number;
}

export interface AlertReceiver extends TestServer {
  received: ReceivedAlert[];
}

/** Stands in for Alertmanager's `POST /api/v2/alerts`, keeping every alert posted and when. */
export async function startAlertReceiver(): Promise<AlertReceiver> {
  const received: ReceivedAlert[] = [];
  const server = await startTestServer((request, response) => {
    if (request.method !== 'POST' || request.url !== '/api/v2/alerts') {
      response.writeHead(404).end();
      return;
    }
    const receivedAtMs = Date.now();
    const alerts = JSON.parse(request.body.toString('utf8')) as PostableAlert[];
    received.push(...alerts.map((alert) => ({ ...alert, receivedAtMs })));
    response.writeHead(200).end();
  });
  return { ...server, received };
}
