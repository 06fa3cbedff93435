/**
 * The NATS parts of the benchmark, on nats.js (@nats-io/transport-node) for both sides, so the relay
 * and Sluice use the same client library: the relay's one core subscription, and the publisher's
 * core publishes (fire and forget, like MQTT QoS 0; one flush per tick).
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';

/** The relay's upstream: one core subscription on `subject`, each message handed to `relay`. */
export async function natsRelaySubscription(url: string, subject: string, relay: (payload: Buffer) => void): Promise<NatsConnection> {
  const nc = await connect({ servers: url, name: `bench-relay-${process.pid}` });
  nc.subscribe(subject, { callback: (_error, msg) => relay(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength)) });
  await nc.flush();
  return nc;
}

/** The publisher's NATS side. */
export async function natsSender(url: string): Promise<{ send(subject: string, payload: Buffer): void; close(): Promise<void> }> {
  const nc = await connect({ servers: url, name: `bench-publisher-${process.pid}` });
  return {
    send: (subject, payload) => nc.publish(subject, payload),
    close: () => nc.close(),
  };
}
