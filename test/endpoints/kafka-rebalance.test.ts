/**
 * A subscription whose group rebalances (a second member joins, then leaves: what a configured
 * `consumer.groupId` shared by two builds does during a redeploy) continues each partition right
 * after what it passed: no replay from the beginning, nothing twice, nothing lost.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { createKafkaEndpoint } from '../../runtime/endpoints/kafka/kafka.ts';
import { setLogLevel } from '../../runtime/log.ts';
import { kafkaBootstrap } from '../support/brokers/brokers.ts';
import { collect, eventually, texts } from '../contract/endpoint-suite.ts';
import { kcatProduce } from '../brokers-e2e/clients.ts';

setLogLevel('silent');

it('after a rebalance every partition continues where the subscription stood', { timeout: 90_000 }, async () => {
  const bootstrap = await kafkaBootstrap();
  const topic = `rebalance-${randomUUID().slice(0, 6)}`;
  const groupId = `g-${topic}`;
  const admin = new Kafka({ clientId: 'rebalance', brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
  const members = async () => (await admin.describeGroups([groupId])).groups[0]!.members.length;
  const build = (instanceId: string) => createKafkaEndpoint({ type: 'kafka', bootstrapServers: [bootstrap], consumer: { topics: [topic], groupId } },
    { apiId: 'rebalance', instanceId, resolveSecret: () => '' });
  const a = build('a');
  const b = build('b');
  await Promise.all([a.start(), b.start()]);
  const keyed = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `k${i % 4}:${prefix}-${i}`);
  const values = (lines: string[]) => lines.map((l) => l.slice(l.indexOf(':') + 1));
  try {
    const subA = collect(a.subscribe({ signal: new AbortController().signal }));
    await eventually(async () => expect(await members()).toBe(1), 20_000);
    await eventually(async () => {
      await kcatProduce(bootstrap, topic, ['k0:warmup-a', 'k1:warmup-a'], { keyed: true });
      expect(texts(subA.messages).filter((t) => t === 'warmup-a').length).toBeGreaterThanOrEqual(2);
    }, 20_000);
    await kcatProduce(bootstrap, topic, keyed('one', 20), { keyed: true });
    await subA.until(() => texts(subA.messages).filter((t) => t.startsWith('one-')).length === 20, 15_000, 'first 20');

    const stopB = new AbortController();
    const subB = collect(b.subscribe({ signal: stopB.signal }));
    await eventually(async () => expect(await members()).toBe(2), 30_000);
    stopB.abort();
    await subB.until(() => subB.ended, 15_000, 'B left');
    await eventually(async () => expect(await members()).toBe(1), 30_000);

    await kcatProduce(bootstrap, topic, keyed('two', 20), { keyed: true });
    await subA.until(() => texts(subA.messages).filter((t) => t.startsWith('two-')).length === 20, 30_000, 'second 20');
    const real = texts(subA.messages).filter((t) => !t.startsWith('warmup'));
    expect(new Set(real).size).toBe(real.length); // nothing twice, no replay of partitions from their start
    expect(real.filter((t) => t.startsWith('one-'))).toHaveLength(20);
    expect(new Set(real.filter((t) => t.startsWith('two-')))).toEqual(new Set(values(keyed('two', 20))));
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await admin.disconnect();
  }
});
