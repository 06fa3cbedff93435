/**
 * Channels: runs `bench/channels.ts` (the fanout in process, 1,000 clients over 100 channels against
 * the same clients on one channel) in its own process and records its JSON line.
 */
import { spawn } from 'node:child_process';
import type { BenchContext } from './context.ts';

export async function channelsSection(ctx: BenchContext): Promise<void> {
  if (!ctx.timeLeft(60_000)) {
    ctx.notes.push('channels skipped: the run reached its time budget');
    return;
  }
  ctx.progress('channels: 1,000 clients over 100 channels vs one channel');
  const child = spawn(process.execPath, ['bin/run-ts.js', 'bench/channels.ts', '--messages', ctx.quick ? '500' : '2000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 55_000);
  await new Promise<void>((resolve) => child.once('close', () => resolve()));
  clearTimeout(timer);
  const line = output.split('\n').find((l) => l.startsWith('{'));
  if (!line) {
    ctx.notes.push(`channels: bench/channels.ts printed no result (${output.trim().split('\n').at(-1) ?? 'no output'})`);
    return;
  }
  const r = JSON.parse(line) as { clients: number; messages: number; oneChannel: { cpuMicrosPerDelivered: number }; hundredChannels: { cpuMicrosPerDelivered: number }; ratio: number };
  ctx.record({
    case: 'channels', clients: r.clients, messages: r.messages,
    oneChannelMicrosPerDelivered: r.oneChannel.cpuMicrosPerDelivered, hundredChannelsMicrosPerDelivered: r.hundredChannels.cpuMicrosPerDelivered, ratio: r.ratio,
  });
}
