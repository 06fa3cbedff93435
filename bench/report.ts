/**
 * The benchmark's markdown report (bench/results/latest.md): the machine, one table per
 * section with Sluice / baseline ratios, and the targets with met / missed.
 */
import { availableParallelism, cpus } from 'node:os';
import type { ChannelsCase, CompileCase, FanoutCase, IdleCase, PublishCase, SaturationCase, SwapCase, Target, TracingCase, UpstreamCase } from './cases.ts';
import { idleMarkdown, idleRow } from './idle-report.ts';
import { nchanRss, saturationMarkdown, saturationTargets } from './saturation-report.ts';

export type Result = FanoutCase | PublishCase | SwapCase | CompileCase | TracingCase | ChannelsCase | SaturationCase | UpstreamCase | IdleCase;
export type { Target } from './cases.ts';

export interface Machine {
  readonly cpus: number;
  readonly model: string;
  readonly node: string;
  readonly date: string;
}

export function machine(): Machine {
  return { cpus: availableParallelism(), model: cpus()[0]?.model.trim() ?? 'unknown', node: process.version, date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC' };
}

const f = (value: number, digits = 0): string => (Number.isFinite(value) ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–');
const ratio = (a: number, b: number): number => a / b;

export function targets(results: readonly Result[]): Target[] {
  const fanout = results.filter((r): r is FanoutCase => r.case === 'fanout');
  const saturation = results.filter((r): r is SaturationCase => r.case === 'saturation');
  const idle = results.filter((r): r is IdleCase => r.case === 'idle');
  const out: Target[] = [];
  for (const broker of ['mqtt', 'kafka'] as const) {
    for (const kind of ['websocket', 'sse'] as const) {
      const at = (impl: string) => fanout.find((r) => r.impl === impl && r.broker === broker && r.entrypoint === kind && r.clients === 1000);
      const s = at('sluice');
      const b = at('relay');
      const cpu = s && b ? ratio(s.cpuMicrosPerMessage, b.cpuMicrosPerMessage) : Number.NaN;
      out.push({ name: `fan-out CPU per delivered message, Sluice / relay ≤ 1.0 (${kind}, ${broker}, 1,000 clients)`, measured: f(cpu, 2), met: Number.isFinite(cpu) ? cpu <= 1.0 : undefined });
      // The idle section's rows (N = 4,000) when measured, else the fan-out row's reading at 1,000.
      const quiet = idleRow(idle, 'sluice', broker, kind);
      const rss = (quiet ?? s)?.rssPerClientBytes ?? Number.NaN;
      const nchan = idleRow(idle, 'nchan', 'http', kind)?.rssPerClientBytes ?? nchanRss(saturation, kind);
      const clients = f((quiet ?? s)?.clients ?? 1000);
      out.push({ name: `RSS per idle subscriber ≤ 12 KB (${kind}, ${broker}, ${clients} idle clients)`, measured: `${f(rss / 1024, 1)} KB${Number.isFinite(nchan) ? ` (nchan ${f(nchan / 1024, 1)} KB)` : ''}`, met: Number.isFinite(rss) ? rss / 1024 <= 12 : undefined });
    }
  }
  out.push(...saturationTargets(saturation));
  const swap = results.find((r): r is SwapCase => r.case === 'swap');
  out.push({ name: 'messages lost on the unchanged API during swaps = 0', measured: swap ? `${swap.lost} lost, ${swap.closed} clients cut, ${swap.swaps} swaps` : '–', met: swap ? swap.lost === 0 && swap.closed === 0 : undefined });
  for (const c of results.filter((r): r is CompileCase => r.case === 'compile')) {
    out.push({ name: `compile ${f(c.apis)} APIs < ${f(c.targetMs / 1000)} s`, measured: `${f(c.medianMs)} ms`, met: c.met });
  }
  return out;
}

export function markdown(results: readonly Result[], m: Machine, notes: readonly string[], seconds: number): string {
  const lines = [
    '# Sluice benchmark — latest run',
    '',
    `Machine: ${m.cpus} CPUs (${m.model}), Node ${m.node}, ${m.date}. Loopback only; Kafka 3.9 (KRaft, one node) and Mosquitto 2 on the same machine; full run ${f(seconds)} s (\`npm run bench\`).`,
    '',
  ];
  const fanout = results.filter((r): r is FanoutCase => r.case === 'fanout');
  if (fanout.length) {
    lines.push('## Fan-out (256-byte messages, broker → N clients)', '',
      'Relay = bench/relay.ts (broker client + ws / node:http, no framework), Sluice = `sluice serve --bundle`, each a fresh child process per row; clients in another process. Offered = messages/s published × N. CPU = server user+system time (/proc, all threads) over the window ÷ messages delivered (4 s windows, 8 s at N = 1,000). RSS = server RSS growth ÷ N with N idle clients connected, both readings after a full GC. Latency = publish → client receive (shared monotonic clock).', '',
      '| broker | entrypoint | N | offered msg/s | delivered msg/s relay / Sluice | p50 ms relay / Sluice | p99 ms relay / Sluice | CPU µs/msg relay / Sluice | **CPU ratio** | RSS KB/client relay / Sluice | lost relay / Sluice |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const s of fanout.filter((r) => r.impl === 'sluice')) {
      const b = fanout.find((r) => r.impl === 'relay' && r.broker === s.broker && r.entrypoint === s.entrypoint && r.clients === s.clients);
      const pair = (get: (r: FanoutCase) => number, digits = 0) => `${b ? f(get(b), digits) : '–'} / ${f(get(s), digits)}`;
      lines.push(`| ${s.broker} | ${s.entrypoint} | ${f(s.clients)} | ${f(s.offeredPerSecond * s.clients)} | ${pair((r) => r.deliveredPerSecond)} | ${pair((r) => r.p50Ms, 1)} | ${pair((r) => r.p99Ms, 1)} | ${pair((r) => r.cpuMicrosPerMessage, 1)} | **${b ? f(ratio(s.cpuMicrosPerMessage, b.cpuMicrosPerMessage), 2) : '–'}** | ${s.clients >= 100 ? pair((r) => r.rssPerClientBytes / 1024, 1) : '–'} | ${pair((r) => r.lost)} |`);
    }
    lines.push('');
  }
  const publish = results.filter((r): r is PublishCase => r.case === 'publish');
  if (publish.length) {
    const direct = publish.find((r) => r.impl === 'kafkajs');
    lines.push('## Publish to Kafka (256-byte messages, closed loop, 32 concurrent)', '',
      '| path | requests/s | p50 ms | p99 ms | latency measured | errors | requests/s vs kafkajs |', '| --- | ---: | ---: | ---: | --- | ---: | ---: |');
    for (const r of publish) {
      lines.push(`| ${r.impl} | ${f(r.perSecond)} | ${f(r.p50Ms, 1)} | ${f(r.p99Ms, 1)} | ${r.latency === 'ack' ? 'request → broker ack' : 'send → consumed from Kafka'} | ${f(r.errors)} | ${direct ? f(ratio(r.perSecond, direct.perSecond), 2) : '–'} |`);
    }
    lines.push('');
  }
  const tracing = results.filter((r): r is TracingCase => r.case === 'tracing');
  if (tracing.length) {
    const mean = (otel: TracingCase['otel'], get: (r: TracingCase) => number) => {
      const rows = tracing.filter((r) => r.otel === otel);
      return rows.length ? rows.reduce((sum, r) => sum + get(r), 0) / rows.length : Number.NaN;
    };
    lines.push('## Tracing cost (HTTP POST → Kafka, 256-byte messages, closed loop, 32 concurrent)', '',
      'OTEL_EXPORTER_OTLP_ENDPOINT unset, or set to a local OTLP/HTTP sink (every request a new sampled trace: SERVER + PRODUCER spans, OTLP/HTTP protobuf). Order unset, set, set, unset (drift weighs on both alike), a fresh `sluice serve` each; other load on the machine shows as differences between rounds. CPU = server user+system time ÷ requests.', '',
      '| OTEL | round | requests/s | p50 ms | p99 ms | CPU µs/request | KB of spans exported | errors |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of tracing) lines.push(`| ${r.otel} | ${r.round} | ${f(r.perSecond)} | ${f(r.p50Ms, 1)} | ${f(r.p99Ms, 1)} | ${f(r.cpuMicrosPerRequest, 1)} | ${f(r.exportedBytes / 1024)} | ${f(r.errors)} |`);
    lines.push('', `**set / unset**: requests/s ${f(ratio(mean('set', (r) => r.perSecond), mean('unset', (r) => r.perSecond)), 2)}, CPU per request ${f(ratio(mean('set', (r) => r.cpuMicrosPerRequest), mean('unset', (r) => r.cpuMicrosPerRequest)), 2)} (means of the rounds).`, '');
  }
  const swap = results.find((r): r is SwapCase => r.case === 'swap');
  if (swap) {
    lines.push('## Swap under load', '',
      '| clients | deploys (1/s) | unchanged API kept every time | messages published | lost | clients cut | p50 ms | p99 ms | swap p50 ms | swap p99 ms | swap max ms |',
      '| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      `| ${f(swap.clients)} | ${swap.swaps} in ${swap.seconds} s | ${swap.unchangedKept ? 'yes' : 'NO'} | ${f(swap.published)} × ${f(swap.clients)} | ${f(swap.lost)} | ${f(swap.closed)} | ${f(swap.p50Ms, 1)} | ${f(swap.p99Ms, 1)} | ${f(swap.swapP50Ms)} | ${f(swap.swapP99Ms)} | ${f(swap.swapMaxMs)} |`, '');
  }
  const channels = results.filter((r): r is ChannelsCase => r.case === 'channels');
  if (channels.length) {
    lines.push('## Channels (fanout in process, 256-byte messages)', '',
      'bench/channels.ts: the same clients on one channel, or spread over 100 channels (each client filters by topic). CPU = process user+system time ÷ messages delivered.', '',
      '| clients | messages | CPU µs/delivered, 1 channel | CPU µs/delivered, 100 channels | ratio |', '| ---: | ---: | ---: | ---: | ---: |');
    for (const c of channels) lines.push(`| ${f(c.clients)} | ${f(c.messages)} | ${f(c.oneChannelMicrosPerDelivered, 2)} | ${f(c.hundredChannelsMicrosPerDelivered, 2)} | ${f(c.ratio, 2)} |`);
    lines.push('');
  }
  lines.push(...idleMarkdown(results.filter((r): r is IdleCase => r.case === 'idle')));
  lines.push(...saturationMarkdown(results.filter((r): r is SaturationCase => r.case === 'saturation'), results.filter((r): r is UpstreamCase => r.case === 'upstream')));
  const compile = results.filter((r): r is CompileCase => r.case === 'compile');
  if (compile.length) {
    lines.push('## Compile', '', '| APIs | files | median ms | best ms | target ms |', '| ---: | ---: | ---: | ---: | ---: |');
    for (const c of compile) lines.push(`| ${f(c.apis)} | ${f(c.files)} | ${f(c.medianMs)} | ${f(c.bestMs)} | < ${f(c.targetMs)} |`);
    lines.push('');
  }
  lines.push('## Targets', '', '| target | measured | met |', '| --- | ---: | --- |');
  for (const t of targets(results)) lines.push(`| ${t.name} | ${t.measured} | ${t.met === undefined ? 'not measured' : t.met ? 'yes' : '**no**'} |`);
  if (notes.length) lines.push('', '## Notes', '', ...notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}
