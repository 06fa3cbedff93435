import { entrypointContract, type Received } from './entrypoint-suite.ts';

/** One long poll per session; `until` waits for its response (the items are the session's messages). */
entrypointContract({
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
});
