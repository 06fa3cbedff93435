/**
 * Resume capacity on a Kafka API: a client resuming from a cursor reads with a Kafka consumer of
 * its own (not the shared fanout), so `fanout.maxResumingSubscriptions` bounds them per instance.
 * With a limit of 1 and one resuming SSE stream open: HTTP GET ?cursor= is 503 RESUME_CAPACITY
 * with Retry-After, SSE with Last-Event-ID gets a longer `retry:` and an error event (so
 * EventSource reconnects), a WebSocket ?cursor= handshake is 503; clients without a cursor (the
 * shared fanout) are not counted. Once the resuming stream ends its slot is free again. Nothing
 * is produced to `topic` after the backlog, so a resumed holder never hands over to the fanout
 * (resume-handover.ts) and keeps its slot; the hand-over has its own API and topic.
 */
import { randomUUID } from 'node:crypto';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith, connect, HandshakeRefused, waitFor, wsUrl } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { kafkaBootstrap } from '../support/brokers/brokers.ts';
import { kcatProduce } from './clients.ts';

const topic = `resume-capacity-${randomUUID().slice(0, 6)}`;
const handoverTopic = `${topic}-handover`;
/** Resumes from the topic's beginning. */
const fromStart = Buffer.from(`${topic}@0#-1`).toString('base64url');
let bootstrap: string;
let gateway: Gateway;

const resuming = () => gateway.routers.current!.exchanges.get('orders')!.resuming!.active;

/** Reads an SSE response until `until` matches the text so far (bounded). */
async function readUntil(res: Response, until: RegExp, ms: number): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + ms;
  try {
    while (!until.test(text)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${until} within ${ms} ms; got: ${text}`);
      const chunk = await Promise.race([reader.read(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no ${until} within ${ms} ms; got: ${text}`)), left))]);
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
  } finally {
    reader.releaseLock();
  }
  return text;
}

beforeAll(async () => {
  bootstrap = await kafkaBootstrap();
  await kcatProduce(bootstrap, topic, ['one', 'two']);
  gateway = await gatewayWith(makeBundle({
    orders: {
      definition: {
        entrypoints: [{ type: 'sse' }, { type: 'websocket', publisher: false }, { type: 'http-get', messagesLimitCount: 2, messagesLimitDurationMs: 10_000 }],
        endpoints: [{ type: 'kafka', bootstrapServers: [bootstrap], consumer: { topics: [topic] } }],
        fanout: { maxResumingSubscriptions: 1 },
      } as never,
    },
    handover: {
      definition: {
        entrypoints: [{ type: 'websocket', publisher: false }],
        endpoints: [{ type: 'kafka', bootstrapServers: [bootstrap], consumer: { topics: [handoverTopic] } }],
      } as never,
    },
  }));
});
afterAll(() => gateway?.close());

describe('resume capacity (Kafka)', () => {
  it('beyond maxResumingSubscriptions a resume is refused (GET 503 + Retry-After, SSE error event + retry, WebSocket 503); the slot comes back when the holder ends', { timeout: 90_000 }, async () => {
    const holder = new AbortController();
    const held = await fetch(`${gateway.url}/orders/`, { headers: { accept: 'text/event-stream', 'last-event-id': fromStart }, signal: holder.signal });
    expect(held.status).toBe(200);
    expect(await readUntil(held, /data: two/, 30_000)).toMatch(/data: one[\s\S]*data: two/);
    expect(resuming()).toBe(1);

    const poll = await fetch(`${gateway.url}/orders/?cursor=${fromStart}`, { headers: { accept: 'application/json' } });
    expect(poll.status).toBe(503);
    expect(poll.headers.get('retry-after')).toBe('5');
    expect(((await poll.json()) as { code: string }).code).toBe('RESUME_CAPACITY');

    const sse = await fetch(`${gateway.url}/orders/`, { headers: { accept: 'text/event-stream', 'last-event-id': fromStart } });
    expect(sse.status).toBe(200);
    const text = await sse.text();
    const retries = [...text.matchAll(/^retry: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(retries.at(-1)).toBeGreaterThanOrEqual(5000);
    expect(retries.at(-1)).toBeLessThanOrEqual(10_000);
    expect(text).toMatch(/event: error\ndata: \{"code":"RESUME_CAPACITY"/);
    expect(text).not.toMatch(/data: one/);

    const ws = connect(wsUrl(gateway, `/orders/?cursor=${fromStart}`));
    const refused = await ws.opened.then(() => undefined, (error: unknown) => error);
    expect(refused).toBeInstanceOf(HandshakeRefused);
    expect((refused as HandshakeRefused).status).toBe(503);
    expect((refused as HandshakeRefused).headers['retry-after']).toBe('5');

    // The shared fanout is not counted: a client without a cursor is served.
    const live = connect(wsUrl(gateway, '/orders/'));
    await live.opened;
    live.ws.close();
    await live.closed;
    expect(resuming()).toBe(1);

    holder.abort();
    await waitFor(() => resuming() === 0, 15_000, 'the resuming stream to give its slot back');
    const again = await fetch(`${gateway.url}/orders/?cursor=${fromStart}`, { headers: { accept: 'application/json' } });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { items: { content: string }[] }).items.map((i) => i.content)).toEqual(['one', 'two']);
    await waitFor(() => resuming() === 0, 15_000, 'the long poll to give its slot back');
  });

  it('an EventSource client refused for capacity reconnects by itself after the longer retry and resumes once a slot is free', { timeout: 60_000 }, async () => {
    const holder = new AbortController();
    const held = await fetch(`${gateway.url}/orders/`, { headers: { accept: 'text/event-stream', 'last-event-id': fromStart }, signal: holder.signal });
    await readUntil(held, /data: two/, 30_000);
    const attempts: number[] = [];
    const seen: string[] = [];
    const refusals: string[] = [];
    const es = new EventSource(`${gateway.url}/orders/?cursor=${fromStart}`, {
      fetch: (input, init) => {
        attempts.push(Date.now());
        return fetch(input, init);
      },
    });
    try {
      es.addEventListener('error', (event) => {
        if ('data' in event && typeof event.data === 'string') refusals.push((JSON.parse(event.data) as { code: string }).code);
      });
      es.onmessage = (event) => seen.push(event.data as string);
      await waitFor(() => refusals.length === 1, 15_000, 'the RESUME_CAPACITY event');
      expect(refusals).toEqual(['RESUME_CAPACITY']);
      holder.abort();
      await waitFor(() => seen.length >= 2, 20_000, 'the resumed messages after the reconnect');
      expect(seen).toEqual(['one', 'two']);
      expect(attempts.length).toBe(2);
      expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(5000);
    } finally {
      es.close();
      holder.abort();
    }
  });
});

describe('hand-over (Kafka)', () => {
  it('a resumed client that caught up switches onto the shared fanout: its consumer and slot are released, nothing lost or repeated', { timeout: 90_000 }, async () => {
    const exchange = () => gateway.routers.current!.exchanges.get('handover')!;
    await kcatProduce(bootstrap, handoverTopic, ['b1', 'b2', 'b3']);
    const live = connect(wsUrl(gateway, '/handover/'));
    await live.opened;
    const resumedClient = connect(wsUrl(gateway, `/handover/?cursor=${Buffer.from(`${handoverTopic}@0#-1`).toString('base64url')}`));
    await resumedClient.opened;
    await waitFor(() => resumedClient.messages.length >= 3, 30_000, 'the backlog');
    expect(exchange().resuming!.active).toBe(1);
    // Live traffic while it is resumed: the switch happens once it passed a message the fanout delivered too.
    const sent: string[] = [];
    for (let i = 0; i < 30 && exchange().resuming!.active > 0; i++) {
      const batch = [`l${i}a`, `l${i}b`];
      sent.push(...batch);
      await kcatProduce(bootstrap, handoverTopic, batch);
      await waitFor(() => exchange().resuming!.active === 0, 1000, 'the hand-over').catch(() => undefined);
    }
    expect(exchange().resuming!.active).toBe(0);
    expect(exchange().fanout!.clients).toBe(2);
    const after = ['after1', 'after2', 'after3'];
    await kcatProduce(bootstrap, handoverTopic, after);
    const expected = ['b1', 'b2', 'b3', ...sent, ...after];
    // One partition, in order: any duplicate of the switch arrives before the last message.
    await waitFor(() => resumedClient.texts().includes('after3'), 30_000, `${expected.length} messages`);
    expect(resumedClient.texts()).toEqual(expected);
    resumedClient.ws.close();
    live.ws.close();
    await Promise.all([resumedClient.closed, live.closed]);
  });
});
