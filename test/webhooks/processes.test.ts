/**
 * Webhooks over real Kafka with real `sluice serve` processes:
 * - SIGKILL mid-stream, then a restart: nothing is lost, and the only messages delivered twice
 *   are ones that were not committed when the process died;
 * - two processes serving the same bundle share the subscription's consumer group: 1,000
 *   messages, each delivered exactly once (steady state), both processes deliver some.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCallbackServer, type CallbackServer } from './callback-server.ts';
import { byPartition, committed, freshTopic, kafkaTools, kafkaWebhookBundle, produceSequences, range, type KafkaTools } from './kafka-fixtures.ts';
import { partitionsOf, startRuntime, stopAll, stopRuntime, subscriptionOf, type RuntimeProcess } from './runtime-process.ts';

let tools: KafkaTools;
let dir: string;
let target: CallbackServer | undefined;

beforeAll(async () => {
  tools = await kafkaTools();
  dir = mkdtempSync(join(tmpdir(), 'sluice-webhooks-'));
});
afterEach(async () => {
  await stopAll();
  await target?.close();
  target = undefined;
});
afterAll(async () => {
  await stopAll();
  await tools?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function writeBundle(name: string, bundle: unknown): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(bundle));
  return file;
}

async function until(what: string, ms: number, test: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('webhook runtime processes over Kafka', () => {
  it('loses nothing when killed with SIGKILL mid-stream; duplicates only of messages not yet committed', async () => {
    const topic = await freshTopic(tools.admin, 2);
    target = await startCallbackServer(() => new Promise((resolve) => setTimeout(() => resolve(200), 2)));
    // The two runs differ only in a static header, so each delivery says which process made it.
    const bundleFor = (run: string) => kafkaWebhookBundle({
      api: 'orders', topic, bootstrap: tools.bootstrap, autoOffsetReset: 'earliest',
      subscriptions: { acme: { callbackUrl: target!.url, headers: [{ name: 'X-Run', value: run }] } },
    });
    await produceSequences(tools.producer, topic, 2, 500);

    const first = await startRuntime(writeBundle('first', bundleFor('1')));
    await target.waitForDelivered(300, 60_000);
    await stopRuntime(first, 'SIGKILL');
    const firstRun = target.received.filter((r) => r.headers['x-run'] === '1').map((r) => r.body);
    const positions = await committed(tools.admin, 'sluice-webhook-orders-acme', topic);
    expect(firstRun.length).toBeGreaterThanOrEqual(300);
    expect(firstRun.length).toBeLessThan(1_000);

    await startRuntime(writeBundle('second', bundleFor('2')));
    await until('every message delivered after the restart', 90_000, () => new Set(target!.delivered()).size === 1_000);
    const secondRun = target.received.filter((r) => r.headers['x-run'] === '2').map((r) => r.body);

    const before = byPartition(firstRun);
    const after = byPartition(secondRun);
    for (const partition of [0, 1]) {
      const delivered = before.get(partition) ?? [];
      const position = Math.max(0, positions.get(partition) ?? -1);
      // The first run delivered a prefix, in order; the commit is at most one message behind it.
      expect(delivered).toEqual(range(delivered.length));
      expect(position).toBeGreaterThanOrEqual(Math.max(0, delivered.length - 1));
      expect(position).toBeLessThanOrEqual(delivered.length);
      // The second run starts exactly at the committed position and delivers the rest in order.
      expect(after.get(partition)).toEqual(range(500).slice(position));
    }
    const duplicates = target.delivered().length - 1_000;
    expect(duplicates).toBeLessThanOrEqual(2);
  }, 150_000);

  it('two processes share the work: 1,000 messages, each delivered exactly once', async () => {
    const topic = await freshTopic(tools.admin, 4);
    target = await startCallbackServer();
    const file = writeBundle('shared', kafkaWebhookBundle({ api: 'orders', topic, bootstrap: tools.bootstrap, subscriptions: { acme: { callbackUrl: target.url } } }));
    const runtimes: RuntimeProcess[] = await Promise.all([startRuntime(file), startRuntime(file)]);
    // Steady state: the group has settled with two partitions on each process.
    await until('both processes to hold two partitions each', 60_000, async () => {
      const held = await Promise.all(runtimes.map(async (runtime) => partitionsOf(await subscriptionOf(runtime, 'acme'))));
      return held.every((partitions) => partitions.length === 2) && new Set(held.flat()).size === 4;
    });

    await produceSequences(tools.producer, topic, 4, 250);
    await target.waitForDelivered(1_000, 60_000);
    expect(target.received).toHaveLength(1_000);
    expect(new Set(target.delivered()).size).toBe(1_000);
    for (const [, seqs] of byPartition(target.delivered())) expect(seqs).toEqual(range(250));
    const counts = await Promise.all(runtimes.map(async (runtime) => (await subscriptionOf(runtime, 'acme'))!.delivered));
    expect(counts[0]! + counts[1]!).toBe(1_000);
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBeGreaterThan(0);
    expect([...(await committed(tools.admin, 'sluice-webhook-orders-acme', topic)).values()]).toEqual([250, 250, 250, 250]);

    await Promise.all(runtimes.map((runtime) => stopRuntime(runtime)));
    for (const runtime of runtimes) expect(runtime.child.exitCode).toBe(0);
    // Both left the group on a graceful stop.
    const [group] = (await tools.admin.describeGroups(['sluice-webhook-orders-acme'])).groups;
    expect(group!.members).toHaveLength(0);
  }, 150_000);
});
