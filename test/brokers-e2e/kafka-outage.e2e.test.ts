/**
 * A Kafka broker that goes away mid-stream and comes back, on a dedicated broker (the suite's
 * shared one is not touched): the gateway stays up, clients get a clear error/close, publishes
 * answer 503, /readyz names the endpoint; once the broker is back, service resumes without
 * restarting the gateway and SSE resumes from Last-Event-ID.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith, connect, strictReadyz, untilReady, waitFor, within } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { startKafka, type KafkaBroker } from '../support/brokers/kafka-broker.ts';
import { openSse, sseContent, type SseStream } from '../contract/sse-client.ts';
import { kcatProduce } from './clients.ts';

let broker: KafkaBroker;
let gateway: Gateway;
const topic = 'outage';
const texts = (s: SseStream) => s.events.filter((e) => e.event === 'message').map((e) => sseContent(e).toString('utf8'));

beforeAll(async () => {
  broker = await startKafka();
  const admin = new Kafka({ clientId: 'outage-admin', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }, { topic: `${topic}-in`, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  gateway = await gatewayWith(makeBundle({
    orders: {
      definition: {
        entrypoints: [{ type: 'sse', heartbeatIntervalInMs: 2000, retryMs: 500 }, { type: 'websocket' }, { type: 'http-post' }],
        endpoints: [{ type: 'kafka', bootstrapServers: [broker.bootstrap], consumer: { topics: [topic] }, producer: { topic: `${topic}-in` } }],
      } as never,
    },
    alive: {},
  }));
});

afterAll(async () => {
  await gateway?.close();
  await broker?.close();
});

async function post(body: string): Promise<{ status: number; body: string; retryAfter: string | null }> {
  const res = await fetch(`${gateway.url}/orders/`, { method: 'POST', body });
  return { status: res.status, body: await res.text(), retryAfter: res.headers.get('retry-after') };
}

const readyz = () => strictReadyz(gateway);

it('broker down mid-stream: gateway up, clear error and close, POST 503; broker back: service resumes without a restart', { timeout: 180_000 }, async () => {
  const sse = await openSse(`${gateway.url}/orders/`);
  const ws = connect(`${gateway.url.replace('http', 'ws')}/orders/`);
  await ws.opened;
  for (let i = 0; texts(sse).length === 0 || ws.messages.length === 0; i++) {
    if (sse.events.some((e) => e.event === 'error')) throw new Error(`the SSE stream failed during warm-up:\n${sse.raw()}`);
    if (i > 60) throw new Error(`clients never received a warm-up message; SSE said:\n${sse.raw()}`);
    await kcatProduce(broker.bootstrap, topic, [`before-${i}`]);
    await waitFor(() => texts(sse).length > 0 && ws.messages.length > 0, 500, 'warm-up').catch(() => {});
  }
  expect((await post('accepted while up')).status).toBe(202);
  const lastSeen = sse.events.filter((e) => e.event === 'message').at(-1)!.id!;

  const stoppedAt = Date.now();
  await broker.stop();

  // Clients: SSE gets an error event and the stream ends; WebSocket closes with 1011.
  await sse.until((s) => s.events.some((e) => e.event === 'error'), 60_000, 'SSE error event');
  const error = JSON.parse(sse.events.find((e) => e.event === 'error')!.data);
  expect(error.code).toBe('ENDPOINT_UNAVAILABLE');
  await within(sse.ended, 10_000, 'SSE stream end');
  const closed = await within(ws.closed, 60_000, 'WebSocket close');
  expect(closed.code).toBe(1011);
  const noticedAfterMs = Date.now() - stoppedAt;

  // Publishes: 503 with a clear JSON body; readiness names the endpoint; the gateway still serves.
  let refused = await post('while down');
  for (let i = 0; refused.status !== 503 && i < 30; i++) refused = await post('while down');
  expect(refused.status).toBe(503);
  expect(JSON.parse(refused.body)).toMatchObject({ code: 'ENDPOINT_UNAVAILABLE' });
  expect(refused.retryAfter).toBe('5');
  const notReady = await readyz();
  expect(notReady.status).toBe(503);
  expect(notReady.body).toContain('kafka');
  const alive = await fetch(`${gateway.url}/alive/?limit=1`);
  expect(alive.status).toBe(200);
  const duringOutage = await openSse(`${gateway.url}/orders/`);
  expect(duringOutage.status).toBe(200);
  await duringOutage.until((s) => s.events.some((e) => e.event === 'error'), 10_000, 'SSE error while down');
  duringOutage.close();

  // The broker returns on the same address: readiness, publishes and streams come back by themselves.
  await broker.start();
  await untilReady(gateway);
  expect((await post('accepted again')).status).toBe(202);
  const resumed = await openSse(`${gateway.url}/orders/`, { 'last-event-id': lastSeen });
  const ws2 = connect(`${gateway.url.replace('http', 'ws')}/orders/`);
  await ws2.opened;
  try {
    await kcatProduce(broker.bootstrap, topic, ['after-0', 'after-1', 'after-2']);
    await resumed.until((s) => texts(s).includes('after-2'), 30_000, 'resumed SSE');
    expect(texts(resumed)).toEqual(['after-0', 'after-1', 'after-2']);
    for (let i = 0; !ws2.texts().includes('after-ws'); i++) {
      if (i > 40) throw new Error('the new WebSocket client never received a message');
      await kcatProduce(broker.bootstrap, topic, ['after-ws']);
      await waitFor(() => ws2.texts().includes('after-ws'), 500, 'ws').catch(() => {});
    }
  } finally {
    resumed.close();
    ws2.ws.close();
  }
  console.log(`[outage] clients noticed the broker loss after ${noticedAfterMs} ms`);
});
