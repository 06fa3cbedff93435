/**
 * Test-side access to the suite's real brokers (see ./global-setup.ts). Each call returns the
 * address of a running broker, starting it on first use; it rejects with the broker's failure
 * reason (log included) instead of skipping.
 */
import { inject } from 'vitest';

async function ask(path: '/kafka' | '/mqtt' | '/rabbitmq' | '/nats', envName: string): Promise<string> {
  const fromEnv = process.env[envName];
  if (fromEnv) return fromEnv;
  const control = inject('brokerControl');
  if (!control) throw new Error('test/support/brokers/global-setup.ts is not configured as a vitest globalSetup');
  const res = await fetch(control + path, { signal: AbortSignal.timeout(170_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(text);
  return text;
}

/** `host:port` of the suite's Kafka broker. */
export const kafkaBootstrap = (): Promise<string> => ask('/kafka', 'KAFKA_BOOTSTRAP');

/** `mqtt://host:port` of the suite's MQTT 5 broker. */
export const mqttUrl = (): Promise<string> => ask('/mqtt', 'MQTT_URL');

/** `amqp://guest:guest@host:port` of the suite's RabbitMQ broker. */
export const rabbitUrl = (): Promise<string> => ask('/rabbitmq', 'RABBITMQ_URL');
/** The suite's shared nats-server (JetStream on): client url and monitoring url (`/connz`, `/jsz`). */
export async function natsServer(): Promise<{ url: string; monitor: string }> {
  const [url, monitor] = (await ask('/nats', 'NATS_URL')).split(' ');
  return { url: url!, monitor: monitor ?? '' };
}
