/**
 * vitest globalSetup: real brokers for the suite, started lazily and shared by every test file.
 *
 * Nothing starts until a test file asks (through `kafkaBootstrap()` / `mqttUrl()` in
 * ./brokers.ts): a run of unit tests pays nothing. The first request starts the broker once; all
 * files share it. Requests travel over a loopback HTTP control port because test files run in
 * forked workers. `KAFKA_BOOTSTRAP` / `MQTT_URL` point at existing brokers and skip the start.
 * A broker that cannot start fails the asking test file with the reason (never a skip).
 * Teardown kills both brokers and removes their temp dirs.
 */
import { createServer } from 'node:http';
import type { TestProject } from 'vitest/node';
import { startKafka, type KafkaBroker } from './kafka-broker.ts';
import { startMosquitto, type MosquittoBroker } from './mosquitto-broker.ts';
import { startRabbit, type RabbitBroker } from './rabbitmq-broker.ts';
import { startNats, type NatsBroker } from './nats-broker.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    brokerControl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let kafka: Promise<KafkaBroker> | undefined;
  let mosquitto: Promise<MosquittoBroker> | undefined;
  let rabbit: Promise<RabbitBroker> | undefined;
  let nats: Promise<NatsBroker> | undefined;

  const resolvers: Record<string, () => Promise<string>> = {
    '/kafka': async () => {
      if (process.env.KAFKA_BOOTSTRAP) return process.env.KAFKA_BOOTSTRAP;
      kafka ??= timed('Kafka', startKafka);
      return (await kafka).bootstrap;
    },
    '/mqtt': async () => {
      if (process.env.MQTT_URL) return process.env.MQTT_URL;
      mosquitto ??= timed('Mosquitto', startMosquitto);
      return (await mosquitto).url;
    },
    '/rabbitmq': async () => {
      if (process.env.RABBITMQ_URL) return process.env.RABBITMQ_URL;
      rabbit ??= timed('RabbitMQ', () => startRabbit());
      return (await rabbit).url;
    },
    // `<client url> <monitoring url>` of a shared nats-server (JetStream on).
    '/nats': async () => {
      if (process.env.NATS_URL) return `${process.env.NATS_URL} ${process.env.NATS_MONITOR_URL ?? ''}`.trim();
      nats ??= timed('nats-server', startNats);
      const broker = await nats;
      return `${broker.url} ${broker.monitor}`;
    },
  };

  const server = createServer((req, res) => {
    const resolve = resolvers[req.url ?? ''];
    if (!resolve) return void res.writeHead(404).end();
    resolve().then(
      (address) => res.writeHead(200, { 'content-type': 'text/plain' }).end(address),
      (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(error.message),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('broker control server has no port');
  project.provide('brokerControl', `http://127.0.0.1:${address.port}`);

  return async () => {
    await new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
    await Promise.all([
      kafka?.then((b) => b.close(), () => {}),
      mosquitto?.then((b) => b.close(), () => {}),
      rabbit?.then((b) => b.close(), () => {}),
      nats?.then((b) => b.close(), () => {}),
    ]);
  };
}

async function timed<T>(name: string, start: () => Promise<T>): Promise<T> {
  const began = Date.now();
  const broker = await start();
  console.log(`[brokers] ${name} ready in ${Date.now() - began} ms`);
  return broker;
}
