import { entrypointContract } from './entrypoint-suite.ts';
import { connect, within } from '../support/harness.ts';

const toWs = (base: string) => base.replace(/^http/, 'ws');

entrypointContract({
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
});
