/**
 * Webhooks over a real RabbitMQ broker (the suite's, test/support/brokers), messages published
 * with an independent amqplib client: two gateways share one durable queue (each message
 * delivered once, through 503 retries); a message is acknowledged only after the callback's 2xx
 * (while it is retried the broker holds it unacknowledged; a gateway that stops gives it back to
 * the queue, and the next one delivers it); a 400 goes to the dead-letter exchange.
 */
import { randomUUID } from 'node:crypto';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/harness.ts';
import { rabbitUrl } from '../support/brokers/brokers.ts';
import { acme, connected, until, webhookBundle, webhookRig, type Webhook } from './webhook-rig.ts';

const rig = webhookRig();
let broker: URL;
let client: ChannelModel;
let channel: ConfirmChannel;

beforeAll(async () => {
  broker = new URL(await rabbitUrl());
  client = await amqp.connect(broker.href);
  channel = await client.createConfirmChannel();
});
afterAll(async () => {
  await client?.close();
});

function bundle(api: string, exchange: string, webhook: Webhook) {
  return webhookBundle(api, { type: 'rabbitmq', serverHost: broker.hostname, serverPort: Number(broker.port), consumer: { exchange, bindingKey: 'orders.*' } }, webhook);
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
    const target = await rig.callbackServer(({ index }) => (index < 3 ? 503 : 200));
    const a = await rig.started(bundle(api, source, { callbackUrl: target.url, headers: [{ name: 'X-Gateway', value: 'a' }] }));
    const b = await rig.started(bundle(api, source, { callbackUrl: target.url, headers: [{ name: 'X-Gateway', value: 'b' }] }));
    for (const gateway of [a, b]) await until(gateway, connected, 10_000, 'the shared queue');
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
    const failing = await rig.callbackServer(() => 503);
    const first = await rig.started(bundle(api, source, { callbackUrl: failing.url }));
    await until(first, connected, 10_000, 'the shared queue');
    await publish(source, ['held']);
    await waitFor(() => failing.received.length >= 3, 10_000, 'retries');
    // In hand and unacknowledged: not ready in the queue, but not gone either.
    expect((await channel.checkQueue(queue)).messageCount).toBe(0);
    await rig.stop(first);
    for (let i = 0; (await channel.checkQueue(queue)).messageCount !== 1; i++) {
      if (i > 40) throw new Error('the message was not given back to the queue');
      await new Promise((r) => setTimeout(r, 100));
    }
    const ok = await rig.callbackServer(() => 200);
    const second = await rig.started(bundle(api, source, { callbackUrl: ok.url }));
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
    const target = await rig.callbackServer(({ body }) => (body === 'm2' ? 400 : 200));
    const gateway = await rig.started(bundle(`orders${randomUUID().slice(0, 6)}`, source, { callbackUrl: target.url, deadLetter: { topic: dlx } }));
    await until(gateway, connected, 10_000, 'the shared queue');
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
    const target = await rig.callbackServer(() => 400);
    const gateway = await rig.started(bundle(api, source, { callbackUrl: target.url, deadLetter: { topic: dlx } }));
    await until(gateway, connected, 10_000, 'the shared queue');
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
