/**
 * The entrypoint contract suite over the suite's real Kafka (./entrypoint-backend.ts): each run
 * gets its own single-partition topics `entrypoints-<run>-<api>` and `...-out` and its own
 * consumer group per API (`consumer.groupId`), whose members the broker lists while a
 * subscription is open; `down` points at a loopback port nothing listens on. Resumable: a
 * message's cursor is `topic@0#offset` (base64url), from the offsets the broker acknowledged.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaBootstrap } from '../support/brokers/brokers.ts';
import { loopbackPort } from '../support/brokers/loopback-port.ts';
import { contentOf, type ApiKind, type EntrypointBackend } from './entrypoint-backend.ts';

const KINDS: readonly ApiKind[] = ['text', 'bin', 'slow', 'down'];

export function kafkaBackend(): EntrypointBackend {
  return {
    name: 'kafka',
    resumes: true,
    async start() {
      const bootstrap = await kafkaBootstrap();
      const kafka = new Kafka({ clientId: 'entrypoint-contract', brokers: [bootstrap], logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      const producer = kafka.producer();
      await Promise.all([admin.connect(), producer.connect()]);
      const closedPort = await loopbackPort();
      const run = randomUUID().slice(0, 8);
      const topic = (kind: ApiKind) => `entrypoints-${run}-${kind}`;
      const group = (kind: ApiKind) => `entrypoints-${run}-${kind}`;
      const topics = KINDS.filter((k) => k !== 'down').flatMap((k) => [topic(k), `${topic(k)}-out`]);
      await admin.createTopics({ topics: topics.map((t) => ({ topic: t, numPartitions: 1 })), waitForLeaders: true });
      /** Offsets of the last injection, by API. */
      const offsets = new Map<ApiKind, number[]>();
      return {
        endpoints: (kind) => [{
          type: 'kafka',
          bootstrapServers: [kind === 'down' ? `127.0.0.1:${closedPort}` : bootstrap],
          consumer: { topics: [topic(kind)], groupId: group(kind) },
          producer: { topic: `${topic(kind)}-out` },
        }],
        // A subscription reads from the moment it was opened: no need to wait for its group.
        async inject(kind, count) {
          const [sent] = await producer.send({ topic: topic(kind), messages: Array.from({ length: count }, (_, i) => ({ value: contentOf(kind, i) })) });
          const base = Number(sent!.baseOffset);
          offsets.set(kind, Array.from({ length: count }, (_, i) => base + i));
        },
        async upstreams(kind) {
          const { groups } = await admin.describeGroups([group(kind)]);
          return groups.reduce((n, g) => n + g.members.length, 0);
        },
        cursorOf(kind, index) {
          const offset = offsets.get(kind)?.[index];
          if (offset === undefined) throw new Error(`message ${index} of ${kind} was not injected`);
          return Buffer.from(`${topic(kind)}@0#${offset}`).toString('base64url');
        },
        async watchPublished(kind) {
          const consumer = kafka.consumer({ groupId: `reader-${run}-${randomUUID().slice(0, 6)}`, maxWaitTimeInMs: 100 });
          await consumer.connect();
          await consumer.subscribe({ topics: [`${topic(kind)}-out`], fromBeginning: true });
          const received: Buffer[] = [];
          await consumer.run({ eachMessage: async ({ message }) => void received.push(message.value ?? Buffer.alloc(0)) });
          // Everything published so far, then what the test publishes (the topic only holds this run's publishes).
          return { received: () => received, close: () => consumer.disconnect() };
        },
        async close() {
          await admin.deleteTopics({ topics }).catch(() => {});
          await Promise.all([admin.disconnect(), producer.disconnect()]);
        },
      };
    },
  };
}
