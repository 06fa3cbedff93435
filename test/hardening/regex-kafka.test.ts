/**
 * A Kafka `consumer.topicPattern` runs on RE2 too: with a nested-quantifier pattern and a topic whose
 * name would make a backtracking engine spin for minutes, a WebSocket client still gets the records of
 * the matching topic promptly. Real Kafka (the suite's broker), kcat as the producer, a real `ws` client.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import type { Gateway } from '../../runtime/gateway.ts';
import { re2RegExp } from '../../core/regex.ts';
import { kafkaBootstrap } from '../support/brokers/brokers.ts';
import { kcatProduce } from '../brokers-e2e/clients.ts';
import { makeBundle } from '../support/bundles.ts';
import { connect, gatewayWith, waitFor, within, wsUrl } from '../support/harness.ts';

const run = randomUUID().slice(0, 6);
const matching = `rx-${run}-aaaa`;
/** Does not match `^rx-<run>-(a+)+$`; a backtracking engine needs ~2^30 steps to find that out. */
const hostile = `rx-${run}-${'a'.repeat(30)}.x`;

let bootstrap: string;
let admin: Admin;
let gateway: Gateway;

beforeAll(async () => {
  bootstrap = await kafkaBootstrap();
  admin = new Kafka({ clientId: 'regex-admin', brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [matching, hostile].map((topic) => ({ topic, numPartitions: 1 })) });
  gateway = await gatewayWith(makeBundle({
    rx: {
      definition: {
        entrypoints: [{ type: 'websocket', publisher: false }],
        endpoints: [{ type: 'kafka', bootstrapServers: [bootstrap], consumer: { topicPattern: `^rx-${run}-(a+)+$` } }],
      } as never,
    },
  }));
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await admin?.deleteTopics({ topics: [matching, hostile] }).catch(() => undefined);
  await admin?.disconnect();
});

describe('kafka topicPattern on RE2', () => {
  it('a nested-quantifier topicPattern with a hostile topic name beside it: the matching topic is consumed promptly', async () => {
    const started = performance.now();
    const client = connect(wsUrl(gateway, '/rx/'));
    await within(client.opened, 10_000, 'the WebSocket handshake');
    for (let i = 0; i < 40 && client.texts().length === 0; i++) {
      await kcatProduce(bootstrap, matching, [`record-${i}`]);
      await kcatProduce(bootstrap, hostile, [`never-${i}`]);
      await waitFor(() => client.texts().length > 0, 500, 'a record').catch(() => undefined);
    }
    expect(client.texts().length).toBeGreaterThan(0);
    expect(client.texts().every((t) => t.startsWith('record-'))).toBe(true);
    expect(performance.now() - started).toBeLessThan(30_000);
    client.ws.close(1000);
    await within(client.closed, 5000, 'the close');
  }, 60_000);

  it('the RegExp handed to kafkajs for group consumption runs its test() on RE2', () => {
    const pattern = re2RegExp(`^rx-${run}-(a+)+$`);
    expect(pattern).toBeInstanceOf(RegExp); // kafkajs accepts nothing else
    const started = performance.now();
    expect(pattern.test(hostile)).toBe(false);
    expect(pattern.test(matching)).toBe(true);
    expect(performance.now() - started).toBeLessThan(500);
    expect(() => pattern.exec(matching)).toThrow(/only test\(\)/);
  });
});
