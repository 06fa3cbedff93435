/**
 * /metrics with a real Kafka broker: the endpoint's health, the shared consumer's lag (kafkajs
 * END_BATCH_PROCESS) while a WebSocket client streams, and the lag series gone once the last
 * client left (the shared consumer stopped); the upstream side: messages received from Kafka
 * (sluice_upstream_messages_total) and records per fetch batch (sluice_kafka_fetch_batch_messages)
 * moving by exactly what one produce request carried; a client arriving while the previous shared
 * consumer still leaves its group (the last client just left) gets the shared consumer again: the
 * API's group as the broker lists it, its lag series, the messages produced after it connected.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AssignerProtocol, Kafka, logLevel, type Producer } from 'kafkajs';
import type { Gateway } from '../../runtime/gateway.ts';
import { kafkaBootstrap } from '../support/brokers/brokers.ts';
import { connect, gatewayWith, type Client, waitFor, within, wsUrl } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { scrape, type Scrape } from './prometheus.ts';

let bootstrap: string;
let kafka: Kafka;
let producer: Producer;
const gateways: Gateway[] = [];

async function until(gateway: Gateway, check: (m: Scrape) => boolean, what: string, ms = 15_000): Promise<Scrape> {
  const deadline = Date.now() + ms;
  let last = await scrape(gateway.adminUrl!);
  while (!check(last)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}:\n${last.text.split('\n').filter((l) => l.startsWith('sluice_kafka') || l.startsWith('sluice_endpoint')).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    last = await scrape(gateway.adminUrl!);
  }
  return last;
}

/**
 * Each test its own topic and gateway (so its own metrics and shared consumer group): nothing a
 * test leaves behind (a shared consumer still stopping, counters already moved) reaches the next.
 */
async function streaming(): Promise<{ topic: string; gateway: Gateway }> {
  const topic = `observability-${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  const gateway = await gatewayWith(makeBundle({
    orders: { definition: { contextPaths: ['/orders/'], entrypoints: [{ type: 'websocket' }], endpoints: [{ type: 'kafka', bootstrapServers: [bootstrap], consumer: { topics: [topic] } }] } },
  }));
  gateways.push(gateway);
  return { topic, gateway };
}

/** The shared consumer joins its group in the background: produces until `client` got one; how many it produced. */
async function warmUp(client: Client, topic: string): Promise<number> {
  let sent = 0;
  await within((async () => {
    while (client.messages.length === 0) {
      await producer.send({ topic, messages: [{ value: 'warm-up' }] });
      sent++;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })(), 30_000, 'the first message through the shared consumer');
  return sent;
}

/** The consumer groups the broker lists with a member subscribed to `topic`. */
async function groupsReading(topic: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.listGroups();
    const described = await admin.describeGroups(groups.map((g) => g.groupId));
    const subscribed = (metadata: Buffer) => metadata.length > 0 && AssignerProtocol.MemberMetadata.decode(metadata)?.topics.includes(topic) === true;
    return described.groups.filter((g) => g.members.some((m) => subscribed(m.memberMetadata))).map((g) => g.groupId);
  } finally {
    await admin.disconnect();
  }
}

beforeAll(async () => {
  bootstrap = await kafkaBootstrap();
  kafka = new Kafka({ clientId: 'observability', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  producer = kafka.producer();
  await producer.connect();
});
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});
afterAll(async () => {
  await producer?.disconnect();
});

describe('/metrics with Kafka', () => {
  it('reports the endpoint up and the shared consumer lag while a client streams, and drops the lag once it stopped', async () => {
    const { topic, gateway } = await streaming();
    await until(gateway, (m) => m.value('sluice_endpoint_up', { api: 'orders', endpoint: 'kafka' }) === 1, 'the Kafka endpoint to be up');
    const client = connect(wsUrl(gateway, '/orders/'));
    await within(client.opened, 5000, 'the WebSocket to open');
    await warmUp(client, topic);
    const seen = client.messages.length;
    await producer.send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ value: `m${i}` })) });
    await waitFor(() => client.messages.length >= seen + 20, 10_000, '20 more messages');
    const caughtUp = await until(gateway, (m) => m.has('sluice_kafka_consumer_lag', { api: 'orders', topic, partition: '0' }) && m.value('sluice_kafka_consumer_lag', { api: 'orders', topic }) === 0, 'a lag of 0 after catching up');
    expect(caughtUp.value('sluice_messages_total', { api: 'orders', entrypoint: 'websocket', direction: 'subscribe' })).toBeGreaterThanOrEqual(seen + 20);

    client.ws.close();
    await within(client.closed, 5000, 'the WebSocket to close');
    await until(gateway, (m) => !m.has('sluice_kafka_consumer_lag', { api: 'orders' }), 'the lag series to go once the consumer stopped');
  }, 90_000);

  it('counts the records of one produce request as one fetch batch of that size and as upstream messages', async () => {
    const { topic, gateway } = await streaming();
    const client = connect(wsUrl(gateway, '/orders/'));
    await within(client.opened, 5000, 'the WebSocket to open');
    const sent = await warmUp(client, topic);
    // Nothing of the warm-up may still be on its way when the "before" scrape is taken.
    const seen = await until(gateway, (m) => m.value('sluice_upstream_messages_total', { api: 'orders', endpoint: 'kafka' }) > 0 && client.messages.length > 0, 'the warm-up to be counted');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const before = await scrape(gateway.adminUrl!);
    const delivered = client.messages.length;
    expect(sent).toBeGreaterThanOrEqual(delivered);
    expect(seen.has('sluice_kafka_fetch_batch_messages_count', { api: 'orders' })).toBe(true);

    const N = 40;
    await producer.send({ topic, messages: Array.from({ length: N }, (_, i) => ({ value: `batch-${i}` })) }); // one produce request: one record batch
    await waitFor(() => client.messages.length >= delivered + N, 10_000, `${N} more messages`);
    const after = await until(gateway, (m) => m.value('sluice_upstream_messages_total', { api: 'orders', endpoint: 'kafka' }) >= before.value('sluice_upstream_messages_total', { api: 'orders', endpoint: 'kafka' }) + N, `${N} more upstream messages`);
    const moved = (name: string, labels: Record<string, string> = {}) => after.value(name, { api: 'orders', ...labels }) - before.value(name, { api: 'orders', ...labels });
    expect(moved('sluice_upstream_messages_total', { endpoint: 'kafka' })).toBe(N);
    expect(moved('sluice_kafka_fetch_batch_messages_count')).toBe(1);
    expect(moved('sluice_kafka_fetch_batch_messages_sum')).toBe(N);
    expect(moved('sluice_kafka_fetch_batch_messages_bucket', { le: '50' })).toBe(1);
    expect(moved('sluice_kafka_fetch_batch_messages_bucket', { le: '25' })).toBe(0);

    client.ws.close();
    await within(client.closed, 5000, 'the WebSocket to close');
  }, 90_000);

  it('gives a client arriving while the last one\'s consumer still leaves its group the shared consumer: its group, its lag, what is produced after it connected', async () => {
    const { topic, gateway } = await streaming();
    const first = connect(wsUrl(gateway, '/orders/'));
    await within(first.opened, 5000, 'the first WebSocket to open');
    await warmUp(first, topic);
    const shared = await groupsReading(topic);
    expect(shared).toHaveLength(1);

    // The last client leaves and the next one arrives at once (a load balancer bouncing): the first consumer is still leaving its group.
    first.ws.close();
    await within(first.closed, 5000, 'the first WebSocket to close');
    const second = connect(wsUrl(gateway, '/orders/'));
    await within(second.opened, 5000, 'the second WebSocket to open');
    await producer.send({ topic, messages: [{ value: 'after-reconnect' }] });
    await waitFor(() => second.texts().includes('after-reconnect'), 20_000, 'the message produced after the second client connected');
    expect(await groupsReading(topic)).toEqual(shared); // the API's shared group, not a group of its own
    await until(gateway, (m) => m.has('sluice_kafka_consumer_lag', { api: 'orders', topic, partition: '0' }), 'the lag series of the second client\'s consumer');
    expect(second.texts().filter((t) => t === 'after-reconnect')).toHaveLength(1);

    second.ws.close();
    await within(second.closed, 5000, 'the second WebSocket to close');
  }, 90_000);
});
