/**
 * /metrics with a real Kafka broker: the endpoint's health, the shared consumer's lag (kafkajs
 * END_BATCH_PROCESS) while a WebSocket client streams, and the lag series gone once the last
 * client left (the shared consumer stopped); the upstream side: messages received from Kafka
 * (sluice_upstream_messages_total) and records per fetch batch (sluice_kafka_fetch_batch_messages)
 * moving by exactly what one produce request carried.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import type { Gateway } from '../../runtime/gateway.ts';
import { kafkaBootstrap } from '../support/brokers/brokers.ts';
import { connect, gatewayWith, waitFor, within, wsUrl } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { scrape, type Scrape } from './prometheus.ts';

const topic = `observability-${randomUUID().slice(0, 8)}`;
let gateway: Gateway;
let producer: Producer;

async function until(check: (m: Scrape) => boolean, what: string, ms = 15_000): Promise<Scrape> {
  const deadline = Date.now() + ms;
  let last = await scrape(gateway.adminUrl!);
  while (!check(last)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}:\n${last.text.split('\n').filter((l) => l.startsWith('sluice_kafka') || l.startsWith('sluice_endpoint')).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    last = await scrape(gateway.adminUrl!);
  }
  return last;
}

beforeAll(async () => {
  const bootstrap = await kafkaBootstrap();
  const kafka = new Kafka({ clientId: 'observability', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  producer = kafka.producer();
  await producer.connect();
  gateway = await gatewayWith(makeBundle({
    orders: { definition: { contextPaths: ['/orders/'], entrypoints: [{ type: 'websocket' }], endpoints: [{ type: 'kafka', bootstrapServers: [bootstrap], consumer: { topics: [topic] } }] } },
  }));
});
afterAll(async () => {
  await gateway?.close();
  await producer?.disconnect();
});

describe('/metrics with Kafka', () => {
  it('reports the endpoint up and the shared consumer lag while a client streams, and drops the lag once it stopped', async () => {
    await until((m) => m.value('sluice_endpoint_up', { api: 'orders', endpoint: 'kafka' }) === 1, 'the Kafka endpoint to be up');
    const client = connect(wsUrl(gateway, '/orders/'));
    await within(client.opened, 5000, 'the WebSocket to open');
    // The shared consumer joins its group in the background: produce until the client gets one.
    await within((async () => {
      while (client.messages.length === 0) {
        await producer.send({ topic, messages: [{ value: 'warm-up' }] });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })(), 30_000, 'the first message through the shared consumer');
    const seen = client.messages.length;
    await producer.send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ value: `m${i}` })) });
    await waitFor(() => client.messages.length >= seen + 20, 10_000, '20 more messages');
    const caughtUp = await until((m) => m.has('sluice_kafka_consumer_lag', { api: 'orders', topic, partition: '0' }) && m.value('sluice_kafka_consumer_lag', { api: 'orders', topic }) === 0, 'a lag of 0 after catching up');
    expect(caughtUp.value('sluice_messages_total', { api: 'orders', entrypoint: 'websocket', direction: 'subscribe' })).toBeGreaterThanOrEqual(seen + 20);

    client.ws.close();
    await within(client.closed, 5000, 'the WebSocket to close');
    await until((m) => !m.has('sluice_kafka_consumer_lag', { api: 'orders' }), 'the lag series to go once the consumer stopped');
  }, 90_000);

  it('counts the records of one produce request as one fetch batch of that size and as upstream messages', async () => {
    const client = connect(wsUrl(gateway, '/orders/'));
    await within(client.opened, 5000, 'the WebSocket to open');
    let sent = 0;
    await within((async () => {
      while (client.messages.length === 0) {
        await producer.send({ topic, messages: [{ value: 'warm-up' }] });
        sent++;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })(), 30_000, 'the first message through the shared consumer');
    // Nothing of the warm-up may still be on its way when the "before" scrape is taken.
    const seen = await until((m) => m.value('sluice_upstream_messages_total', { api: 'orders', endpoint: 'kafka' }) > 0 && client.messages.length > 0, 'the warm-up to be counted');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const before = await scrape(gateway.adminUrl!);
    const delivered = client.messages.length;
    expect(sent).toBeGreaterThanOrEqual(delivered);
    expect(seen.has('sluice_kafka_fetch_batch_messages_count', { api: 'orders' })).toBe(true);

    const N = 40;
    await producer.send({ topic, messages: Array.from({ length: N }, (_, i) => ({ value: `batch-${i}` })) }); // one produce request: one record batch
    await waitFor(() => client.messages.length >= delivered + N, 10_000, `${N} more messages`);
    const after = await until((m) => m.value('sluice_upstream_messages_total', { api: 'orders', endpoint: 'kafka' }) >= before.value('sluice_upstream_messages_total', { api: 'orders', endpoint: 'kafka' }) + N, `${N} more upstream messages`);
    const moved = (name: string, labels: Record<string, string> = {}) => after.value(name, { api: 'orders', ...labels }) - before.value(name, { api: 'orders', ...labels });
    expect(moved('sluice_upstream_messages_total', { endpoint: 'kafka' })).toBe(N);
    expect(moved('sluice_kafka_fetch_batch_messages_count')).toBe(1);
    expect(moved('sluice_kafka_fetch_batch_messages_sum')).toBe(N);
    expect(moved('sluice_kafka_fetch_batch_messages_bucket', { le: '50' })).toBe(1);
    expect(moved('sluice_kafka_fetch_batch_messages_bucket', { le: '25' })).toBe(0);

    client.ws.close();
    await within(client.closed, 5000, 'the WebSocket to close');
  }, 90_000);
});
