/**
 * The nats endpoint end to end, on the suite's nats-server (JetStream on), with real clients and an
 * independent NATS client in a separate process (test/brokers-e2e/nats-cli.mjs, nats.js):
 * - over a JetStream stream the stream sequence is the cursor: HTTP GET `?cursor=`, SSE
 *   `Last-Event-ID` and WebSocket `?cursor=` each resume with exactly what followed;
 * - interop both ways with headers: an outside publish reaches WebSocket clients, a POST reaches an
 *   outside subscriber (and, with a stream, is stored before the 202);
 * - one upstream per API: many clients, one subscription in the server's /connz, one consumer on the stream.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith, connect, waitFor, wsUrl, type Client } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { natsServer } from '../support/brokers/brokers.ts';
import { openSse, sseContent } from '../contract/sse-client.ts';
import { natsPub, natsSub } from './clients.ts';

const run = randomUUID().slice(0, 6);
const stream = `E2E_${run}`;
const js = `e2e.${run}`;
const core = `core.${run}`;
let server: { url: string; monitor: string };
let nc: NatsConnection;
let jsm: JetStreamManager;
let gateway: Gateway;

interface Envelope { id: string; content: string; headers: Record<string, string>; metadata: Record<string, unknown> }

beforeAll(async () => {
  server = await natsServer();
  nc = await natsConnect({ servers: server.url });
  jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [`${js}.>`] });
  gateway = await gatewayWith(makeBundle({
    orders: {
      definition: {
        entrypoints: [
          { type: 'http-get', messagesLimitCount: 10, messagesLimitDurationMs: 3000 },
          { type: 'sse', heartbeatIntervalInMs: 2000 },
          { type: 'websocket', messageEnvelope: true },
          { type: 'http-post', requestHeadersToMessage: true },
        ],
        endpoints: [{ type: 'nats', servers: [server.url], stream, consumer: { subject: `${js}.orders.*` }, producer: { subject: `${js}.posted` } }],
      } as never,
    },
    signals: {
      definition: {
        entrypoints: [{ type: 'websocket' }, { type: 'http-post', requestHeadersToMessage: true }],
        endpoints: [{ type: 'nats', servers: [server.url], consumer: { subject: `${core}.in.>` }, producer: { subject: `${core}.out` } }],
      } as never,
    },
  }));
});
afterAll(async () => {
  await gateway?.close();
  await jsm?.streams.delete(stream).catch(() => {});
  await nc?.close();
});

const envelopes = (client: Client) => client.messages.map((m) => JSON.parse(m.data.toString('utf8')) as Envelope);

/** Publishes outside (separate process) until every client got one: from then on their subscriptions are live. */
async function warmUp(clients: Client[], subject: string, jetstream: boolean): Promise<void> {
  for (let i = 0; clients.some((c) => c.messages.length === 0); i++) {
    if (i > 40) throw new Error('clients never received a warm-up message');
    await natsPub(server.url, subject, [`warmup-${i}`], { jetstream });
    await waitFor(() => clients.every((c) => c.messages.length > 0), 500, 'warm-up').catch(() => {});
  }
}

describe('nats over JetStream: the stream sequence is the cursor', () => {
  it('HTTP GET ?cursor=, SSE Last-Event-ID and WebSocket ?cursor= resume with exactly what followed', { timeout: 60_000 }, async () => {
    const seqs = await natsPub(server.url, `${js}.orders.eu`, ['one', 'two', 'three'], { jetstream: true, headers: { 'x-source': 'nats.js' } });
    expect(seqs).toHaveLength(3);
    const [first, , third] = seqs as [number, number, number];

    const get = await fetch(`${gateway.url}/orders/?cursor=${first}&limit=2`, { headers: { accept: 'application/json' } });
    expect(get.status).toBe(200);
    const body = (await get.json()) as { items: { id: string; content: string }[]; pagination: { nextCursor: string } };
    expect(body.items.map((i) => i.content)).toEqual(['two', 'three']);
    expect(body.items.map((i) => i.id)).toEqual([String(first + 1), String(third)]);
    expect(body.pagination.nextCursor).toBe(String(third));

    const sse = await openSse(`${gateway.url}/orders/`, { 'last-event-id': String(first) });
    const ws = connect(wsUrl(gateway, `/orders/?cursor=${first}`));
    try {
      await ws.opened;
      await sse.until((s) => s.events.filter((e) => e.event === 'message').length >= 2, 15_000, 'SSE resumed');
      const events = sse.events.filter((e) => e.event === 'message');
      expect(events.map((e) => sseContent(e).toString())).toEqual(['two', 'three']);
      expect(events.map((e) => e.id)).toEqual([String(first + 1), String(third)]);
      await waitFor(() => ws.messages.length >= 2, 15_000, 'WebSocket resumed');
      const [two] = envelopes(ws);
      expect(two).toMatchObject({ id: String(first + 1), content: 'two', headers: { 'x-source': 'nats.js' }, metadata: { subject: `${js}.orders.eu`, stream, sequence: first + 1 } });

      // Live from here on: a later message reaches both, once.
      await natsPub(server.url, `${js}.orders.us`, ['four'], { jetstream: true });
      await sse.until((s) => s.events.filter((e) => e.event === 'message').length >= 3, 15_000, 'SSE live');
      await waitFor(() => ws.messages.length >= 3, 15_000, 'WebSocket live');
      expect(envelopes(ws).map((e) => e.content)).toEqual(['two', 'three', 'four']);
      expect(sse.events.filter((e) => e.event === 'message').map((e) => sseContent(e).toString())).toEqual(['two', 'three', 'four']);
    } finally {
      sse.close();
      ws.ws.close();
    }
  });

  it('a malformed cursor is a 400 INVALID_CURSOR', async () => {
    const res = await fetch(`${gateway.url}/orders/?cursor=orders@0%231`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('INVALID_CURSOR');
  });

  it('POST answers 202 once JetStream stored it: the stream holds it with its headers', async () => {
    const res = await fetch(`${gateway.url}/orders/`, { method: 'POST', body: 'posted-js', headers: { 'x-trace': 't-1' } });
    expect(res.status).toBe(202);
    const stored = await jsm.streams.getMessage(stream, { last_by_subj: `${js}.posted` });
    expect(stored!.string()).toBe('posted-js');
    expect(stored!.header.get('x-trace')).toBe('t-1');
  });

  it('many clients, one ordered consumer on the stream', { timeout: 60_000 }, async () => {
    const clients = [connect(wsUrl(gateway, '/orders/')), connect(wsUrl(gateway, '/orders/')), connect(wsUrl(gateway, '/orders/'))];
    try {
      await Promise.all(clients.map((c) => c.opened));
      await warmUp(clients, `${js}.orders.fanout`, true);
      expect((await jsm.consumers.list(stream).next()).length).toBe(1);
    } finally {
      clients.forEach((c) => c.ws.close());
    }
  });
});

describe('nats core subjects', () => {
  it('interop: an outside publish with headers reaches WebSocket clients; a POST reaches an outside subscriber with its headers', { timeout: 60_000 }, async () => {
    const clients = [connect(wsUrl(gateway, '/signals/')), connect(wsUrl(gateway, '/signals/')), connect(wsUrl(gateway, '/signals/'))];
    try {
      await Promise.all(clients.map((c) => c.opened));
      await warmUp(clients, `${core}.in.a`, false);
      await natsPub(server.url, `${core}.in.b.c`, ['hello from outside'], { headers: { 'x-source': 'nats.js' } });
      await waitFor(() => clients.every((c) => c.texts().includes('hello from outside')), 15_000, 'the outside message');

      // One subscription for the API in the server's own listing, however many clients.
      const connz = (await (await fetch(`${server.monitor}/connz?subs=1&limit=1024`)).json()) as { connections: Array<{ subscriptions_list?: string[] }> };
      const subs = connz.connections.flatMap((c) => c.subscriptions_list ?? []).filter((s) => s === `${core}.in.>`);
      expect(subs).toHaveLength(1);

      const outside = natsSub(server.url, `${core}.out`, 1);
      await outside.ready;
      const res = await fetch(`${gateway.url}/signals/`, { method: 'POST', body: 'to outside', headers: { 'x-trace': 'abc' } });
      expect(res.status).toBe(202);
      const [got] = await outside.messages;
      expect(got).toMatchObject({ subject: `${core}.out`, data: 'to outside', headers: { 'x-trace': 'abc' } });
    } finally {
      clients.forEach((c) => c.ws.close());
    }
  });
});
