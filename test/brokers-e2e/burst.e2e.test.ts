/**
 * Write coalescing end to end: a burst from the broker (one Kafka produce of 500 records, read in
 * one fetch; 500 MQTT QoS 0 publishes back to back) reaches real WebSocket and SSE clients complete
 * and in order, and the gateway writes it with far fewer socket writes than messages x clients
 * (the deliveries of one event-loop turn go to each client in one write).
 */
import { randomUUID } from 'node:crypto';
import { Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import mqtt, { type MqttClient } from 'mqtt';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith, connect, waitFor, wsUrl, type Client } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { kafkaBootstrap, mqttUrl } from '../support/brokers/brokers.ts';
import { openSse, sseContent, type SseStream } from '../contract/sse-client.ts';

const run = randomUUID().slice(0, 6);
const kafkaTopic = `e2e-burst-${run}`;
const mqttTopic = `e2e/burst-${run}`;
const BURST = 500;
const entrypoints = [{ type: 'sse', heartbeatIntervalInMs: 60_000 }, { type: 'websocket' }];

let gateway: Gateway;
let producer: Producer;
let publisher: MqttClient;

beforeAll(async () => {
  const bootstrap = await kafkaBootstrap();
  const url = await mqttUrl();
  const { hostname, port } = new URL(url);
  const kafka = new Kafka({ clientId: 'e2e-burst', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: kafkaTopic, numPartitions: 1 }] });
  await admin.disconnect();
  producer = kafka.producer();
  await producer.connect();
  publisher = await mqtt.connectAsync(url, { protocolVersion: 5 });
  gateway = await gatewayWith(makeBundle({
    kburst: { definition: { entrypoints, endpoints: [{ type: 'kafka', bootstrapServers: [bootstrap], consumer: { topics: [kafkaTopic] } }] } as never },
    mburst: { definition: { entrypoints, endpoints: [{ type: 'mqtt', serverHost: hostname, serverPort: Number(port), consumer: { topic: mqttTopic, qos: 0 } }] } as never },
  }));
});

afterAll(async () => {
  await gateway?.close();
  await producer?.disconnect();
  await publisher?.endAsync();
});

afterEach(() => vi.restoreAllMocks());

const texts = (c: Client) => c.texts().filter((t) => !t.startsWith('warmup'));
const sseTexts = (s: SseStream) => s.events.filter((e) => e.event === 'message').map((e) => sseContent(e).toString('utf8')).filter((t) => !t.startsWith('warmup'));
const expected = Array.from({ length: BURST }, (_, i) => `m${i}`);

/** Counts the gateway's writes to its client sockets (each one system call, or one writev). */
function countWrites(): { count: number } {
  const port = Number(new URL(gateway.url).port);
  const counter = { count: 0 };
  const write = Socket.prototype.write;
  vi.spyOn(Socket.prototype, 'write').mockImplementation(function (this: Socket, ...args: Parameters<Socket['write']>) {
    if (this.localPort === port) counter.count++;
    return write.apply(this, args);
  });
  return counter;
}

async function burst(api: string, publish: (contents: string[]) => Promise<void>): Promise<{ writes: number; deliveries: number }> {
  const ws = Array.from({ length: 8 }, () => connect(wsUrl(gateway, `/${api}`)));
  await Promise.all(ws.map((c) => c.opened));
  const sse = await Promise.all(Array.from({ length: 4 }, () => openSse(`${gateway.url}/${api}/`)));
  try {
    await waitFor(() => gateway.routers.current?.exchanges.get(api)?.fanout?.clients === 12, 5000, 'every client on the fanout');
    for (let i = 0; i < 40 && !(ws.every((c) => c.messages.length > 0) && sse.every((s) => s.events.some((e) => e.event === 'message'))); i++) {
      await publish([`warmup-${i}`]);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await new Promise((resolve) => setTimeout(resolve, 300)); // late warm-ups landed
    const writes = countWrites();
    await publish(expected);
    await waitFor(() => ws.every((c) => texts(c).length >= BURST) && sse.every((s) => sseTexts(s).length >= BURST), 15_000, 'the burst at every client');
    for (const c of ws) expect(texts(c)).toEqual(expected);
    for (const s of sse) expect(sseTexts(s)).toEqual(expected);
    return { writes: writes.count, deliveries: BURST * 12 };
  } finally {
    for (const c of ws) c.ws.close();
    for (const s of sse) s.close();
  }
}

describe('burst delivery (write coalescing)', () => {
  it('one Kafka produce of 500 records: every WebSocket and SSE client gets all, in order, in a few writes each', async () => {
    const { writes, deliveries } = await burst('kburst', async (contents) => {
      await producer.send({ topic: kafkaTopic, messages: contents.map((value) => ({ value })) });
    });
    // One write per client per turn of at most 64 messages: about 8 per client for 500, not 500.
    expect(writes).toBeLessThan(deliveries / 8);
  });

  it('500 MQTT publishes back to back: every WebSocket and SSE client gets all, in order, in fewer writes than messages', async () => {
    const { writes, deliveries } = await burst('mburst', async (contents) => {
      for (const content of contents) publisher.publish(mqttTopic, content, { qos: 0 });
      await new Promise<void>((resolve) => publisher.publish(mqttTopic, 'warmup-flush', { qos: 0 }, () => resolve()));
    });
    expect(writes).toBeLessThan(deliveries / 4);
  });
});
