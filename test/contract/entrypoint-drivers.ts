/**
 * The entrypoint drivers of the entrypoint contract suite (./entrypoint-suite.ts): each speaks its
 * entrypoint's protocol with a real client over a real socket. Shared by the per-entrypoint test
 * files (numbered mock) and the per-broker files (*.entrypoints.test.ts).
 */
import type { EntrypointDriver, Received } from './entrypoint-suite.ts';
import { connect, within } from '../support/harness.ts';
import { openSse, sseContent } from './sse-client.ts';

const toWs = (base: string) => base.replace(/^http/, 'ws');

/** One long poll per session; `until` waits for its response (the items are the session's messages). */
export const httpGetDriver: EntrypointDriver = {
  name: 'http-get',
  config: { type: 'http-get', messagesLimitCount: 3, messagesLimitDurationMs: 5000 },
  carriesIds: true,
  async subscribe(base, cursor) {
    const controller = new AbortController();
    const url = new URL(base);
    if (cursor !== undefined) url.searchParams.set('cursor', cursor);
    const received: Received[] = [];
    let failure: unknown;
    const done = fetch(url, { headers: { accept: 'application/json' }, signal: controller.signal })
      .then(async (res) => {
        const body = (await res.json()) as { items: { id: string; content: string; contentEncoding?: string }[] };
        for (const item of body.items) {
          received.push({ id: item.id, content: Buffer.from(item.content, item.contentEncoding === 'base64' ? 'base64' : 'utf8') });
        }
      })
      .catch((error) => (failure = error));
    // The first message is produced one interval after the request reached the gateway.
    await new Promise((resolve) => setTimeout(resolve, 5));
    return {
      received,
      async until(n) {
        await done;
        if (received.length < n) throw new Error(`long poll returned ${received.length} items (${String(failure ?? '')})`);
      },
      async close() {
        controller.abort();
        await done;
      },
    };
  },
};

export const websocketDriver: EntrypointDriver = {
  name: 'websocket',
  config: { type: 'websocket' },
  carriesIds: false,
  async subscribe(base, cursor) {
    const client = connect(cursor === undefined ? toWs(base) : `${toWs(base)}?cursor=${encodeURIComponent(cursor)}`);
    await client.opened;
    const view = { get length() { return client.messages.length; } };
    return {
      get received() {
        return client.messages.map((m) => ({ content: m.data }));
      },
      async until(n, ms = 10_000) {
        const deadline = Date.now() + ms;
        while (view.length < n) {
          if (Date.now() > deadline) throw new Error(`${n} WebSocket frames: got ${view.length}`);
          await new Promise((r) => setTimeout(r, 10));
        }
      },
      async close() {
        client.ws.close(1000);
        await within(client.closed, 5_000, 'WebSocket close');
      },
    };
  },
  async publish(base, content, recorded) {
    const client = connect(toWs(base));
    await client.opened;
    client.ws.send(content, { binary: true });
    const deadline = Date.now() + 10_000;
    let closed: { code: number; reason: string } | undefined;
    void client.closed.then((c) => (closed = c));
    while (!recorded() && !closed) {
      if (Date.now() > deadline) return { accepted: false, detail: 'neither recorded nor closed within 10 s' };
      await new Promise((r) => setTimeout(r, 10));
    }
    const refused: { code: number; reason: string } | undefined = closed;
    if (!refused) {
      client.ws.close(1000);
      await within(client.closed, 5_000, 'WebSocket close');
    }
    return refused ? { accepted: false, detail: `closed ${refused.code} ${refused.reason}` } : { accepted: true, detail: 'recorded' };
  },
};

export const sseDriver: EntrypointDriver = {
  name: 'sse',
  config: { type: 'sse', heartbeatIntervalInMs: 2000 },
  carriesIds: true,
  async subscribe(base, cursor) {
    const stream = await openSse(base, cursor === undefined ? {} : { 'last-event-id': cursor });
    if (stream.status !== 200) throw new Error(`SSE answered ${stream.status}: ${stream.body}`);
    const received: { id?: string; content: Buffer }[] = [];
    let seen = 0;
    const sync = () => {
      for (; seen < stream.events.length; seen++) {
        const event = stream.events[seen]!;
        if (event.event === 'message' || event.event === 'message-base64') received.push({ id: event.id, content: sseContent(event) });
      }
      return received;
    };
    return {
      received,
      until: (n, ms = 10_000) => stream.until(() => sync().length >= n, ms, `${n} SSE messages`),
      close: async () => {
        stream.close();
        await stream.ended;
      },
    };
  },
};

export const httpPostDriver: EntrypointDriver = {
  name: 'http-post',
  config: { type: 'http-post' },
  carriesIds: false,
  async publish(base, content) {
    const res = await fetch(base, { method: 'POST', body: new Uint8Array(content), headers: { 'content-type': 'application/octet-stream' } });
    const body = await res.text();
    return { accepted: res.status === 202, detail: `${res.status} ${body}` };
  },
};

export const entrypointDrivers: readonly EntrypointDriver[] = [httpGetDriver, websocketDriver, sseDriver, httpPostDriver];
