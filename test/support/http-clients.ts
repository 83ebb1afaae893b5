import { connect } from 'node:net';

export type SseEvent = { event: string; data: { reason?: string; doc?: { message: string } } };

/** Collects the `event:` + JSON `data:` events of a Server-Sent Events answer as they arrive. */
export function collectEvents(response: Response): { events: SseEvent[]; done: Promise<void> } {
  const events: SseEvent[] = [];
  const done = (async () => {
    if (!response.ok) return;
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body!) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const text = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(text)?.[1];
        const data = /^data: (.*)$/m.exec(text)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
    }
  })().catch(() => {});
  return { events, done };
}

/**
 * Sends `head` (a request's header block announcing a body), then the body
 * one byte per `everyMs`, until the server closes the connection or
 * `giveUpMs` passed. Returns what the server answered and when it closed.
 */
export async function trickle(
  url: string,
  head: string,
  everyMs: number,
  giveUpMs: number,
): Promise<{ answer: string; closedAfterMs?: number }> {
  const address = new URL(url);
  const socket = connect(Number(address.port), address.hostname);
  let answer = '';
  socket.on('data', (chunk) => {
    answer += String(chunk);
  });
  let open = true;
  socket.on('close', () => {
    open = false;
  });
  socket.write(head);
  const started = Date.now();
  while (open && Date.now() - started < giveUpMs) {
    if (!socket.destroyed) socket.write('x');
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  const closedAfterMs = open ? undefined : Date.now() - started;
  socket.destroy();
  return { answer, closedAfterMs };
}
