/**
 * A nats-server that goes away mid-stream and comes back (a dedicated one with its own JetStream
 * store; the suite's shared server is not touched): the gateway stays up, SSE gets an error event
 * and WebSocket closes 1011, POST answers 503, /readyz names the endpoint; once the server is back,
 * service resumes without a restart and SSE resumes from Last-Event-ID with every message JetStream
 * acknowledged (a 202), before and after the outage: nothing acknowledged is lost.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect as natsConnect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith, connect, strictReadyz, untilReady, waitFor, within, wsUrl } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { startNats, type NatsBroker } from '../support/brokers/nats-broker.ts';
import { openSse, sseContent, type SseStream } from '../contract/sse-client.ts';

let broker: NatsBroker;
let gateway: Gateway;
const texts = (s: SseStream) => s.events.filter((e) => e.event === 'message').map((e) => sseContent(e).toString('utf8'));

beforeAll(async () => {
  broker = await startNats();
  const nc = await natsConnect({ servers: broker.url });
  await (await jetstreamManager(nc)).streams.add({ name: 'OUTAGE', subjects: ['outage.>'] });
  await nc.close();
  gateway = await gatewayWith(makeBundle({
    orders: {
      definition: {
        entrypoints: [{ type: 'sse', heartbeatIntervalInMs: 2000, retryMs: 500 }, { type: 'websocket' }, { type: 'http-post' }],
        endpoints: [{ type: 'nats', servers: [broker.url], stream: 'OUTAGE', consumer: { subject: 'outage.>' }, producer: { subject: 'outage.posted' } }],
      } as never,
    },
  }));
});

afterAll(async () => {
  await gateway?.close();
  await broker?.close();
});

async function post(body: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${gateway.url}/orders/`, { method: 'POST', body });
  return { status: res.status, body: await res.text() };
}

const readyz = () => strictReadyz(gateway);

it('nats-server down mid-stream: 503s and a clear close; back: service and cursors resume, nothing acknowledged lost', { timeout: 120_000 }, async () => {
  const sse = await openSse(`${gateway.url}/orders/`);
  const ws = connect(wsUrl(gateway, '/orders/'));
  await ws.opened;
  const acknowledged: string[] = [];
  for (let i = 0; texts(sse).length === 0 || ws.messages.length === 0; i++) {
    if (i > 60) throw new Error(`clients never received a warm-up message; SSE said:\n${sse.raw()}`);
    const body = `before-${i}`;
    expect((await post(body)).status).toBe(202);
    acknowledged.push(body);
    await waitFor(() => texts(sse).length > 0 && ws.messages.length > 0, 500, 'warm-up').catch(() => {});
  }
  await sse.until((s) => texts(s).length === acknowledged.length, 10_000, 'SSE has every message so far');
  const lastSeen = sse.events.filter((e) => e.event === 'message').at(-1)!.id!;
  // Acknowledged but not yet read by anyone when the server goes away.
  for (const body of ['unread-0', 'unread-1']) {
    expect((await post(body)).status).toBe(202);
    acknowledged.push(body);
  }

  await broker.stop();
  await sse.until((s) => s.events.some((e) => e.event === 'error'), 30_000, 'SSE error event');
  expect(JSON.parse(sse.events.find((e) => e.event === 'error')!.data).code).toBe('ENDPOINT_UNAVAILABLE');
  await within(sse.ended, 10_000, 'SSE stream end');
  expect((await within(ws.closed, 30_000, 'WebSocket close')).code).toBe(1011);

  const refused = await post('while down');
  expect(refused.status).toBe(503);
  expect(JSON.parse(refused.body)).toMatchObject({ code: 'ENDPOINT_UNAVAILABLE' });
  const notReady = await readyz();
  expect(notReady.status).toBe(503);
  expect(notReady.body).toContain('nats');
  const duringOutage = await openSse(`${gateway.url}/orders/`, { 'last-event-id': lastSeen });
  await duringOutage.until((s) => s.events.some((e) => e.event === 'error'), 10_000, 'SSE error while down');
  duringOutage.close();

  await broker.start();
  await untilReady(gateway);
  let again = await post('after-0');
  for (let i = 0; again.status !== 202 && i < 40; i++) {
    await new Promise((r) => setTimeout(r, 250)); // JetStream recovers its store after the server
    again = await post('after-0');
  }
  expect(again.status).toBe(202);
  acknowledged.push('after-0');

  const resumed = await openSse(`${gateway.url}/orders/`, { 'last-event-id': lastSeen });
  const ws2 = connect(wsUrl(gateway, '/orders/'));
  try {
    await ws2.opened;
    const expected = acknowledged.slice(acknowledged.indexOf('unread-0'));
    await resumed.until((s) => texts(s).length >= expected.length, 30_000, 'resumed SSE');
    expect(texts(resumed)).toEqual(expected);
    for (let i = 0; !ws2.texts().includes('after-ws'); i++) {
      if (i > 40) throw new Error('the new WebSocket client never received a message');
      expect((await post('after-ws')).status).toBe(202);
      await waitFor(() => ws2.texts().includes('after-ws'), 500, 'ws').catch(() => {});
    }
  } finally {
    resumed.close();
    ws2.ws.close();
  }
});
