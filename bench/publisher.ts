/**
 * Publishes benchmark messages straight to the brokers (MQTT QoS 0 with mqtt.js, Kafka acks 1
 * with kafkajs, NATS core publishes with nats.js) at a steady rate. Sequence numbers are global for the run, so every case has
 * its own range and a receiver can tell exactly what it missed.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { encodePayload } from './payload.ts';
import type { Brokers } from './bundles.ts';
import { natsSender } from './nats.ts';

/** 'rabbitmq': published by bench/rabbitmq-fanout.ts's own client, never through `send`. */
export type Broker = 'mqtt' | 'kafka' | 'rabbitmq' | 'nats';

/** Kafka sends in flight at once (beyond it, messages wait their turn: the rate stays steady). */
const KAFKA_IN_FLIGHT = 64;

export class Publisher {
  /** The next sequence number. */
  seq = 0;
  #inFlight = 0;
  #waiting: (() => void)[] = [];

  private constructor(
    private readonly mqttClient: MqttClient,
    private readonly producer: Producer,
    private readonly nats?: Awaited<ReturnType<typeof natsSender>>,
  ) {}

  static async start(brokers: Brokers): Promise<Publisher> {
    const client = await mqtt.connectAsync(brokers.mqtt, { protocolVersion: 5, clientId: `bench-publisher-${process.pid}` });
    const producer = new Kafka({ clientId: 'bench-publisher', brokers: [brokers.kafka], logLevel: logLevel.NOTHING }).producer({ allowAutoTopicCreation: true });
    await producer.connect();
    return new Publisher(client, producer, brokers.nats ? await natsSender(brokers.nats) : undefined);
  }

  /** Publishes one message now; resolves once the broker has it (Kafka) or it is written (MQTT). */
  async send(broker: Broker, topic: string): Promise<void> {
    const payload = encodePayload(this.seq++);
    if (broker === 'mqtt') {
      this.mqttClient.publish(topic, payload, { qos: 0 });
      return;
    }
    if (broker === 'nats') {
      if (!this.nats) throw new Error('no NATS server for the benchmark');
      return this.nats.send(topic, payload);
    }
    while (this.#inFlight >= KAFKA_IN_FLIGHT) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#inFlight++;
    try {
      await this.producer.send({ topic, acks: 1, messages: [{ value: payload }] });
    } finally {
      this.#inFlight--;
      this.#waiting.shift()?.();
    }
  }

  /**
   * Publishes `count` messages at once (the saturation profile's open loop refills with it):
   * MQTT QoS 0 back to back, resolving once the last is written to the socket; Kafka one produce
   * request (acks 1), resolving on its acknowledgement.
   */
  async burst(broker: Broker, topic: string, count: number): Promise<void> {
    const lo = this.seq;
    this.seq += count;
    if (broker === 'kafka') {
      await this.producer.send({ topic, acks: 1, messages: Array.from({ length: count }, (_, i) => ({ value: encodePayload(lo + i) })) });
      return;
    }
    for (let i = 0; i < count - 1; i++) this.mqttClient.publish(topic, encodePayload(lo + i), { qos: 0 });
    await new Promise<void>((resolve, reject) => this.mqttClient.publish(topic, encodePayload(lo + count - 1), { qos: 0 }, (error) => (error ? reject(error) : resolve())));
  }

  /**
   * Publishes `count` messages at `rate` per second; resolves with the sequence range once the last
   * is sent. `between` runs after each tick (e.g. to stop early).
   */
  async paced(broker: Broker, topic: string, rate: number, count: number, until?: () => boolean): Promise<{ lo: number; hi: number }> {
    const lo = this.seq;
    const interval = 1000 / rate;
    const began = performance.now();
    let sent = 0;
    const pending: Promise<void>[] = [];
    while (sent < count && !until?.()) {
      const due = Math.min(count, Math.floor((performance.now() - began) / interval) + 1);
      while (sent < due) {
        pending.push(this.send(broker, topic).catch((error: Error) => console.error(`bench: publish failed: ${error.message}`)));
        sent++;
      }
      if (pending.length > 1000) await Promise.all(pending.splice(0));
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, began + sent * interval - performance.now())));
    }
    await Promise.all(pending);
    return { lo, hi: this.seq - 1 };
  }

  async close(): Promise<void> {
    await this.nats?.close().catch(() => undefined);
    await this.producer.disconnect().catch(() => undefined);
    await this.mqttClient.endAsync(true).catch(() => undefined);
  }
}
