/**
 * Kafka record mapping against the suite's broker, read and written by kcat: gzip-compressed,
 * keyed publishes with headers; metadata (topic, partition, offset, key, timestamp) and headers of
 * consumed records.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { createKafkaEndpoint } from '../../runtime/endpoints/kafka/kafka.ts';
import { setLogLevel } from '../../runtime/log.ts';
import { kafkaBootstrap } from '../support/brokers/brokers.ts';
import { collect, warmUp } from '../contract/endpoint-suite.ts';
import { kcatConsume, kcatProduce } from '../brokers-e2e/clients.ts';

setLogLevel('silent');

it('publishes gzip-compressed records keyed by a JSON path, with headers; consumes metadata, key and headers', async () => {
  const bootstrap = await kafkaBootstrap();
  const topic = `records-${randomUUID().slice(0, 6)}`;
  const endpoint = createKafkaEndpoint({
    type: 'kafka', bootstrapServers: [bootstrap],
    consumer: { topics: [topic] },
    producer: { topic: `${topic}-out`, key: '{$.customer}', acks: 1, compression: 'gzip' },
  }, { apiId: 'records', instanceId: 'test', resolveSecret: () => '' });
  await endpoint.start();
  try {
    await endpoint.publish({ content: Buffer.from('{"customer":"c-7","amount":3}'), headers: { 'x-source': 'test' }, metadata: {} });
    const [record] = await kcatConsume(bootstrap, `${topic}-out`, 1);
    expect(record).toEqual({ key: 'c-7', headers: { 'x-source': 'test' }, payload: '{"customer":"c-7","amount":3}' });

    const controller = new AbortController();
    const sub = collect(endpoint.subscribe({ signal: controller.signal }));
    await warmUp((messages) => kcatProduce(bootstrap, topic, messages.map((m) => m.content.toString())), sub, 'records');
    const before = Date.now();
    await kcatProduce(bootstrap, topic, ['k-1:hello'], { keyed: true, headers: { 'x-trace': 'abc' } });
    await sub.until(() => sub.messages.some((m) => m.content.toString() === 'hello'), 10_000, 'the keyed record');
    controller.abort();
    const message = sub.messages.find((m) => m.content.toString() === 'hello')!;
    expect(message.headers).toEqual({ 'x-trace': 'abc' });
    expect(message.metadata).toMatchObject({ topic, partition: 0, key: 'k-1' });
    expect(Number(message.metadata.offset)).toBeGreaterThan(0);
    expect(message.timestamp).toBeGreaterThanOrEqual(before - 5_000);
    expect(Buffer.from(message.id, 'base64url').toString()).toBe(`${topic}@0#${message.metadata.offset}`);
  } finally {
    await endpoint.stop();
  }
});

it('a slow reader holds the consumer back (bounded buffer) and still gets every record in order', { timeout: 60_000 }, async () => {
  const bootstrap = await kafkaBootstrap();
  const topic = `slow-${randomUUID().slice(0, 6)}`;
  const endpoint = createKafkaEndpoint({ type: 'kafka', bootstrapServers: [bootstrap], consumer: { topics: [topic], autoOffsetReset: 'earliest' } },
    { apiId: 'slow', instanceId: 'test', resolveSecret: () => '' });
  await endpoint.start();
  try {
    const records = Array.from({ length: 1200 }, (_, i) => `r-${i}`);
    await kcatProduce(bootstrap, topic, records);
    const controller = new AbortController();
    const got: string[] = [];
    for await (const message of endpoint.subscribe({ signal: controller.signal })) {
      got.push(message.content.toString());
      if (got.length === 100) await new Promise((r) => setTimeout(r, 1500)); // the buffer (256) fills meanwhile
      if (got.length === records.length) break;
    }
    expect(got).toEqual(records);
  } finally {
    await endpoint.stop();
  }
});
