/**
 * Server-sent events read from a fetch response body. EventSource cannot POST, and a question is a
 * POST, so the stream is parsed here: `event:` names the type (default `message`), `data:` lines are
 * joined with newlines, a blank line ends an event, lines starting with `:` are comments.
 */
export interface ServerSentEvent {
  type: string;
  data: string;
}

/** Yields each event as it completes; an event cut off by the end of the stream is dropped. */
export async function* readServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let type = '';
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.search(/\r\n|\r|\n/)) >= 0) {
        // A CR at the very end may be the first half of a CRLF still in transit.
        if (buffer[end] === '\r' && end === buffer.length - 1) break;
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + (buffer.startsWith('\r\n', end) ? 2 : 1));
        if (line === '') {
          if (data.length > 0) yield { type: type === '' ? 'message' : type, data: data.join('\n') };
          type = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') type = value;
        else if (field === 'data') data.push(value);
      }
    }
  } finally {
    // Stops the download when the reader leaves early (a stopped question); harmless after the end.
    await reader.cancel().catch(() => undefined);
  }
}
