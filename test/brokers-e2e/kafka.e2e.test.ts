/**
 * Kafka end to end, with independent clients only: kcat produces and consumes, clients are a
 * raw SSE reader, `ws` and fetch. The gateway runs in-process on port 0 against the suite's broker.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith, connect, waitFor, type Client } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { kafkaBootstrap } from '../support/brokers/brokers.ts';
import { openSse, sseContent, type SseStream } from '../contract/sse-client.ts';
import { kcatConsume, kcatProduce, kcatProduceFile } from './clients.ts';

let bootstrap: string;
let admin: Admin;
let gateway: Gateway;
const run = randomUUID().slice(0, 6);
const topic = (name: string) => `e2e-${name}-${run}`;

const kafkaApi = (name: string, extra: Record<string, unknown> = {}) => ({
  definition: {
    entrypoints: [
      { type: 'sse', heartbeatIntervalInMs: 2000 },
      { type: 'websocket' },
      { type: 'http-get', messagesLimitCount: 500, messagesLimitDurationMs: 10_000 },
      { type: 'http-post', requestHeadersToMessage: true },
    ],
    endpoints: [{
      type: 'kafka',
      bootstrapServers: [bootstrap],
      consumer: { topics: [topic(name)] },
      producer: { topic: `${topic(name)}-in`, key: '{header.x-order-id}' },
      ...extra,
    }],
  } as never,
});

const sseTexts = (s: SseStream) => s.events.filter((e) => e.event.startsWith('message')).map((e) => sseContent(e).toString('utf8'));
const wsTexts = (c: Client) => c.texts();
const real = (texts: string[]) => texts.filter((t) => !t.startsWith('warmup-'));
const fanoutClients = (api: string) => gateway.routers.current?.exchanges.get(api)?.fanout?.clients ?? 0;

/**
 * Produces warm-up markers with kcat until every check sees one: from then on the subscriptions are
 * live. Returns how many markers it produced (a slow machine may need more than one; the later ones
 * can still be on their way when the first is seen).
 */
async function warmUp(name: string, ready: () => boolean): Promise<number> {
  for (let i = 0; i < 40; i++) {
    await kcatProduce(bootstrap, topic(name), [`warmup-${i}`]);
    try {
      await waitFor(ready, 500, 'warm-up');
      return i + 1;
    } catch {
      // not yet
    }
  }
  throw new Error('the clients never received a warm-up message');
}

beforeAll(async () => {
  bootstrap = await kafkaBootstrap();
  admin = new Kafka({ clientId: 'e2e-admin', brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      ...['orders', 'fan', 'bytes'].flatMap((n) => [{ topic: topic(n), numPartitions: 1 }, { topic: `${topic(n)}-in`, numPartitions: 1 }]),
      { topic: topic('resume'), numPartitions: 3 },
    ],
  });
  gateway = await gatewayWith(makeBundle({ orders: kafkaApi('orders'), fan: kafkaApi('fan'), resume: kafkaApi('resume'), bytes: kafkaApi('bytes'), fresh: kafkaApi('fresh') }));
});

afterAll(async () => {
  await gateway?.close();
  await admin?.disconnect();
});

describe('kafka end to end', () => {
  it('kcat -P into the topic: the messages arrive in order over SSE, WebSocket and HTTP GET', async () => {
    const sse = await openSse(`${gateway.url}/orders/`);
    const ws = connect(`${gateway.url.replace('http', 'ws')}/orders/`);
    try {
      await ws.opened;
      const markers = await warmUp('orders', () => sseTexts(sse).length > 0 && wsTexts(ws).length > 0);
      // The cursor below must be the last marker's, so wait until every marker produced has arrived.
      await sse.until((s) => sseTexts(s).length >= markers, 15_000, 'every warm-up marker');
      const lastWarmup = sse.events.at(-1)!.id!;
      // A long poll without cursor joins the live stream: messages produced after it connected.
      const poll = fetch(`${gateway.url}/orders/?limit=10`, { headers: { accept: 'application/json' } }).then((r) => r.json());
      await waitFor(() => fanoutClients('orders') === 3, 5_000, 'the long poll to join the stream');
      const orders = Array.from({ length: 10 }, (_, i) => `{"order":${i}}`);
      await kcatProduce(bootstrap, topic('orders'), orders);

      await sse.until((s) => real(sseTexts(s)).length >= 10, 15_000, 'SSE orders');
      await waitFor(() => real(wsTexts(ws)).length >= 10, 15_000, 'WebSocket orders');
      expect(real(sseTexts(sse))).toEqual(orders);
      expect(real(wsTexts(ws))).toEqual(orders);
      const body = (await poll) as { items: { id: string; content: string }[]; pagination: { nextCursor?: string } };
      expect(body.items.map((i) => i.content)).toEqual(orders);
      expect(body.pagination.nextCursor).toBe(body.items.at(-1)!.id);
      // The same messages by cursor: a GET resuming after the last warm-up the SSE client saw.
      const resumed = (await (await fetch(`${gateway.url}/orders/?limit=10&cursor=${lastWarmup}`, { headers: { accept: 'application/json' } })).json()) as typeof body;
      expect(resumed.items.map((i) => i.content)).toEqual(orders);
    } finally {
      sse.close();
      ws.ws.close();
    }
  });

  it('HTTP POST and WebSocket frames: kcat -C reads them with the expected key and headers', async () => {
    const posted = await fetch(`${gateway.url}/orders/`, {
      method: 'POST',
      body: '{"order":"posted"}',
      headers: { 'content-type': 'application/json', 'x-order-id': 'A-42', 'x-trace': 't1', authorization: 'Bearer not-forwarded' },
    });
    expect(posted.status).toBe(202);
    const ws = connect(`${gateway.url.replace('http', 'ws')}/orders/`);
    await ws.opened;
    ws.ws.send('{"order":"from-websocket"}');
    const records = await kcatConsume(bootstrap, `${topic('orders')}-in`, 2);
    ws.ws.close();
    expect(records[0]).toMatchObject({ key: 'A-42', payload: '{"order":"posted"}' });
    expect(records[0]!.headers).toMatchObject({ 'x-order-id': 'A-42', 'x-trace': 't1', 'content-type': 'application/json' });
    expect(records[0]!.headers).not.toHaveProperty('authorization');
    expect(records[1]).toMatchObject({ key: '', payload: '{"order":"from-websocket"}' });
  });

  it('100 SSE and WebSocket clients share exactly one consumer of the API, and each gets every message', async () => {
    const sse = await Promise.all(Array.from({ length: 50 }, () => openSse(`${gateway.url}/fan/`)));
    const ws = Array.from({ length: 50 }, () => connect(`${gateway.url.replace('http', 'ws')}/fan/`));
    try {
      await Promise.all(ws.map((c) => c.opened));
      await warmUp('fan', () => sse.every((s) => sseTexts(s).length > 0) && ws.every((c) => wsTexts(c).length > 0));
      const { groups } = await admin.listGroups();
      const ours = groups.map((g) => g.groupId).filter((id) => id.startsWith('sluice-fan-'));
      const described = await admin.describeGroups(ours);
      expect(described.groups.reduce((n, g) => n + g.members.length, 0)).toBe(1);

      const messages = Array.from({ length: 20 }, (_, i) => `fan-${i}`);
      await kcatProduce(bootstrap, topic('fan'), messages);
      await waitFor(() => sse.every((s) => real(sseTexts(s)).length >= 20) && ws.every((c) => real(wsTexts(c)).length >= 20), 20_000, 'every client to get 20 messages');
      for (const s of sse) expect(real(sseTexts(s))).toEqual(messages);
      for (const c of ws) expect(real(wsTexts(c))).toEqual(messages);
    } finally {
      sse.forEach((s) => s.close());
      ws.forEach((c) => c.ws.close());
    }
  });

  it('disconnect with a cursor, 100 more messages, reconnect with it: exactly those 100 over HTTP GET, SSE and WebSocket', async () => {
    const first = await openSse(`${gateway.url}/resume/`);
    await warmUp('resume', () => sseTexts(first).length > 0);
    const before = Array.from({ length: 12 }, (_, i) => `k${i % 4}:before-${i}`);
    await kcatProduce(bootstrap, topic('resume'), before, { keyed: true });
    await first.until((s) => real(sseTexts(s)).length >= 12, 15_000, '12 messages before');
    const cursor = first.events.at(-1)!.id!;
    first.close();

    const after = Array.from({ length: 100 }, (_, i) => `after-${i}`);
    await kcatProduce(bootstrap, topic('resume'), after.map((m, i) => `k${i % 7}:${m}`), { keyed: true });
    const inKeyOrder = (texts: string[]) => {
      // Across partitions order is free; within a key (one partition) it must be kept.
      for (let k = 0; k < 7; k++) {
        const ofKey = after.filter((_, i) => i % 7 === k);
        expect(texts.filter((t) => ofKey.includes(t))).toEqual(ofKey);
      }
    };

    const poll = (await (await fetch(`${gateway.url}/resume/?limit=100&cursor=${cursor}`, { headers: { accept: 'application/json' } })).json()) as { items: { content: string }[] };
    const got = poll.items.map((i) => i.content);
    expect(got).toHaveLength(100);
    expect(new Set(got)).toEqual(new Set(after));
    inKeyOrder(got);

    const sse = await openSse(`${gateway.url}/resume/`, { 'last-event-id': cursor });
    const ws = connect(`${gateway.url.replace('http', 'ws')}/resume/?cursor=${cursor}`);
    try {
      await sse.until((s) => sseTexts(s).length >= 100, 20_000, 'SSE resume');
      await waitFor(() => wsTexts(ws).length >= 100, 20_000, 'WebSocket resume');
      // One more message proves nothing else was queued before it on its partition.
      await kcatProduce(bootstrap, topic('resume'), ['k0:sentinel'], { keyed: true });
      await sse.until((s) => sseTexts(s).includes('sentinel'), 10_000, 'SSE sentinel');
      await waitFor(() => wsTexts(ws).includes('sentinel'), 10_000, 'WebSocket sentinel');
      for (const texts of [sseTexts(sse), wsTexts(ws)]) {
        const resumed = texts.filter((t) => t !== 'sentinel');
        expect(resumed).toHaveLength(100);
        expect(new Set(resumed)).toEqual(new Set(after));
        inKeyOrder(resumed);
      }
    } finally {
      sse.close();
      ws.ws.close();
    }
  });

  it('a non-UTF-8 payload: a binary WebSocket frame, base64 over SSE (message-base64) and HTTP GET (contentEncoding)', async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41]);
    const dir = mkdtempSync(join(tmpdir(), 'sluice-e2e-'));
    const file = join(dir, 'payload.bin');
    writeFileSync(file, bytes);
    const sse = await openSse(`${gateway.url}/bytes/`);
    const ws = connect(`${gateway.url.replace('http', 'ws')}/bytes/`);
    try {
      await ws.opened;
      await warmUp('bytes', () => sseTexts(sse).length > 0 && wsTexts(ws).length > 0);
      const cursor = sse.events.at(-1)!.id!;
      await kcatProduceFile(bootstrap, topic('bytes'), file);
      await sse.until((s) => s.events.some((e) => e.event === 'message-base64'), 10_000, 'SSE binary event');
      await waitFor(() => ws.messages.some((m) => m.binary), 10_000, 'WebSocket binary frame');
      const frame = ws.messages.find((m) => m.binary)!;
      expect(Buffer.from(frame.data).equals(bytes)).toBe(true);
      const event = sse.events.find((e) => e.event === 'message-base64')!;
      expect(event.data).toBe(bytes.toString('base64'));
      const poll = (await (await fetch(`${gateway.url}/bytes/?limit=1&cursor=${cursor}`, { headers: { accept: 'application/json' } })).json()) as { items: { content: string; contentEncoding?: string }[] };
      expect(poll.items[0]).toMatchObject({ content: bytes.toString('base64'), contentEncoding: 'base64' });
    } finally {
      sse.close();
      ws.ws.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a topic that does not exist yet: the subscription waits for it and delivers from its first message', async () => {
    const sse = await openSse(`${gateway.url}/fresh/`);
    try {
      await waitFor(() => fanoutClients('fresh') === 1, 5_000, 'the SSE client to subscribe');
      // kcat creates the topic (broker auto-creation) with its first message.
      await warmUp('fresh', () => sseTexts(sse).length > 0);
      expect(sseTexts(sse)[0]).toBe('warmup-0');
      expect(sse.events.some((e) => e.event === 'error')).toBe(false);
    } finally {
      sse.close();
    }
  });
});
