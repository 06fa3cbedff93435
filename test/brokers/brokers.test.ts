import { describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import mqtt from 'mqtt';
import { kafkaBootstrap, mqttUrl } from '../support/brokers/brokers.ts';

describe('test brokers', () => {
  it('Kafka (KRaft) accepts a produce and a fetch from an independent client', async () => {
    const kafka = new Kafka({ clientId: 'brokers-test', brokers: [await kafkaBootstrap()], logLevel: logLevel.NOTHING });
    const topic = `brokers-test-${Date.now()}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'hello' }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: `g-${topic}` });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const value = await new Promise<string>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve(String(message.value)) });
    });
    await consumer.disconnect();
    expect(value).toBe('hello');
  });

  it('Mosquitto speaks MQTT 5', async () => {
    const client = await mqtt.connectAsync(await mqttUrl(), { protocolVersion: 5 });
    await client.subscribeAsync('brokers/test', { qos: 1 });
    const got = new Promise<string>((resolve) => client.on('message', (_t, payload) => resolve(payload.toString())));
    await client.publishAsync('brokers/test', 'hi', { qos: 1 });
    expect(await got).toBe('hi');
    await client.endAsync();
  });
});
