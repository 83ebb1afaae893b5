/** One Server-Sent Event. */
export interface ServerEvent {
  event: string;
  id?: string;
  data: string;
}

/**
 * The events of a text/event-stream body. EventSource cannot send an Authorization header, so the
 * console reads the stream through fetch and splits it here.
 */
export async function* serverEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffered += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
    for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const event: ServerEvent = { event: 'message', data: '' };
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const name = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (name === 'event') event.event = text;
        else if (name === 'id') event.id = text;
        else if (name === 'data') data.push(text);
      }
      if (data.length === 0) continue;
      event.data = data.join('\n');
      yield event;
    }
  }
}
