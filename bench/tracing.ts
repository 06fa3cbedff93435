/**
 * Tracing cost: HTTP POST -> Kafka through `sluice serve` with OTEL_EXPORTER_OTLP_ENDPOINT unset
 * and set to a local OTLP/HTTP sink (a node:http server in this process answering 200), in the
 * same run, in the order unset, set, set, unset on the same topic so drift hits both. With it
 * set every request makes a SERVER and a PRODUCER span (no incoming traceparent: each request is a
 * new, sampled trace: the dearest case), exported as OTLP/HTTP protobuf (the default protocol).
 * The table reports set / unset ratios.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { BenchContext } from './context.ts';
import { bundle, publishApi, writeBundle } from './bundles.ts';
import { startSluice } from './processes.ts';

const CONCURRENCY = 32;

/** Answers every OTLP export 200 and counts the bytes it received. */
async function otlpSink(): Promise<{ url: string; bytes: () => number; close: () => Promise<void> }> {
  let bytes = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      for (const chunk of chunks) bytes += chunk.length;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bytes: () => bytes,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export async function tracingSection(ctx: BenchContext): Promise<void> {
  const topic = 'bench-tracing-post';
  await ctx.createTopics(ctx.brokers, [topic]);
  const file = join(ctx.work, 'tracing.json');
  writeBundle(file, bundle([publishApi('post', ctx.brokers, topic)]));
  const sink = await otlpSink();
  const seconds = ctx.quick ? 2 : 4;
  // The broker's JIT warms up on produce requests first (the first seconds are several times slower).
  await ctx.clients.request({ cmd: 'load', kind: 'kafka', bootstrap: ctx.brokers.kafka, topic, concurrency: CONCURRENCY, durationMs: 3000 }, 60_000).catch(() => undefined);
  try {
    for (let round = 1; round <= 2; round++) {
      // unset, set, set, unset: a drift over the run (the broker warming up, a neighbour's load) weighs on both alike.
      for (const otel of round === 1 ? (['unset', 'set'] as const) : (['set', 'unset'] as const)) {
        if (!ctx.timeLeft(30_000)) {
          ctx.notes.push(`tracing ${otel} round ${round} skipped: the run reached its time budget`);
          continue;
        }
        ctx.progress(`tracing OTEL ${otel} (round ${round})`);
        const env: Record<string, string> = otel === 'set'
          ? { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_BSP_SCHEDULE_DELAY: '200' }
          : { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '' };
        const sluice = await ctx.serverOf(() => startSluice(file, 'warn', env));
        try {
          const load = (durationMs: number) => ({ cmd: 'load', kind: 'http-post', url: `${sluice.url}/post/`, concurrency: CONCURRENCY, durationMs });
          await ctx.clients.request(load(1500), 60_000); // warm-up, not recorded
          await new Promise((resolve) => setTimeout(resolve, 400)); // its spans exported before the window
          const cpuBefore = sluice.cpuMicros();
          const bytesBefore = sink.bytes();
          const r = await ctx.clients.request(load(seconds * 1000), 60_000);
          const cpu = sluice.cpuMicros() - cpuBefore;
          await new Promise((resolve) => setTimeout(resolve, 400)); // the last batch of spans
          ctx.record({
            case: 'tracing', otel, round, concurrency: CONCURRENCY, seconds, requests: r.requests, perSecond: r.perSecond, errors: r.errors,
            p50Ms: r.p50 / 1000, p99Ms: r.p99 / 1000, cpuMicrosPerRequest: r.requests > 0 ? cpu / r.requests : Number.NaN, exportedBytes: sink.bytes() - bytesBefore,
          });
        } catch (error) {
          ctx.notes.push(`tracing ${otel} round ${round} failed: ${(error as Error).message.split('\n')[0]}`);
        } finally {
          await ctx.stopServer(sluice);
        }
      }
    }
  } finally {
    await sink.close();
  }
}
