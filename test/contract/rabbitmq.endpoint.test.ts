import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { createRabbitmqEndpoint } from '../../runtime/endpoints/rabbitmq/rabbitmq.ts';
import { rabbitUrl } from '../support/brokers/brokers.ts';
import { endpointContract, publishedRecords, type Injected } from './endpoint-suite.ts';
import { routed } from './rabbitmq-backend.ts';

let url: URL;
let client: ChannelModel;
let admin: Channel;

beforeAll(async () => {
  url = new URL(await rabbitUrl());
  client = await amqp.connect(url.href);
  admin = await client.createConfirmChannel();
});
afterAll(async () => {
  await client?.close();
});

endpointContract({
  name: 'rabbitmq',
  async create() {
    const id = randomUUID().slice(0, 8);
    const inbound = `contract.${id}.in`;
    const outbound = `contract.${id}.out`;
    await admin.assertExchange(inbound, 'topic', { durable: false, autoDelete: false });
    await admin.assertExchange(outbound, 'topic', { durable: false, autoDelete: false });
    const endpoint = createRabbitmqEndpoint(
      {
        type: 'rabbitmq',
        serverHost: url.hostname,
        serverPort: Number(url.port),
        consumer: { exchange: inbound, bindingKey: 'in.#' },
        producer: { exchange: outbound, routingKey: 'out.x' },
      },
      { apiId: `contract-${id}`, instanceId: 'test', resolveSecret: () => '' },
    );
    return {
      endpoint,
      inject: async (messages: readonly Injected[]) => {
        for (const m of messages) admin.publish(inbound, 'in.x', m.content, { ...(m.headers ? { headers: { ...m.headers } } : {}) });
        await (admin as unknown as { waitForConfirms(): Promise<void> }).waitForConfirms();
      },
      readPublished: async () => {
        const reader = await client.createChannel();
        const { queue } = await reader.assertQueue('', { exclusive: true, autoDelete: true });
        await reader.bindQueue(queue, outbound, '#');
        const records = publishedRecords(10_000, 'message');
        await reader.consume(queue, (msg) => {
          if (!msg) return;
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(msg.properties.headers ?? {})) headers[k] = String(v);
          records.push({ content: msg.content, headers });
        }, { noAck: true });
        return { next: records.next, close: () => reader.close() };
      },
      upstreams: async () => ((await routed(client, inbound, 'in.probe', Buffer.from('warmup-probe'))) ? 1 : 0),
      dispose: async () => {
        await admin.deleteExchange(inbound).catch(() => {});
        await admin.deleteExchange(outbound).catch(() => {});
      },
    };
  },
});
