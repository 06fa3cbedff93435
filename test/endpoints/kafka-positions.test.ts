/**
 * Where a Kafka subscription starts and how it keeps its place when the topic moves under it:
 * a record produced right after subscribe() is delivered (the start is the subscribe time, not
 * when the consumer got round to asking the broker), a topic that does not exist yet is waited
 * for, a cursor of another API is refused, and a partition that restarted below the
 * subscription's position (topic deleted and created again, or a cursor from a broker that was
 * reset) is read from its new beginning instead of being skipped silently.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { createKafkaEndpoint } from '../../runtime/endpoints/kafka/kafka.ts';
import type { Endpoint } from '../../runtime/endpoints/endpoint.ts';
import { GatewayError } from '../../core/errors.ts';
import { setLogLevel } from '../../runtime/log.ts';
import { kafkaBootstrap } from '../support/brokers/brokers.ts';
import { collect, eventually, texts } from '../contract/endpoint-suite.ts';
import { kcatProduce } from '../brokers-e2e/clients.ts';

setLogLevel('silent');

let bootstrap: string;
let admin: Admin;
const endpoints: Endpoint[] = [];
const controllers: AbortController[] = [];

beforeAll(async () => {
  bootstrap = await kafkaBootstrap();
  admin = new Kafka({ clientId: 'positions', brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
});
afterAll(async () => {
  controllers.forEach((c) => c.abort());
  await Promise.all(endpoints.map((e) => e.stop()));
  await admin?.disconnect();
});

const cursorOf = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

async function started(topic: string, producer = false): Promise<Endpoint> {
  const endpoint = createKafkaEndpoint(
    { type: 'kafka', bootstrapServers: [bootstrap], consumer: { topics: [topic] }, ...(producer ? { producer: { topic } } : {}) },
    { apiId: `positions-${topic}`, instanceId: 'test', resolveSecret: () => '' },
  );
  endpoints.push(endpoint);
  await endpoint.start();
  expect(endpoint.health().healthy).toBe(true);
  return endpoint;
}

function subscribe(endpoint: Endpoint, cursor?: string) {
  const controller = new AbortController();
  controllers.push(controller);
  return collect(endpoint.subscribe({ signal: controller.signal, ...(cursor ? { cursor } : {}) }));
}

it('a record published right after subscribe() is delivered (no warm-up needed)', { timeout: 60_000 }, async () => {
  const topic = `positions-race-${randomUUID().slice(0, 6)}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await kcatProduce(bootstrap, topic, ['old-0', 'old-1']);
  const endpoint = await started(topic, true);
  for (let i = 0; i < 5; i++) {
    const sub = subscribe(endpoint);
    await endpoint.publish({ content: Buffer.from(`mine-${i}`), headers: {}, metadata: {} });
    await sub.until(() => texts(sub.messages).includes(`mine-${i}`), 15_000, `mine-${i}`);
    expect(texts(sub.messages)).toEqual([`mine-${i}`]);
    controllers.at(-1)!.abort();
    await sub.done;
  }
});

it('a topic that does not exist yet is waited for, then read from its first record', { timeout: 60_000 }, async () => {
  const topic = `positions-fresh-${randomUUID().slice(0, 6)}`;
  const endpoint = await started(topic);
  const sub = subscribe(endpoint);
  // The subscription's own metadata request makes the broker create the topic (auto.create.topics.enable).
  await eventually(async () => expect(await admin.listTopics()).toContain(topic), 15_000);
  // Its consumer met UNKNOWN_TOPIC_OR_PARTITION by now: it must still be waiting, not failed.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(sub.ended, String(sub.error)).toBe(false);
  await kcatProduce(bootstrap, topic, ['first', 'second']);
  await sub.until(() => sub.messages.length >= 2, 20_000, 'the first records');
  expect(texts(sub.messages)).toEqual(['first', 'second']);
});

it('a cursor of another API (no topic in common) is a 400 INVALID_CURSOR, not a replay of the whole topic', { timeout: 30_000 }, async () => {
  const topic = `positions-foreign-${randomUUID().slice(0, 6)}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await kcatProduce(bootstrap, topic, ['a', 'b']);
  const endpoint = await started(topic);
  const sub = subscribe(endpoint, cursorOf('someone-elses-topic@0#1'));
  await sub.until(() => sub.ended, 10_000, 'the refusal');
  expect(sub.error).toBeInstanceOf(GatewayError);
  expect(sub.error).toMatchObject({ code: 'INVALID_CURSOR', status: 400 });
  expect(sub.messages).toHaveLength(0);
});

it('a cursor past the end of a partition (the topic was created again) reads the partition from its beginning', { timeout: 60_000 }, async () => {
  const topic = `positions-reset-${randomUUID().slice(0, 6)}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await kcatProduce(bootstrap, topic, ['new-0', 'new-1', 'new-2']);
  const endpoint = await started(topic);
  const sub = subscribe(endpoint, cursorOf(`${topic}@0#999`));
  await sub.until(() => sub.messages.length >= 3, 20_000, 'the partition from its beginning');
  expect(texts(sub.messages)).toEqual(['new-0', 'new-1', 'new-2']);
  // The ids carry the partition's real position again: resuming from the last one gets only what follows.
  const last = sub.messages[2]!.id;
  expect(Buffer.from(last, 'base64url').toString()).toBe(`${topic}@0#2`);
  await kcatProduce(bootstrap, topic, ['new-3']);
  const resumed = subscribe(endpoint, last);
  await resumed.until(() => resumed.messages.length >= 1, 20_000, 'resume after the reset');
  expect(texts(resumed.messages)).toEqual(['new-3']);
});

it('a topic deleted and created again while consumed: the subscription goes on with the new records', { timeout: 90_000 }, async () => {
  const topic = `positions-recreated-${randomUUID().slice(0, 6)}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  const endpoint = await started(topic);
  const sub = subscribe(endpoint);
  await kcatProduce(bootstrap, topic, ['one', 'two', 'three', 'four']);
  await sub.until(() => sub.messages.length >= 4, 20_000, 'the first records');
  await admin.deleteTopics({ topics: [topic] });
  await eventually(async () => expect(await admin.listTopics()).not.toContain(topic), 20_000);
  // kcat creates it again (auto-creation) with its first records; retried while the deletion settles.
  await eventually(() => kcatProduce(bootstrap, topic, ['again-0', 'again-1']), 30_000);
  await sub.until(() => texts(sub.messages).includes('again-1'), 30_000, 'the records of the new topic');
  expect(sub.ended, String(sub.error)).toBe(false);
  expect(texts(sub.messages).slice(0, 6)).toEqual(['one', 'two', 'three', 'four', 'again-0', 'again-1']);
  expect(sub.messages.slice(4, 6).map((m) => m.metadata.offset)).toEqual(['0', '1']);
});
