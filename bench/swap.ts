/**
 * Swap under load: 500 WebSocket clients stream from an API over Kafka (20 msg/s, sequence
 * numbered) while a new bundle that changes only another API is deployed every second for 30 s
 * (`sluice serve --bundle FILE` follows the file, written by temp file + rename). Measures messages
 * lost on the unchanged API (must be 0), clients cut (must be 0), latency during the swaps, and
 * each swap's duration from Sluice's `deployed` log lines.
 */
import { join } from 'node:path';
import type { BenchContext } from './context.ts';
import type { SwapCase } from './cases.ts';
import { bundle, changingApi, streamApi, writeBundle } from './bundles.ts';
import { startSluice } from './processes.ts';
import { percentile } from './payload.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function swapSection(ctx: BenchContext): Promise<void> {
  const clients = ctx.quick ? 100 : 500;
  const seconds = ctx.quick ? 10 : 30;
  const rate = 20;
  if (!ctx.timeLeft((seconds + 40) * 1000)) {
    ctx.notes.push('swap skipped: the run reached its time budget');
    return;
  }
  ctx.progress(`swap: ${clients} clients, a deploy every second for ${seconds} s`);
  const topic = 'bench-swap';
  await ctx.createTopics(ctx.brokers, [topic]);
  const stream = streamApi('stream', ctx.brokers, 'kafka', topic);
  const file = join(ctx.work, 'swap.json');
  writeBundle(file, bundle([stream, changingApi('other', 0)]));
  const sluice = await ctx.serverOf(() => startSluice(file, 'info'));
  try {
    await ctx.clients.request({ cmd: 'subscribe', kind: 'websocket', url: `${sluice.url.replace(/^http/, 'ws')}/stream/`, count: clients }, 120_000);
    const warmFrom = ctx.publisher.seq;
    const warmDeadline = Date.now() + 45_000;
    for (;;) {
      await ctx.publisher.paced('kafka', topic, rate, 2);
      const { seen } = await ctx.clients.request({ cmd: 'seen', seq: warmFrom });
      if (seen === clients) break;
      if (Date.now() > warmDeadline) throw new Error(`warm-up: only ${seen} of ${clients} clients receive messages`);
    }

    const count = rate * seconds;
    const lo = ctx.publisher.seq;
    await ctx.clients.request({ cmd: 'window', lo, hi: lo + count - 1 });
    const firstLine = sluice.lines.length;
    let version = 0;
    const swapper = setInterval(() => writeBundle(file, bundle([stream, changingApi('other', ++version)])), 1000);
    try {
      await ctx.publisher.paced('kafka', topic, rate, count);
    } finally {
      clearInterval(swapper);
    }
    const deadline = Date.now() + 5000;
    let stats = await ctx.clients.request({ cmd: 'stats' });
    while (stats.delivered < count * clients && Date.now() < deadline) {
      await sleep(100);
      stats = await ctx.clients.request({ cmd: 'stats' });
    }
    await sleep(500); // the last deploy's log line
    const deploys = sluice.lines.slice(firstLine).map((line) => {
      try {
        return JSON.parse(line) as { msg?: string; durationMs?: number; kept?: string[]; changed?: string[] };
      } catch {
        return {};
      }
    }).filter((line) => line.msg === 'deployed');
    const durations = deploys.map((d) => d.durationMs ?? Number.NaN);
    ctx.record({
      case: 'swap', clients, seconds, swaps: deploys.length,
      unchangedKept: deploys.every((d) => d.kept?.includes('stream')),
      published: count, delivered: stats.delivered, lost: stats.lost, closed: stats.closed,
      p50Ms: stats.p50 / 1000, p99Ms: stats.p99 / 1000,
      swapP50Ms: percentile(durations, 50), swapP99Ms: percentile(durations, 99), swapMaxMs: Math.max(...durations),
    });
  } catch (error) {
    ctx.notes.push(`swap failed: ${(error as Error).message.split('\n')[0]}`);
    ctx.progress(`  failed: ${(error as Error).message}`);
  } finally {
    await ctx.clients.request({ cmd: 'close' }, 30_000);
    await ctx.stopServer(sluice);
  }
}
