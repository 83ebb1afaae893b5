import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A sample of an instant query's answer: its labels and value. */
export interface FixedSample {
  labels: Record<string, string>;
  value: number;
}

/**
 * A test fixture, not a Prometheus: it answers `POST /api/v1/query` (the
 * contract alert-rules evaluates its rules with) with a fixed vector per
 * expression, and an empty one for any other, so that the console's tests
 * have alerts that fire without running Prometheus.
 */
export async function startFixedPrometheus(
  answers: Record<string, FixedSample[]>,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk;
    });
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://fixture');
      if (url.pathname !== '/api/v1/query') {
        response.writeHead(404).end();
        return;
      }
      const form = new URLSearchParams(request.method === 'POST' ? body : url.search);
      const time = Number(form.get('time') ?? Date.now() / 1000);
      const result = (answers[form.get('query') ?? ''] ?? []).map((sample) => ({
        metric: sample.labels,
        value: [time, String(sample.value)],
      }));
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
