// A small stateful Server-Sent Events decoder: feed it text as it arrives, get whole events back.
// Used for the Add Model validation progress and for streamed chat completions.

export class SSEDecoder {
  #buffer = '';
  #event = '';
  #data = [];

  /** Decode a chunk of text; returns the events it completed, as {event, data}. */
  feed(text) {
    this.#buffer += text;
    const events = [];
    let newline = this.#nextLineEnd();
    while (newline >= 0) {
      const line = this.#buffer.slice(0, newline);
      const width = this.#buffer[newline] === '\r' && this.#buffer[newline + 1] === '\n' ? 2 : 1;
      this.#buffer = this.#buffer.slice(newline + width);
      const event = this.#line(line);
      if (event) events.push(event);
      newline = this.#nextLineEnd();
    }
    return events;
  }

  /** The event left over when the stream ends without a final blank line, if any. */
  flush() {
    const events = this.feed('\n');
    const last = this.#line('');
    if (last) events.push(last);
    return events;
  }

  #nextLineEnd() {
    const lf = this.#buffer.indexOf('\n');
    const cr = this.#buffer.indexOf('\r');
    if (cr >= 0 && cr === this.#buffer.length - 1) return lf; // a lone CR may be half of CRLF: wait
    if (lf < 0) return cr;
    if (cr < 0) return lf;
    return Math.min(lf, cr);
  }

  #line(line) {
    if (line === '') {
      if (this.#data.length === 0) {
        this.#event = '';
        return null;
      }
      const event = { event: this.#event || 'message', data: this.#data.join('\n') };
      this.#event = '';
      this.#data = [];
      return event;
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#event = value;
    else if (field === 'data') this.#data.push(value);
    return null;
  }
}

/** Iterate over the SSE events of a fetch Response body. */
export async function* readEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const sse = new SSEDecoder();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      yield* sse.feed(decoder.decode(value, { stream: true }));
    }
    yield* sse.feed(decoder.decode());
    yield* sse.flush();
  } finally {
    reader.releaseLock();
  }
}

/** Iterate over the JSON chunks of an OpenAI-style stream, up to `data: [DONE]`; an event whose
 * data is not JSON (a keep-alive) is skipped. */
export async function* readJsonChunks(response) {
  for await (const event of readEvents(response)) {
    if (event.data === '[DONE]') return;
    let chunk;
    try {
      chunk = JSON.parse(event.data);
    } catch {
      continue;
    }
    yield chunk;
  }
}
