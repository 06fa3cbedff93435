/**
 * A test SSE client over fetch that keeps everything a stream says: the raw text, `retry`,
 * comments, and events parsed as the HTML spec does (one event per blank line; `data` lines
 * joined with "\n"). It never reconnects (use the `eventsource` package for that).
 */
export interface SseEvent {
  readonly id?: string;
  readonly event: string;
  readonly data: string;
}

export interface SseStream {
  readonly status: number;
  readonly headers: Headers;
  /** The body when the status is not 200. */
  readonly body: string;
  readonly events: SseEvent[];
  readonly comments: string[];
  readonly retry: number[];
  raw(): string;
  readonly ended: Promise<void>;
  until(test: (s: SseStream) => boolean, ms: number, what: string): Promise<void>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const retry: number[] = [];
  const waiters = new Set<() => void>();
  let raw = '';
  let ended = false;
  if (res.status !== 200) {
    const body = await res.text();
    const stream: SseStream = {
      status: res.status, headers: res.headers, body, events, comments, retry,
      raw: () => body, ended: Promise.resolve(), until: async () => { throw new Error(`SSE refused: ${res.status} ${body}`); }, close: () => {},
    };
    return stream;
  }
  let buffer = '';
  let data: string[] = [];
  let event = '';
  let id: string | undefined;
  const line = (text: string) => {
    if (text === '') {
      if (data.length > 0) events.push({ id, event: event || 'message', data: data.join('\n') });
      data = [];
      event = '';
      id = undefined;
      return;
    }
    if (text.startsWith(':')) return void comments.push(text.slice(1).trimStart());
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id') id = value;
    else if (field === 'retry') retry.push(Number(value));
  };
  const decoder = new TextDecoder();
  const done = (async () => {
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const text = decoder.decode(chunk, { stream: true });
        raw += text;
        buffer += text;
        const parts = buffer.split(/\r\n|\r|\n/);
        buffer = parts.pop()!;
        parts.forEach(line);
        waiters.forEach((w) => w());
      }
    } catch {
      // aborted by close()
    } finally {
      ended = true;
      waiters.forEach((w) => w());
    }
  })();
  const stream: SseStream = {
    status: res.status,
    headers: res.headers,
    body: '',
    events,
    comments,
    retry,
    raw: () => raw,
    ended: done,
    until: (test, ms, what) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (test(stream)) finish(resolve);
          else if (ended) finish(() => reject(new Error(`${what}: the stream ended first; it said:\n${raw.slice(-2000)}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`${what}: not within ${ms} ms; the stream said:\n${raw.slice(-2000)}`))), ms);
        const finish = (f: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          f();
        };
        waiters.add(check);
        check();
      }),
    close: () => controller.abort(),
  };
  return stream;
}

/** An SSE event's content bytes per Sluice's documented encoding (`message-base64` carries base64). */
export function sseContent(event: SseEvent): Buffer {
  return event.event === 'message-base64' ? Buffer.from(event.data, 'base64') : Buffer.from(event.data, 'utf8');
}
