/**
 * Micro-batching of Kafka publishes (runtime/endpoints/kafka-batch.ts): with a send the test
 * acknowledges or fails by hand (each publish settles only with its own send), and end to end
 * against the suite's broker (concurrent keyed publishes all acknowledged, read back in order).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Message as KafkaRecord } from 'kafkajs';
import { batchSender } from '../../runtime/endpoints/kafka/batch.ts';
import { createKafkaEndpoint } from '../../runtime/endpoints/kafka/kafka.ts';
import { GatewayError } from '../../core/errors.ts';
import { setLogLevel } from '../../runtime/log.ts';
import { kafkaBootstrap } from '../support/brokers/brokers.ts';
import { kcatConsume } from '../brokers-e2e/clients.ts';

setLogLevel('silent');

interface Send {
  readonly values: string[];
  ack(): void;
  fail(error: Error): void;
}

/** A batch sender whose sends the test settles one by one. */
function manual(options: { maxQueuedMessages?: number; maxQueuedBytes?: number } = {}) {
  const sends: Send[] = [];
  const sender = batchSender({
    send: (records: KafkaRecord[]) => new Promise((resolve, reject) => {
      sends.push({ values: records.map((r) => String(r.value)), ack: () => resolve(undefined), fail: reject });
    }),
    refused: (error) => (error as Error).message === 'too large',
    fail: (error) => new GatewayError('ENDPOINT_UNAVAILABLE', 503, (error as Error).message, 1011),
    ...options,
  });
  const settled = new Map<string, 'ok' | string>();
  const publish = (value: string) => {
    const done = sender.publish({ value }, value.length);
    done.then(() => settled.set(value, 'ok'), (e: GatewayError) => settled.set(value, `${e.code} ${e.message}`));
    return done.catch(() => undefined);
  };
  return { sender, sends, settled, publish };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('kafka batch sender', () => {
  it('sends a lone publish at once, batches what arrives meanwhile in order, and resolves each only after its own ack', async () => {
    const { sends, settled, publish } = manual();
    void publish('a');
    expect(sends.map((s) => s.values)).toEqual([['a']]);
    for (const v of ['b', 'c', 'd']) void publish(v);
    await tick();
    expect(sends).toHaveLength(1); // one send in flight at a time
    sends[0]!.ack();
    await tick();
    expect(settled.get('a')).toBe('ok');
    expect(settled.has('b')).toBe(false);
    expect(sends.map((s) => s.values)).toEqual([['a'], ['b', 'c', 'd']]);
    void publish('e');
    sends[1]!.ack();
    await tick();
    expect([...settled.keys()].sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(sends[2]!.values).toEqual(['e']);
    sends[2]!.ack();
    await tick();
    expect(settled.get('e')).toBe('ok');
  });

  it('a failed send rejects every publish of that batch and none of the next one', async () => {
    const { sends, settled, publish } = manual();
    void publish('a');
    void publish('b');
    void publish('c');
    sends[0]!.fail(new Error('broker down'));
    await tick();
    void publish('d');
    expect(settled.get('a')).toBe('ENDPOINT_UNAVAILABLE broker down');
    expect(sends[1]!.values).toEqual(['b', 'c']);
    sends[1]!.fail(new Error('broker down'));
    await tick();
    expect(settled.get('b')).toBe('ENDPOINT_UNAVAILABLE broker down');
    expect(settled.get('c')).toBe('ENDPOINT_UNAVAILABLE broker down');
    expect(settled.has('d')).toBe(false);
    sends[2]!.ack();
    await tick();
    expect(settled.get('d')).toBe('ok');
  });

  it('a refused batch is re-sent record by record so only the refused publish fails', async () => {
    const { sends, settled, publish } = manual();
    void publish('a');
    for (const v of ['b', 'big', 'c']) void publish(v);
    sends[0]!.ack();
    await tick();
    sends[1]!.fail(new Error('too large'));
    for (const expected of ['b', 'big', 'c']) {
      await tick();
      const send = sends.at(-1)!;
      expect(send.values).toEqual([expected]);
      if (expected === 'big') send.fail(new Error('too large'));
      else send.ack();
    }
    await tick();
    expect(Object.fromEntries(settled)).toEqual({ a: 'ok', b: 'ok', big: 'ENDPOINT_UNAVAILABLE too large', c: 'ok' });
  });

  it('rejects with PUBLISH_QUEUE_FULL (503) beyond the queue bound, in messages and in bytes, and accepts again once drained', async () => {
    const { sender, sends, settled, publish } = manual({ maxQueuedMessages: 3, maxQueuedBytes: 10 });
    void publish('in-flight');
    for (const v of ['q1', 'q2', 'q3']) void publish(v);
    const full = await sender.publish({ value: 'q4' }, 2).catch((e: GatewayError) => e);
    expect(full).toBeInstanceOf(GatewayError);
    expect(full).toMatchObject({ code: 'PUBLISH_QUEUE_FULL', status: 503 });
    sends[0]!.ack();
    await tick();
    expect(sends[1]!.values).toEqual(['q1', 'q2', 'q3']);
    void publish('12345678');
    const tooMany = await sender.publish({ value: 'xyz' }, 3).catch((e: GatewayError) => e);
    expect(tooMany).toMatchObject({ code: 'PUBLISH_QUEUE_FULL', status: 503 }); // 8 + 3 bytes > 10
    sends[1]!.ack();
    await tick();
    sends[2]!.ack();
    await sender.idle();
    expect(settled.get('12345678')).toBe('ok');
  });
});

it('concurrent keyed publishes through the endpoint are all acknowledged and land in publish order', { timeout: 60_000 }, async () => {
  const bootstrap = await kafkaBootstrap();
  const topic = `batch-${randomUUID().slice(0, 6)}`;
  const endpoint = createKafkaEndpoint(
    { type: 'kafka', bootstrapServers: [bootstrap], producer: { topic, key: '{$.k}' } },
    { apiId: 'batch', instanceId: 'test', resolveSecret: () => '' },
  );
  await endpoint.start();
  try {
    const values = Array.from({ length: 400 }, (_, i) => JSON.stringify({ k: 'same', i }));
    await Promise.all(values.map((v) => endpoint.publish({ content: Buffer.from(v), headers: {}, metadata: {} })));
    const records = await kcatConsume(bootstrap, topic, values.length);
    expect(records.map((r) => r.payload)).toEqual(values);
    expect(records.every((r) => r.key === 'same')).toBe(true);
  } finally {
    await endpoint.stop();
  }
});
