/**
 * Shared pieces of the Kafka webhook tests: a fresh topic per test, an independent producer
 * (kafkajs directly, not the gateway), bundles with a push plan over Kafka, committed offsets.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners, type Admin, type Producer } from 'kafkajs';
import type { Bundle, Plan, Subscription, WebhookEntrypoint, WebhookSubscription } from '../../schemas/types.ts';
import { makeBundle } from '../support/bundles.ts';
import { kafkaBootstrap } from '../support/brokers/brokers.ts';

export interface KafkaTools {
  readonly bootstrap: string;
  readonly admin: Admin;
  readonly producer: Producer;
  close(): Promise<void>;
}

export async function kafkaTools(): Promise<KafkaTools> {
  const bootstrap = await kafkaBootstrap();
  const kafka = new Kafka({ clientId: 'webhook-test', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await Promise.all([admin.connect(), producer.connect()]);
  return {
    bootstrap,
    admin,
    producer,
    close: async () => {
      await Promise.all([admin.disconnect(), producer.disconnect()]);
    },
  };
}

/** A new topic with `partitions` partitions, leaders elected. */
export async function freshTopic(admin: Admin, partitions: number): Promise<string> {
  const topic = `webhook-${randomUUID().slice(0, 8)}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  return topic;
}

/** Produces `perPartition` messages to each partition: content `p<partition>-<seq>`, in order per partition. */
export async function produceSequences(producer: Producer, topic: string, partitions: number, perPartition: number): Promise<void> {
  for (let start = 0; start < perPartition; start += 100) {
    const messages = [];
    for (let seq = start; seq < Math.min(perPartition, start + 100); seq++) {
      for (let partition = 0; partition < partitions; partition++) messages.push({ partition, value: `p${partition}-${seq}` });
    }
    await producer.send({ topic, acks: -1, messages });
  }
}

/** Committed offsets of a group on a topic, by partition (-1: none). */
export async function committed(admin: Admin, groupId: string, topic: string): Promise<Map<number, number>> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map(offsets!.partitions.map((p) => [p.partition, Number(p.offset)]));
}

const push: Record<string, Plan> = { push: { type: 'push', name: 'Push', status: 'published' } };

export interface WebhookApi {
  readonly api: string;
  readonly topic: string;
  readonly bootstrap: string;
  readonly subscriptions: Record<string, Partial<WebhookSubscription> & { callbackUrl: string }>;
  readonly entrypoint?: Partial<WebhookEntrypoint>;
  readonly autoOffsetReset?: 'latest' | 'earliest';
}

export function kafkaWebhookBundle(spec: WebhookApi): Bundle {
  const subscriptions: Record<string, Subscription> = Object.fromEntries(
    Object.entries(spec.subscriptions).map(([name, webhook]) => [name, { plan: 'push', webhook }]),
  );
  return makeBundle({
    [spec.api]: {
      definition: {
        entrypoints: [{ type: 'webhook', ...spec.entrypoint }],
        endpoints: [{
          type: 'kafka',
          bootstrapServers: [spec.bootstrap],
          consumer: { topics: [spec.topic], ...(spec.autoOffsetReset ? { autoOffsetReset: spec.autoOffsetReset } : {}) },
        }],
      },
      plans: push,
      subscriptions,
    },
  });
}

/** Groups delivered bodies `p<partition>-<seq>` by partition, in arrival order. */
export function byPartition(bodies: readonly string[]): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const body of bodies) {
    const match = /^p(\d+)-(\d+)$/.exec(body);
    if (!match) throw new Error(`unexpected body ${body}`);
    const partition = Number(match[1]);
    if (!out.has(partition)) out.set(partition, []);
    out.get(partition)!.push(Number(match[2]));
  }
  return out;
}

export const range = (n: number) => Array.from({ length: n }, (_, i) => i);
