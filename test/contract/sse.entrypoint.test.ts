import { entrypointContract } from './entrypoint-suite.ts';
import { openSse, sseContent } from './sse-client.ts';

entrypointContract({
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
});
