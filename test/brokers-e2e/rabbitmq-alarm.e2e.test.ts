/**
 * RabbitMQ under pressure on a dedicated broker: a memory alarm (`set_vm_memory_high_watermark 0`)
 * makes the broker block publishers, and HTTP POST answers 503 within the documented bound (10 s
 * without a confirm) and never 202 for what the broker did not confirm; once the alarm clears, POST
 * is 202 again and those messages arrive. A message over consumer.maxMessageBytes is rejected
 * (not requeued, not redelivered) while the SSE stream stays open and gets the later messages.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import amqp from 'amqplib';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { startRabbit, type RabbitBroker } from '../support/brokers/rabbitmq-broker.ts';
import { openSse, sseContent, type SseStream } from '../contract/sse-client.ts';
import { eventually } from '../contract/endpoint-suite.ts';

/** docs/guides/brokers.md: "does not confirm within 10 s is 503"; plus slack for a loaded machine. */
const BOUND_MS = 10_000 + 3_000;
const MAX_MESSAGE_BYTES = 1024;
let broker: RabbitBroker;
let gateway: Gateway;
const texts = (s: SseStream) => s.events.filter((e) => e.event.startsWith('message')).map((e) => sseContent(e).toString('utf8'));

beforeAll(async () => {
  broker = await startRabbit();
  const admin = await amqp.connect(broker.url);
  const channel = await admin.createChannel();
  await channel.assertExchange('alarm', 'topic', { durable: true });
  await channel.assertQueue('alarm-audit', { durable: true });
  await channel.bindQueue('alarm-audit', 'alarm', 'in');
  await admin.close();
  gateway = await gatewayWith(makeBundle({
    alarm: {
      definition: {
        entrypoints: [{ type: 'sse', heartbeatIntervalInMs: 2000 }, { type: 'http-post' }],
        endpoints: [{ type: 'rabbitmq', serverHost: '127.0.0.1', serverPort: broker.port, consumer: { exchange: 'alarm', bindingKey: 'out.#', maxMessageBytes: MAX_MESSAGE_BYTES }, producer: { exchange: 'alarm', routingKey: 'in' } }],
      } as never,
    },
  }));
}, 90_000);

afterAll(async () => {
  await gateway?.close();
  await broker?.close();
});

const post = (body: string) => fetch(`${gateway.url}/alarm/`, { method: 'POST', body });

async function audited(): Promise<string[]> {
  const admin = await amqp.connect(broker.url);
  try {
    const channel = await admin.createChannel();
    const out: string[] = [];
    for (let got = await channel.get('alarm-audit', { noAck: true }); got; got = await channel.get('alarm-audit', { noAck: true })) out.push(got.content.toString());
    return out;
  } finally {
    await admin.close();
  }
}

it('a memory alarm blocks publishers: POST is 503 within the bound, never 202; after it clears, 202 and delivered', { timeout: 90_000 }, async () => {
  expect((await post('before')).status).toBe(202);
  expect(await audited()).toEqual(['before']);

  await broker.ctl('set_vm_memory_high_watermark', '0');
  try {
    const started = Date.now();
    const answers = await Promise.all(['blocked-1', 'blocked-2', 'blocked-3'].map(async (body) => {
      const res = await post(body);
      return { status: res.status, body: (await res.json()) as { code?: string }, ms: Date.now() - started };
    }));
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(answer.body.code).toBe('ENDPOINT_UNAVAILABLE');
      expect(answer.ms).toBeLessThan(BOUND_MS);
    }
    // The endpoint now knows (connection.blocked): later POSTs are refused at once.
    await eventually(async () => {
      const t0 = Date.now();
      const res = await post('blocked-later');
      expect(res.status).toBe(503);
      expect(Date.now() - t0).toBeLessThan(1_000);
    }, BOUND_MS);
  } finally {
    await broker.ctl('set_vm_memory_high_watermark', '0.4');
  }

  // Cleared: POST is 202 again (the broker sends connection.unblocked), and a 202 means it is queued.
  await eventually(async () => expect((await post('after')).status).toBe(202), 20_000);
  const seen: string[] = [];
  await eventually(async () => {
    seen.push(...(await audited()));
    expect(seen).toContain('after');
  }, 10_000);
  // A POST refused at once (the endpoint knew the broker blocked) never reached the broker. One that
  // was written before the broker said so and timed out (503) may still be taken once the alarm
  // clears: a 503 means "not confirmed", not "not delivered" (docs/guides/brokers.md says so).
  expect(seen).not.toContain('blocked-later');
});

it('a message over consumer.maxMessageBytes is rejected, not redelivered, and the stream goes on', { timeout: 30_000 }, async () => {
  const sse = await openSse(`${gateway.url}/alarm/`);
  const admin = await amqp.connect(broker.url);
  try {
    const channel = await admin.createConfirmChannel();
    const send = (content: Buffer) =>
      new Promise<void>((resolve, reject) => channel.publish('alarm', 'out.x', content, {}, (e: unknown) => (e ? reject(e) : resolve())));
    // The fan-out queue is bound once the stream is open: keep sending until the client sees one.
    await eventually(async () => {
      await send(Buffer.from('warmup'));
      await sse.until((s) => texts(s).includes('warmup'), 500, 'warmup');
    }, 10_000);
    await send(Buffer.from('small-1'));
    await send(Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x62));
    await send(Buffer.from('small-2'));
    await send(Buffer.from('small-3'));
    await sse.until((s) => texts(s).includes('small-3'), 10_000, 'messages after the oversized one');
    const seen = texts(sse).filter((t) => t !== 'warmup');
    expect(seen).toEqual(['small-1', 'small-2', 'small-3']);
    expect(sse.events.some((e) => e.event === 'error')).toBe(false);
    // The broker's own listing: the API's queue holds nothing unacknowledged (rejected without requeue).
    const queues = await broker.ctl('list_queues', 'name', 'messages');
    const ours = queues.split('\n').filter((line) => line.startsWith('sluice.alarm.'));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatch(/\s0$/);
  } finally {
    sse.close();
    await admin.close();
  }
});
