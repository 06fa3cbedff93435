import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import { registryWith } from '../support/registry.ts';
import { noMeters, Telemetry, type TelemetryEvent } from '../../runtime/metrics/telemetry.ts';
import { Fanout } from '../../runtime/subscribe/fanout.ts';
import { Connections } from '../../runtime/connections.ts';
import { CountingEndpoint as Endpoint } from './counting-endpoint.ts';
import { makeBundle } from '../support/bundles.ts';
import { countingFactory, kafkaConfig, type CountingEndpoint } from './counting-endpoint.ts';
import { connect, gatewayWith, waitFor, within, wsUrl, type Client } from '../support/harness.ts';

const counting = countingFactory();
const registry = registryWith({ kafka: counting.factory });

const events: TelemetryEvent[] = [];

let gateway: Gateway;
const endpointOf = (api: string) => gateway.routers.current!.exchanges.get(api)!.subscribeEndpoint as CountingEndpoint;
const fanoutOf = (api: string) => gateway.routers.current!.exchanges.get(api)!.fanout!;

beforeAll(async () => {
  gateway = await gatewayWith(makeBundle({
    shared: { definition: { entrypoints: [{ type: 'websocket' }, { type: 'http-get' }], endpoints: [kafkaConfig as never] } },
    strict: { definition: { entrypoints: [{ type: 'websocket' }], endpoints: [kafkaConfig as never], fanout: { queueSize: 8 } } },
    lenient: { definition: { entrypoints: [{ type: 'websocket' }], endpoints: [kafkaConfig as never], fanout: { queueSize: 8, slowConsumerPolicy: 'drop-oldest' } } },
  }), { registry });
  gateway.telemetry.on((event) => events.push(event));
});
afterAll(() => gateway.close());

/** A client whose TCP socket stops reading once the handshake is done. */
async function stalled(path: string): Promise<Client> {
  const client = connect(wsUrl(gateway, path));
  await client.opened;
  (client.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
  return client;
}

describe('fanout', () => {
  it('serves 200 concurrent WebSocket clients from ONE upstream subscription', async () => {
    const endpoint = endpointOf('shared');
    const clients = Array.from({ length: 200 }, () => connect(wsUrl(gateway, '/shared')));
    await within(Promise.all(clients.map((c) => c.opened)), 10_000, '200 handshakes');
    await waitFor(() => fanoutOf('shared').clients === 200, 5000, '200 fanout clients');
    expect(endpoint.subscribeCalls).toBe(1);
    expect(endpoint.activeSubscriptions).toBe(1);
    // A long-poll on the same API joins the same upstream.
    const poll = fetch(`${gateway.url}/shared?limit=3`, { headers: { Accept: 'application/json' } }).then((r) => r.json());
    await waitFor(() => fanoutOf('shared').clients === 201, 2000, 'the long-poll to join');
    for (let i = 0; i < 3; i++) endpoint.emit(`m${i}`);
    await waitFor(() => clients.every((c) => c.messages.length === 3), 5000, 'every client to get 3 messages');
    expect(clients[199]!.texts()).toEqual(['m0', 'm1', 'm2']);
    expect((await poll).items.map((i: { content: string }) => i.content)).toEqual(['m0', 'm1', 'm2']);
    expect(endpoint.subscribeCalls).toBe(1);
    const status = await (await fetch(`${gateway.adminUrl}/status`)).json();
    expect(status.apis.shared.connections).toEqual({ websocket: 200 });
    for (const c of clients) c.ws.close();
    await waitFor(() => endpoint.activeSubscriptions === 0, 5000, 'the last client leaving to stop the upstream');
    expect(fanoutOf('shared').upstreamActive).toBe(false);
    // The next client opens a new upstream subscription.
    const again = connect(wsUrl(gateway, '/shared'));
    await again.opened;
    await waitFor(() => endpoint.activeSubscriptions === 1, 2000, 'a new upstream');
    expect(endpoint.subscribeCalls).toBe(2);
    again.ws.close();
  }, 30_000);

  it('disconnects a client that stops reading (1013) without slowing the others, queue bounded', async () => {
    const endpoint = endpointOf('strict');
    const reader = connect(wsUrl(gateway, '/strict'));
    await reader.opened;
    const slow = await stalled('/strict');
    await waitFor(() => fanoutOf('strict').clients === 2, 2000, 'two clients');
    const big = Buffer.alloc(64 * 1024, 'x');
    const before = events.filter((e) => e.kind === 'slow-consumer').length;
    for (let i = 0; i < 400 && fanoutOf('strict').clients === 2; i++) {
      expect(fanoutOf('strict').maxQueued()).toBeLessThanOrEqual(8);
      endpoint.emit(big);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => fanoutOf('strict').clients === 1, 5000, 'the slow client to be dropped');
    expect(events.filter((e) => e.kind === 'slow-consumer').length).toBe(before + 1);
    await waitFor(() => gateway.routers.current!.exchanges.get('strict')!.connections.size === 1, 5000, 'the slow connection to close');
    expect(reader.ws.readyState).toBe(reader.ws.OPEN);
    const received = reader.messages.length;
    endpoint.emit('after');
    await waitFor(() => reader.messages.length === received + 1, 5000, 'the reader to keep receiving');
    slow.ws.terminate();
    reader.ws.close();
  }, 30_000);

  it('drops the oldest messages of a slow client under drop-oldest, queue bounded, client kept', async () => {
    const endpoint = endpointOf('lenient');
    const slow = await stalled('/lenient');
    await waitFor(() => fanoutOf('lenient').clients === 1, 2000, 'the client');
    const big = Buffer.alloc(64 * 1024, 'y');
    const dropped = () => events.filter((e) => e.kind === 'dropped' && e.api === 'lenient').length;
    for (let i = 0; i < 400 && dropped() < 20; i++) {
      endpoint.emit(big);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(dropped()).toBeGreaterThanOrEqual(20);
    expect(fanoutOf('lenient').maxQueued()).toBeLessThanOrEqual(8);
    expect(fanoutOf('lenient').clients).toBe(1);
    slow.ws.terminate();
  }, 30_000);
});

describe('fanout internals', () => {
  it('hands every client the same Delivery, so a frame is encoded once per message', async () => {
    const endpoint = new Endpoint();
    const fanout = new Fanout(endpoint, (m) => m, { queueSize: 4, slowConsumerPolicy: 'disconnect', maxQueuedBytes: 1024 * 1024 }, 'x', new Telemetry());
    const a = new AbortController();
    const b = new AbortController();
    const qa = fanout.attach(a.signal);
    const qb = fanout.attach(b.signal);
    await waitFor(() => endpoint.activeSubscriptions === 1, 1000, 'the upstream');
    endpoint.emit('hello');
    const [da, db] = await Promise.all([qa.next(), qb.next()]);
    expect(da.value).toBe(db.value);
    let encodes = 0;
    const encode = (m: { content: Buffer }) => (encodes++, m.content.toString().toUpperCase());
    expect(da.value!.encoded('websocket', encode)).toBe('HELLO');
    expect(db.value!.encoded('websocket', encode)).toBe('HELLO');
    expect(db.value!.encoded('sse', encode)).toBe('HELLO');
    expect(da.value!.encoded('sse', encode)).toBe('HELLO');
    expect(encodes).toBe(2);
    a.abort();
    b.abort();
    await waitFor(() => endpoint.activeSubscriptions === 0, 1000, 'the upstream to stop');
    expect(await qa.next()).toEqual({ value: undefined, done: true });
  });

  it('a queue that ends before its signal aborts stops listening to it (a long-lived connection does not keep every queue it had)', async () => {
    const endpoint = new Endpoint();
    const fanout = new Fanout(endpoint, (m) => m, { queueSize: 4, slowConsumerPolicy: 'disconnect', maxQueuedBytes: 1024 * 1024 }, 'x', new Telemetry());
    // One connection (a resuming client) over which hand-over attempts come and go.
    const connection = new Connections('x', noMeters).open('sse', { planKey: 'open', planType: 'keyless', rateKey: 'addr:x' });
    const listening = new Set<unknown>();
    const add = connection.addEventListener.bind(connection);
    const remove = connection.removeEventListener.bind(connection);
    connection.addEventListener = (type, listener) => (listening.add(listener), add(type, listener));
    connection.removeEventListener = (type, listener) => (listening.delete(listener), remove(type, listener));
    for (let i = 0; i < 3; i++) await fanout.attach(connection).return();
    expect(listening.size).toBe(0);
    const live = fanout.attach(connection);
    expect(listening.size).toBe(1);
    connection.abort(new Error('client gone'));
    expect(await live.next()).toEqual({ value: undefined, done: true });
    expect(listening.size).toBe(0);
  });

  it('fails a full queue at once under disconnect and reports it through onFailure', async () => {
    const endpoint = new Endpoint();
    const fanout = new Fanout(endpoint, (m) => m, { queueSize: 2, slowConsumerPolicy: 'disconnect', maxQueuedBytes: 1024 * 1024 }, 'x', new Telemetry());
    const failures: unknown[] = [];
    const queue = fanout.attach(new AbortController().signal, (reason) => failures.push(reason));
    await waitFor(() => endpoint.activeSubscriptions === 1, 1000, 'the upstream');
    for (let i = 0; i < 3; i++) endpoint.emit(`m${i}`);
    await waitFor(() => failures.length === 1, 1000, 'the failure');
    expect(failures[0]).toMatchObject({ code: 'SLOW_CONSUMER', closeCode: 1013 });
    await expect(queue.next()).rejects.toMatchObject({ code: 'SLOW_CONSUMER' });
    await waitFor(() => endpoint.activeSubscriptions === 0, 1000, 'the upstream to stop with its last client');
  });
});
