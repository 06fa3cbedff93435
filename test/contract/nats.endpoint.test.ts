import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { createNatsEndpoint } from '../../runtime/endpoints/nats/nats.ts';
import { natsServer } from '../support/brokers/brokers.ts';
import { endpointContract, publishedRecords, type Injected } from './endpoint-suite.ts';
import { serverSubscriptions, streamConsumers } from './nats-backend.ts';

let nc: NatsConnection;
let jsm: JetStreamManager;
let server: { url: string; monitor: string };

beforeAll(async () => {
  server = await natsServer();
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  await nc?.close();
});

const natsHeaders = (record: Readonly<Record<string, string>> | undefined) => {
  if (!record || Object.keys(record).length === 0) return undefined;
  const h = headers();
  for (const [k, v] of Object.entries(record)) h.set(k, v);
  return h;
};

endpointContract({
  name: 'nats (core subjects)',
  async create() {
    const id = randomUUID().slice(0, 8);
    const base = `contract.${id}`;
    const context = { apiId: `contract-${id}`, instanceId: 'test', resolveSecret: () => '' };
    const endpoint = createNatsEndpoint({ type: 'nats', servers: [server.url], consumer: { subject: `${base}.in.*` }, producer: { subject: `${base}.out` } }, context);
    return {
      endpoint,
      inject: async (messages: readonly Injected[]) => {
        for (const m of messages) nc.publish(`${base}.in.x`, m.content, { headers: natsHeaders(m.headers) });
        await nc.flush();
      },
      readPublished: async () => {
        const records = publishedRecords(10_000, 'message');
        const sub = nc.subscribe(`${base}.out`, {
          callback: (_e, msg) => {
            const h: Record<string, string> = {};
            for (const [k, v] of msg.headers ?? []) h[k] = v.join(',');
            records.push({ content: Buffer.from(msg.data), headers: h });
          },
        });
        await nc.flush();
        return { next: records.next, close: async () => sub.unsubscribe() };
      },
      upstreams: () => serverSubscriptions(server.monitor, `${base}.in.*`, `sluice-${context.apiId}-test`),
      dispose: async () => {},
    };
  },
});

endpointContract({
  name: 'nats (JetStream stream)',
  async create() {
    const id = randomUUID().slice(0, 8);
    const stream = `CONTRACT_${id}`;
    const base = `jscontract.${id}`;
    await jsm.streams.add({ name: stream, subjects: [`${base}.>`] });
    const context = { apiId: `contract-${id}`, instanceId: 'test', resolveSecret: () => '' };
    const endpoint = createNatsEndpoint({ type: 'nats', servers: [server.url], stream, consumer: { subject: `${base}.in.*` }, producer: { subject: `${base}.out` } }, context);
    return {
      endpoint,
      inject: async (messages: readonly Injected[]) => {
        const js = jetstream(nc);
        for (const m of messages) await js.publish(`${base}.in.x`, m.content, { headers: natsHeaders(m.headers) });
      },
      readPublished: async () => {
        const records = publishedRecords(10_000, 'message');
        const consumer = await jetstream(nc).consumers.get(stream, { filter_subjects: `${base}.out` });
        const messages = await consumer.consume();
        void (async () => {
          for await (const msg of messages) {
            const h: Record<string, string> = {};
            for (const [k, v] of msg.headers ?? []) h[k] = v.join(',');
            records.push({ content: Buffer.from(msg.data), headers: h });
          }
        })();
        return { next: records.next, close: async () => void (await messages.close()) };
      },
      upstreams: () => streamConsumers(jsm, stream),
      dispose: async () => {
        await jsm.streams.delete(stream).catch(() => {});
      },
    };
  },
});
