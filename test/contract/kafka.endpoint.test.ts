import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { createKafkaEndpoint } from '../../runtime/endpoints/kafka/kafka.ts';
import { kafkaBootstrap } from '../support/brokers/brokers.ts';
import { endpointContract, publishedRecords, type Injected } from './endpoint-suite.ts';

let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let bootstrap: string;

beforeAll(async () => {
  bootstrap = await kafkaBootstrap();
  kafka = new Kafka({ clientId: 'contract-kafka', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  producer = kafka.producer();
  await Promise.all([admin.connect(), producer.connect()]);
});
afterAll(async () => {
  await Promise.all([admin?.disconnect(), producer?.disconnect()]);
});

/** Members of every consumer group of one API instance (`<prefix>-<build>` shared groups and their resume groups). */
export async function groupMembers(admin: Admin, prefix: string): Promise<number> {
  const { groups } = await admin.listGroups();
  const ours = groups.map((g) => g.groupId).filter((id) => id.startsWith(`${prefix}-`));
  if (ours.length === 0) return 0;
  const described = await admin.describeGroups(ours);
  return described.groups.reduce((sum, g) => sum + g.members.length, 0);
}

endpointContract({
  name: 'kafka',
  async create() {
    const id = randomUUID().slice(0, 8);
    const topic = `contract-${id}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }, { topic: `${topic}-out`, numPartitions: 1 }], waitForLeaders: true });
    const context = { apiId: `contract-${id}`, instanceId: 'test', resolveSecret: () => '' };
    const endpoint = createKafkaEndpoint(
      { type: 'kafka', bootstrapServers: [bootstrap], consumer: { topics: [topic] }, producer: { topic: `${topic}-out` } },
      context,
    );
    return {
      endpoint,
      inject: async (messages: readonly Injected[]) => {
        await producer.send({ topic, messages: messages.map((m) => ({ value: m.content, headers: { ...m.headers } })) });
      },
      readPublished: async () => {
        const consumer = kafka.consumer({ groupId: `reader-${id}` });
        await consumer.connect();
        await consumer.subscribe({ topics: [`${topic}-out`], fromBeginning: true });
        const records = publishedRecords(20_000, 'record');
        await consumer.run({
          eachMessage: async ({ message }) => {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
            records.push({ content: message.value ?? Buffer.alloc(0), headers });
          },
        });
        return {
          next: records.next,
          close: () => consumer.disconnect(),
        };
      },
      upstreams: () => groupMembers(admin, `sluice-${context.apiId}-${context.instanceId}`),
      dispose: async () => {
        await admin.deleteTopics({ topics: [topic, `${topic}-out`] }).catch(() => {});
      },
    };
  },
});
