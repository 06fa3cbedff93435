/**
 * Endpoints against brokers that are down when the endpoint starts, or go away and return, on
 * dedicated brokers: start() never rejects, health says why, publish rejects with a 503
 * ENDPOINT_UNAVAILABLE, and everything recovers by itself when the broker is back.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { createKafkaEndpoint } from '../../runtime/endpoints/kafka/kafka.ts';
import { createMqttEndpoint } from '../../runtime/endpoints/mqtt/mqtt.ts';
import type { Endpoint } from '../../runtime/endpoints/endpoint.ts';
import { GatewayError } from '../../core/errors.ts';
import { setLogLevel } from '../../runtime/log.ts';
import { startKafka, type KafkaBroker } from '../support/brokers/kafka-broker.ts';
import { startMosquitto, type MosquittoBroker } from '../support/brokers/mosquitto-broker.ts';
import { collect, eventually, expectUnavailable } from '../contract/endpoint-suite.ts';

setLogLevel('silent');
const context = { apiId: 'availability', instanceId: 'test', resolveSecret: () => '' };
const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const release of cleanup.reverse()) await release().catch(() => {});
});

async function publishes(endpoint: Endpoint): Promise<void> {
  await eventually(async () => {
    expect(endpoint.health().healthy).toBe(true);
    await endpoint.publish({ content: Buffer.from('ok'), headers: {}, metadata: {} });
  }, 60_000);
}

describe('kafka endpoint availability', () => {
  it('starts while the broker is down, reports it, refuses with 503, and recovers when the broker comes up', { timeout: 120_000 }, async () => {
    const broker: KafkaBroker = await startKafka();
    cleanup.push(() => broker.close());
    const admin = new Kafka({ clientId: 'availability', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'avail', numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    await broker.stop();

    const endpoint = createKafkaEndpoint({ type: 'kafka', bootstrapServers: [broker.bootstrap], consumer: { topics: ['avail'] }, producer: { topic: 'avail' } }, context);
    cleanup.push(() => endpoint.stop());
    const began = Date.now();
    await endpoint.start();
    expect(Date.now() - began).toBeLessThan(15_000);
    expect(endpoint.health().healthy).toBe(false);
    expect(endpoint.health().detail).toMatch(new RegExp(`Kafka ${broker.bootstrap} unreachable`));
    await expectUnavailable(endpoint.publish({ content: Buffer.from('x'), headers: {}, metadata: {} }));
    const sub = collect(endpoint.subscribe({ signal: new AbortController().signal }));
    await sub.until(() => sub.ended, 5_000, 'subscription refused');
    expect((sub.error as GatewayError).code).toBe('ENDPOINT_UNAVAILABLE');

    await broker.start();
    await publishes(endpoint);
  });
});

describe('mqtt endpoint availability', () => {
  it('starts while the broker is down, refuses with 503, reconnects with backoff, and keeps its subscription across a broker restart', { timeout: 60_000 }, async () => {
    const broker: MosquittoBroker = await startMosquitto();
    cleanup.push(() => broker.close());
    await broker.stop();
    const endpoint = createMqttEndpoint({
      type: 'mqtt', serverHost: '127.0.0.1', serverPort: broker.port,
      consumer: { topic: 'avail/in', qos: 1 }, producer: { topic: 'avail/out', qos: 1 },
    }, context);
    cleanup.push(() => endpoint.stop());
    await endpoint.start();
    expect(endpoint.health().healthy).toBe(false);
    expect(endpoint.health().detail).toMatch(/MQTT broker 127\.0\.0\.1:\d+ unreachable/);
    await expectUnavailable(endpoint.publish({ content: Buffer.from('x'), headers: {}, metadata: {} }));

    await broker.start();
    await publishes(endpoint);

    // A subscription survives the broker going away and returning (mqtt.js resubscribes).
    const controller = new AbortController();
    const sub = collect(endpoint.subscribe({ signal: controller.signal }));
    const { default: mqtt } = await import('mqtt');
    const inject = async (text: string) => {
      const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
      await client.publishAsync('avail/in', text, { qos: 1 });
      await client.endAsync();
    };
    await eventually(async () => {
      await inject('warmup');
      await sub.until(() => sub.messages.length > 0, 300, 'first message');
    }, 10_000);
    await broker.stop();
    await eventually(async () => expect(endpoint.health().healthy).toBe(false), 10_000);
    await broker.start();
    await eventually(async () => {
      await inject('after-restart');
      await sub.until(() => sub.messages.some((m) => m.content.toString() === 'after-restart'), 300, 'message after restart');
    }, 20_000);
    expect(sub.ended).toBe(false);
    expect(sub.messages.at(-1)!.metadata).toMatchObject({ topic: 'avail/in', qos: 1, retain: false });
    controller.abort();
  });
});
