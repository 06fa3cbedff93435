/**
 * Webhooks over a real RabbitMQ broker (the suite's, test/support/brokers), messages published
 * with an independent amqplib client: two gateways share one durable queue (each message
 * delivered once, through 503 retries); a message is acknowledged only after the callback's 2xx
 * (while it is retried the broker holds it unacknowledged; a gateway that stops gives it back to
 * the queue, and the next one delivers it); a 400 goes to the dead-letter exchange.
 */
import { randomUUID } from 'node:crypto';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Plan, Subscription, WebhookSubscription } from '../../schemas/types.ts';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith, waitFor } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { rabbitUrl } from '../support/brokers/brokers.ts';
import { startCallbackServer, type CallbackServer } from './callback-server.ts';

let broker: URL;
let client: ChannelModel;
let channel: ConfirmChannel;
const gateways: Gateway[] = [];
const servers: CallbackServer[] = [];

beforeAll(async () => {
  broker = new URL(await rabbitUrl());
  client = await amqp.connect(broker.href);
  channel = await client.createConfirmChannel();
});
afterAll(async () => {
  await client?.close();
});
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const push: Record<string, Plan> = { push: { type: 'push', name: 'Push', status: 'published' } };

function bundle(api: string, exchange: string, webhook: Partial<WebhookSubscription> & { callbackUrl: string }) {
  const subscriptions: Record<string, Subscription> = { acme: { plan: 'push', webhook: { retry: { strategy: 'linear', initialDelayMs: 20, maxDelayMs: 50, maxAttempts: 50 }, ...webhook } } };
  return makeBundle({
    [api]: {
      definition: {
        entrypoints: [{ type: 'webhook' }],
        endpoints: [{ type: 'rabbitmq', serverHost: broker.hostname, serverPort: Number(broker.port), consumer: { exchange, bindingKey: 'orders.*' } }],
      },
      plans: push,
      subscriptions,
    },
  });
}

async function started(bundleValue: unknown): Promise<Gateway> {
  const gateway = await gatewayWith(bundleValue);
  gateways.push(gateway);
  return gateway;
}

interface Row { state: string; delivered: number; deadLettered: number; consumer: { connected: boolean; assignment?: string } | null; lastError: { message: string; code?: string } | null }

async function acme(gateway: Gateway): Promise<Row | undefined> {
  const res = await fetch(`${gateway.adminUrl}/subscriptions`);
  return ((await res.json()) as { subscriptions: Row[] }).subscriptions[0];
}

async function until(gateway: Gateway, test: (row: Row) => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  let last: Row | undefined;
  while (Date.now() < deadline) {
    last = await acme(gateway);
    if (last && test(last)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

async function publish(exchange: string, bodies: string[], routingKey = 'orders.eu'): Promise<void> {
  for (const body of bodies) channel.publish(exchange, routingKey, Buffer.from(body), { persistent: true, headers: { source: 'amqplib' } });
  await channel.waitForConfirms();
}

async function exchange(): Promise<string> {
  const name = `webhooks-${randomUUID().slice(0, 8)}`;
  await channel.assertExchange(name, 'topic', { durable: false, autoDelete: false });
  return name;
}

const sequence = (n: number) => Array.from({ length: n }, (_, i) => `m${i}`);

describe('webhooks over RabbitMQ', () => {
  it('two gateways share one durable queue: each message delivered once, through 503s', async () => {
    const source = await exchange();
    const api = `orders${randomUUID().slice(0, 6)}`;
    const target = await startCallbackServer(({ index }) => (index < 3 ? 503 : 200));
    servers.push(target);
    const a = await started(bundle(api, source, { callbackUrl: target.url, headers: [{ name: 'X-Gateway', value: 'a' }] }));
    const b = await started(bundle(api, source, { callbackUrl: target.url, headers: [{ name: 'X-Gateway', value: 'b' }] }));
    for (const gateway of [a, b]) await until(gateway, (row) => row.consumer?.connected === true, 10_000, 'the shared queue');
    expect((await acme(a))!.consumer!.assignment).toBe(`sluice-webhook-${api}-acme`);
    await publish(source, sequence(50));
    await publish(source, ['not bound'], 'invoices.eu');
    await target.waitForDelivered(50, 30_000);
    const delivered = target.received.filter((r) => r.status === 200);
    expect(new Set(delivered.map((r) => r.body))).toEqual(new Set(sequence(50)));
    expect(delivered).toHaveLength(50);
    expect(delivered[0]!.headers.source).toBe('amqplib');
    const counts = [(await acme(a))!.delivered, (await acme(b))!.delivered];
    expect(counts[0]! + counts[1]!).toBe(50);
  });

  it('acknowledges only after a 2xx: a message still retried is given back when the gateway stops, and the next one delivers it', async () => {
    const source = await exchange();
    const api = `orders${randomUUID().slice(0, 6)}`;
    const queue = `sluice-webhook-${api}-acme`;
    const failing = await startCallbackServer(() => 503);
    servers.push(failing);
    const first = await started(bundle(api, source, { callbackUrl: failing.url }));
    await until(first, (row) => row.consumer?.connected === true, 10_000, 'the shared queue');
    await publish(source, ['held']);
    await waitFor(() => failing.received.length >= 3, 10_000, 'retries');
    // In hand and unacknowledged: not ready in the queue, but not gone either.
    expect((await channel.checkQueue(queue)).messageCount).toBe(0);
    await first.close();
    gateways.splice(gateways.indexOf(first), 1);
    for (let i = 0; (await channel.checkQueue(queue)).messageCount !== 1; i++) {
      if (i > 40) throw new Error('the message was not given back to the queue');
      await new Promise((r) => setTimeout(r, 100));
    }
    const ok = await startCallbackServer(() => 200);
    servers.push(ok);
    const second = await started(bundle(api, source, { callbackUrl: ok.url }));
    await ok.waitForDelivered(1, 10_000);
    expect(ok.delivered()).toEqual(['held']);
    await until(second, (row) => row.delivered === 1, 5_000, 'delivered 1');
    for (let i = 0; (await channel.checkQueue(queue)).messageCount !== 0; i++) {
      if (i > 40) throw new Error('the delivered message is still in the queue');
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('sends a 400 to the dead-letter exchange with why, the original headers and routing key', async () => {
    const source = await exchange();
    const dlx = `dlx-${randomUUID().slice(0, 8)}`;
    await channel.assertExchange(dlx, 'topic', { durable: false, autoDelete: false });
    const { queue: letters } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(letters, dlx, '#');
    const target = await startCallbackServer(({ body }) => (body === 'm2' ? 400 : 200));
    servers.push(target);
    const gateway = await started(bundle(`orders${randomUUID().slice(0, 6)}`, source, { callbackUrl: target.url, deadLetter: { topic: dlx } }));
    await until(gateway, (row) => row.consumer?.connected === true, 10_000, 'the shared queue');
    await publish(source, sequence(5));
    await target.waitForDelivered(4, 10_000);
    expect(target.delivered()).toEqual(['m0', 'm1', 'm3', 'm4']);
    await until(gateway, (row) => row.deadLettered === 1, 5_000, 'one dead letter');
    const letter = await channel.get(letters, { noAck: true });
    expect(letter).not.toBe(false);
    if (letter === false) return;
    expect(letter.content.toString()).toBe('m2');
    expect(letter.fields.routingKey).toBe('orders.eu');
    expect(letter.properties.headers).toMatchObject({ 'x-sluice-status': '400', 'x-sluice-subscription': 'acme', source: 'amqplib' });
  });

  it('a dead-letter exchange that does not exist: the error names it, the message stays unacknowledged, and it goes once the exchange exists', async () => {
    const source = await exchange();
    const dlx = `dlx-missing-${randomUUID().slice(0, 8)}`;
    const api = `orders${randomUUID().slice(0, 6)}`;
    const target = await startCallbackServer(() => 400);
    servers.push(target);
    const gateway = await started(bundle(api, source, { callbackUrl: target.url, deadLetter: { topic: dlx } }));
    await until(gateway, (row) => row.consumer?.connected === true, 10_000, 'the shared queue');
    await publish(source, ['refused']);
    await until(gateway, (row) => row.lastError?.code === 'DEAD_LETTER_FAILED', 10_000, 'a failed dead letter');
    const row = (await acme(gateway))!;
    expect(row.lastError!.message).toBe(`dead letter failed: RabbitMQ refused the message: the exchange "${dlx}" does not exist.`);
    expect(row.deadLettered).toBe(0);
    // Retried on the same endpoint publisher (its channel reopened after the broker closed it): it goes once the exchange exists.
    await channel.assertExchange(dlx, 'topic', { durable: false, autoDelete: false });
    const { queue: letters } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(letters, dlx, '#');
    await until(gateway, (r) => r.deadLettered === 1, 10_000, 'the dead letter once the exchange exists');
    const letter = await channel.get(letters, { noAck: true });
    expect(letter && letter.content.toString()).toBe('refused');
    await channel.deleteExchange(dlx);
  });
});
