/**
 * Webhooks over real Kafka (test/brokers global setup), one gateway in this process, a real
 * callback server, messages produced by an independent kafkajs producer:
 * 1,000 messages in order per partition, 503s then 200s, a 400 into the dead-letter topic (read
 * back with kcat), a 400 without one (failure on /status, position held, resume).
 * Several processes and SIGKILL: processes.test.ts.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith } from '../support/harness.ts';
import { startCallbackServer, type CallbackServer } from './callback-server.ts';
import { acme, until, type Row } from './webhook-rig.ts';
import { byPartition, committed, freshTopic, kafkaTools, kafkaWebhookBundle, produceSequences, range, type KafkaTools } from './kafka-fixtures.ts';

const run = promisify(execFile);
let tools: KafkaTools;
let gateway: Gateway | undefined;
let target: CallbackServer | undefined;

beforeAll(async () => {
  tools = await kafkaTools();
});
afterAll(async () => {
  await tools?.close();
});
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
  await target?.close();
  target = undefined;
});

const assigned = (partitions: number) => (row: Row) => row.consumer?.connected === true && (row.consumer.assignment?.split(':')[1]?.split(',').length ?? 0) === partitions;

describe('webhooks over Kafka', () => {
  it('delivers 1,000 messages, each once, in order per partition', async () => {
    const topic = await freshTopic(tools.admin, 4);
    target = await startCallbackServer();
    gateway = await gatewayWith(kafkaWebhookBundle({ api: 'orders', topic, bootstrap: tools.bootstrap, subscriptions: { acme: { callbackUrl: target.url } } }));
    await until(gateway!, assigned(4), 30_000, 'the consumer to join with 4 partitions');
    await produceSequences(tools.producer, topic, 4, 250);
    await target.waitForDelivered(1_000, 60_000);
    const partitions = byPartition(target.delivered());
    expect([...partitions.keys()].sort()).toEqual([0, 1, 2, 3]);
    for (const [, seqs] of partitions) expect(seqs).toEqual(range(250));
    expect(target.received).toHaveLength(1_000);
    const offsets = await committed(tools.admin, 'sluice-webhook-orders-acme', topic);
    expect([...offsets.values()]).toEqual([250, 250, 250, 250]);
    expect(await acme(gateway!)).toMatchObject({ state: 'started', delivered: 1_000 });
  });

  it('keeps retrying while the callback answers 503, then delivers every message in order', async () => {
    const topic = await freshTopic(tools.admin, 2);
    let healthyAt = Number.POSITIVE_INFINITY;
    target = await startCallbackServer(({ index }) => {
      if (index === 0) healthyAt = Date.now() + 1_500;
      return Date.now() < healthyAt ? 503 : 200;
    });
    gateway = await gatewayWith(kafkaWebhookBundle({
      api: 'orders', topic, bootstrap: tools.bootstrap, autoOffsetReset: 'earliest',
      subscriptions: { acme: { callbackUrl: target.url, retry: { strategy: 'exponential', initialDelayMs: 50, maxDelayMs: 400, maxAttempts: 100 } } },
    }));
    await produceSequences(tools.producer, topic, 2, 50);
    await until(gateway!, (row) => row.state === 'retrying', 20_000, 'state retrying');
    await target.waitForDelivered(100, 30_000);
    const partitions = byPartition(target.delivered());
    expect(partitions.get(0)).toEqual(range(50));
    expect(partitions.get(1)).toEqual(range(50));
    const refused = target.received.filter((r) => r.status === 503);
    expect(refused.length).toBeGreaterThan(1);
    // While refused, only the first message of one partition was tried: nothing overtook it.
    expect(new Set(refused.map((r) => r.body)).size).toBeLessThanOrEqual(2);
    expect(await acme(gateway!)).toMatchObject({ state: 'started', delivered: 100, lastError: { status: 503 } });
  });

  it('puts a message refused with 400 into the dead-letter topic (read with kcat) and goes on', async () => {
    const topic = await freshTopic(tools.admin, 1);
    const dlq = `${topic}-dlq`;
    target = await startCallbackServer(({ body }) => (body === 'p0-7' ? 400 : 200));
    gateway = await gatewayWith(kafkaWebhookBundle({
      api: 'orders', topic, bootstrap: tools.bootstrap, autoOffsetReset: 'earliest',
      subscriptions: { acme: { callbackUrl: target.url, deadLetter: { topic: dlq } } },
    }));
    await produceSequences(tools.producer, topic, 1, 20);
    await target.waitForDelivered(19, 30_000);
    expect(byPartition(target.delivered()).get(0)).toEqual(range(20).filter((n) => n !== 7));
    await until(gateway!, (row) => row.deadLettered === 1, 5_000, 'the dead letter counted');

    const { stdout } = await run('kcat', ['-C', '-b', tools.bootstrap, '-t', dlq, '-o', 'beginning', '-c', '1', '-e', '-q', '-f', '%s\\n%h\\n'], { timeout: 30_000 });
    const [content, headers] = stdout.split('\n');
    expect(content).toBe('p0-7');
    for (const header of ['x-sluice-api=orders', 'x-sluice-subscription=acme', 'x-sluice-status=400', 'x-sluice-error=callback answered HTTP 400', `x-sluice-source-topic=${topic}`, 'x-sluice-source-offset=7']) {
      expect(headers).toContain(header);
    }
    expect([...(await committed(tools.admin, 'sluice-webhook-orders-acme', topic)).values()]).toEqual([20]);
  });

  it('without a dead-letter topic, a 400 stops it in state failure at its position; resume delivers the rest in order', async () => {
    const topic = await freshTopic(tools.admin, 1);
    let fixed = false;
    target = await startCallbackServer(({ body }) => (body === 'p0-3' && !fixed ? 400 : 200));
    gateway = await gatewayWith(kafkaWebhookBundle({
      api: 'orders', topic, bootstrap: tools.bootstrap, autoOffsetReset: 'earliest',
      subscriptions: { acme: { callbackUrl: target.url } },
    }));
    await produceSequences(tools.producer, topic, 1, 10);
    const failed = await until(gateway!, (row) => row.state === 'failure', 30_000, 'state failure');
    expect(failed.lastError).toMatchObject({ status: 400, code: 'CALLBACK_REFUSED' });
    expect(target.delivered()).toEqual(['p0-0', 'p0-1', 'p0-2']);
    await until(gateway!, () => true, 1_000, 'status');
    expect([...(await committed(tools.admin, 'sluice-webhook-orders-acme', topic)).values()]).toEqual([3]);

    fixed = true;
    const res = await fetch(`${gateway.adminUrl}/subscriptions/acme/resume`, { method: 'POST' });
    expect(await res.json()).toMatchObject({ api: 'orders', subscription: 'acme', resumed: true });
    await target.waitForDelivered(10, 20_000);
    expect(byPartition(target.delivered()).get(0)).toEqual(range(10));
    await until(gateway!, (row) => row.state === 'started' && row.delivered === 10, 5_000, 'started again');
  });
});
