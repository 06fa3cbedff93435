/**
 * The entrypoint contract suite over the suite's real RabbitMQ (./entrypoint-backend.ts): each
 * run gets its own topic exchanges `entrypoints.<run>.<api>.in|out`; the `rabbitmq` endpoint
 * consumes `in` (binding key `in.#`, one exclusive auto-delete queue per API and instance) and
 * publishes to `out`. `down` points at a loopback port nothing listens on. Not resumable.
 *
 * Whether an API's upstream subscription is open is what the broker says about its exchange: a
 * mandatory publish to it comes back (basic.return) exactly when no queue is bound (`routed`).
 * The probe is larger than the endpoint's consumer.maxMessageBytes, so the endpoint rejects it
 * and no client ever sees it.
 */
import { randomUUID } from 'node:crypto';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { rabbitUrl } from '../support/brokers/brokers.ts';
import { loopbackPort } from '../support/brokers/loopback-port.ts';
import { contentOf, pollUntil, type ApiKind, type EntrypointBackend } from './entrypoint-backend.ts';

const MAX_MESSAGE_BYTES = 1024;
const PROBE = Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x70);

const confirmed = (channel: ConfirmChannel, exchange: string, key: string, content: Buffer, options: amqp.Options.Publish = {}) =>
  new Promise<void>((resolve, reject) => channel.publish(exchange, key, content, options, (error: unknown) => (error ? reject(error) : resolve())));

/**
 * Whether a mandatory publish of `content` to `exchange` with `key` reached a queue, as the broker
 * answers it: an unroutable mandatory message comes back (basic.return) before its confirm.
 */
export async function routed(client: ChannelModel, exchange: string, key: string, content: Buffer): Promise<boolean> {
  const channel = await client.createConfirmChannel();
  try {
    let returned = false;
    channel.on('return', () => (returned = true));
    await confirmed(channel, exchange, key, content, { mandatory: true });
    return !returned;
  } finally {
    await channel.close().catch(() => {});
  }
}

export function rabbitmqBackend(): EntrypointBackend {
  return {
    name: 'rabbitmq',
    resumes: false,
    async start() {
      const url = new URL(await rabbitUrl());
      const client = await amqp.connect(url.href);
      const admin = await client.createConfirmChannel();
      const closedPort = await loopbackPort();
      const run = randomUUID().slice(0, 8);
      const exchange = (kind: ApiKind, side: 'in' | 'out') => `entrypoints.${run}.${kind}.${side}`;
      const kinds: ApiKind[] = ['text', 'bin', 'slow', 'down'];
      for (const kind of kinds) {
        await admin.assertExchange(exchange(kind, 'in'), 'topic', { durable: false, autoDelete: false });
        await admin.assertExchange(exchange(kind, 'out'), 'topic', { durable: false, autoDelete: false });
      }
      const upstreams = async (kind: ApiKind) => ((await routed(client, exchange(kind, 'in'), 'in.probe', PROBE)) ? 1 : 0);
      return {
        endpoints: (kind) => [{
          type: 'rabbitmq',
          serverHost: url.hostname,
          serverPort: kind === 'down' ? closedPort : Number(url.port),
          consumer: { exchange: exchange(kind, 'in'), bindingKey: 'in.#', maxMessageBytes: MAX_MESSAGE_BYTES },
          producer: { exchange: exchange(kind, 'out'), routingKey: 'out.x' },
        }],
        async inject(kind, count) {
          // Fan-out queues exist only while someone subscribes: wait until the subscriber's is bound.
          await pollUntil(async () => (await upstreams(kind)) === 1, 5_000, `a queue bound to ${exchange(kind, 'in')}`);
          for (let i = 0; i < count; i++) await confirmed(admin, exchange(kind, 'in'), 'in.x', contentOf(kind, i));
        },
        upstreams,
        async watchPublished(kind) {
          const reader = await client.createChannel();
          const { queue } = await reader.assertQueue('', { exclusive: true, autoDelete: true });
          await reader.bindQueue(queue, exchange(kind, 'out'), '#');
          const received: Buffer[] = [];
          await reader.consume(queue, (message) => message && received.push(message.content), { noAck: true });
          return { received: () => received, close: () => reader.close() };
        },
        async close() {
          for (const kind of kinds) {
            await admin.deleteExchange(exchange(kind, 'in')).catch(() => {});
            await admin.deleteExchange(exchange(kind, 'out')).catch(() => {});
          }
          await client.close();
        },
      };
    },
  };
}
