/**
 * Publish: client -> Kafka throughput and latency through Sluice (HTTP POST, WebSocket) against
 * kafkajs producing directly (the baseline), same concurrency, same acks (-1), one message per
 * request, separate fresh topics. Each case runs a short warm-up first (not recorded).
 */
import { join } from 'node:path';
import type { BenchContext } from './context.ts';
import type { PublishCase } from './cases.ts';
import { bundle, publishApi, writeBundle } from './bundles.ts';
import type { LoadRequest } from './load.ts';
import { startSluice } from './processes.ts';

const CONCURRENCY = 32;

export async function publishSection(ctx: BenchContext): Promise<void> {
  const topics = { direct: 'bench-publish-direct', post: 'bench-publish-post', websocket: 'bench-publish-websocket' };
  await ctx.createTopics(ctx.brokers, Object.values(topics));
  const file = join(ctx.work, 'publish.json');
  writeBundle(file, bundle([publishApi('post', ctx.brokers, topics.post), publishApi('wspub', ctx.brokers, topics.websocket)]));
  const sluice = await ctx.serverOf(() => startSluice(file));
  const seconds = ctx.quick ? 2 : 4;
  try {
    const cases: [PublishCase['impl'], (durationMs: number) => LoadRequest][] = [
      ['kafkajs', (durationMs) => ({ kind: 'kafka', bootstrap: ctx.brokers.kafka, topic: topics.direct, concurrency: CONCURRENCY, durationMs })],
      ['sluice-http-post', (durationMs) => ({ kind: 'http-post', url: `${sluice.url}/post/`, concurrency: CONCURRENCY, durationMs })],
      ['sluice-websocket', (durationMs) => ({ kind: 'websocket-publish', url: `${sluice.url.replace(/^http/, 'ws')}/wspub/`, bootstrap: ctx.brokers.kafka, topic: topics.websocket, concurrency: CONCURRENCY, durationMs })],
    ];
    // The broker's JIT warms up on produce requests first (the first seconds are several times slower).
    await ctx.clients.request({ cmd: 'load', ...cases[0]![1](3000) }, 60_000).catch(() => undefined);
    for (const [impl, load] of cases) {
      if (!ctx.timeLeft(30_000)) {
        ctx.notes.push(`publish ${impl} skipped: the run reached its time budget`);
        continue;
      }
      ctx.progress(`publish ${impl}`);
      try {
        await ctx.clients.request({ cmd: 'load', ...load(1000) }, 60_000);
        const r = await ctx.clients.request({ cmd: 'load', ...load(seconds * 1000) }, 60_000);
        ctx.record({ case: 'publish', impl, concurrency: CONCURRENCY, seconds, requests: r.requests, perSecond: r.perSecond, errors: r.errors, p50Ms: r.p50 / 1000, p99Ms: r.p99 / 1000, latency: r.latency });
      } catch (error) {
        ctx.notes.push(`publish ${impl} failed: ${(error as Error).message.split('\n')[0]}`);
        ctx.progress(`  failed: ${(error as Error).message}`);
      }
    }
  } finally {
    await ctx.stopServer(sluice);
  }
}
