/**
 * The saturation profile's part of bench/results/latest.md: per N and entrypoint, Sluice, the
 * relay and nchan side by side (delivered/s, CPU per delivered message, messages per second per
 * core, what limited the row, ratios), the upstream table, and the targets against nchan.
 */
import type { Kind, SaturationCase, Target, UpstreamCase } from './cases.ts';

const f = (value: number, digits = 0): string => (Number.isFinite(value) ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–');
const perCore = (r: SaturationCase) => 1e6 / r.cpuMicrosPerMessage;

function find(rows: readonly SaturationCase[], impl: SaturationCase['impl'], upstream: SaturationCase['upstream'], kind: Kind, n: number): SaturationCase | undefined {
  return rows.find((r) => r.impl === impl && r.upstream === upstream && r.entrypoint === kind && r.clients === n);
}

export function saturationMarkdown(saturation: readonly SaturationCase[], upstream: readonly UpstreamCase[]): string[] {
  const lines: string[] = [];
  if (saturation.length) {
    lines.push('## Saturation (256-byte messages, as fast as the path delivers)', '',
      'bench/saturation.ts: the publisher stays at most 128 messages per client ahead of what the clients counted and refills in bursts (MQTT QoS 0 back to back, one Kafka produce request, pipelined HTTP POSTs into nchan), so the path stays full with bounded queues. nchan = nginx 1.22 + Debian\'s nchan module, one worker, HTTP publish (`nchan_publisher`), `nchan_subscriber websocket eventsource`. Clients count frames on raw sockets (no parsing), split over two client processes. CPU = server user+system time (/proc; nginx master + worker) over a window (3 s by default) after 1 s of filling ÷ messages delivered; msg/s per core = 10⁶ ÷ CPU µs per message. Cores = CPU time ÷ wall time (server; busiest client process); machine = all CPUs busy. "Limited by" names what ran out first: server CPU ≥ 0.85 core, else client CPU ≥ 0.85 core, else the machine ≥ 90% busy, else the upstream. CPU ÷ nchan and ÷ relay compare CPU per delivered message (below 1 = cheaper).', '',
      '| entrypoint | N | server | upstream | delivered msg/s | CPU µs/msg | msg/s per core | server cores | client cores | machine busy | limited by | **CPU ÷ nchan** | **CPU ÷ relay** |',
      '| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |');
    const sizes = [...new Set(saturation.map((r) => r.clients))].sort((a, b) => a - b);
    for (const kind of ['websocket', 'sse'] as const) {
      for (const n of sizes) {
        const nchan = find(saturation, 'nchan', 'http', kind, n);
        for (const r of saturation.filter((x) => x.entrypoint === kind && x.clients === n)) {
          const relay = r.impl === 'sluice' ? find(saturation, 'relay', r.upstream, kind, n) : undefined;
          const vsNchan = r.impl !== 'nchan' && nchan ? f(r.cpuMicrosPerMessage / nchan.cpuMicrosPerMessage, 2) : '–';
          const vsRelay = relay ? f(r.cpuMicrosPerMessage / relay.cpuMicrosPerMessage, 2) : '–';
          lines.push(`| ${kind} | ${f(n)} | ${r.impl} | ${r.upstream} | ${f(r.deliveredPerSecond)} | ${f(r.cpuMicrosPerMessage, 2)} | ${f(perCore(r))} | ${f(r.serverCores, 2)} | ${f(r.clientCores, 2)} | ${f(r.machineBusy * 100)}% | ${r.limitedBy} | **${vsNchan}** | **${vsRelay}** |`);
        }
      }
    }
    const rss = saturation.filter((r) => r.impl === 'nchan' && Number.isFinite(r.rssPerClientBytes));
    if (rss.length) lines.push('', `nchan RSS per idle subscriber (nginx master + worker RSS growth ÷ N, a fresh nginx per row): ${rss.map((r) => `${r.entrypoint} N=${f(r.clients)} ${f(r.rssPerClientBytes / 1024, 1)} KB`).join(', ')}.`);
    lines.push('');
  }
  if (upstream.length) {
    lines.push('## Upstream cost at saturation (one subscriber)', '',
      'Ingesting as fast as the broker delivers with one WebSocket subscriber (Sluice starts its shared upstream subscription only while someone subscribes): server CPU ÷ messages. Kafka batch = messages per fetch batch seen by the kafkajs consumer (START_BATCH_PROCESS batchSize) over the measured window: the relay\'s `/bench-stats`; Sluice\'s `sluice_kafka_fetch_batch_messages` histogram (sum ÷ count) on its admin `/metrics`.', '',
      '| server | broker | messages/s | CPU µs per upstream message | Kafka messages per fetch batch |', '| --- | --- | ---: | ---: | ---: |');
    for (const r of upstream) lines.push(`| ${r.impl} | ${r.broker} | ${f(r.perSecond)} | ${f(r.cpuMicrosPerMessage, 2)} | ${f(r.kafkaBatch, 1)} |`);
    lines.push('');
  }
  return lines;
}

export function saturationTargets(saturation: readonly SaturationCase[]): Target[] {
  const out: Target[] = [];
  for (const kind of ['websocket', 'sse'] as const) {
    const nchan = find(saturation, 'nchan', 'http', kind, 1000);
    for (const upstream of ['mqtt', 'kafka'] as const) {
      const sluice = find(saturation, 'sluice', upstream, kind, 1000);
      const cpu = sluice && nchan ? sluice.cpuMicrosPerMessage / nchan.cpuMicrosPerMessage : Number.NaN;
      out.push({
        name: `Sluice CPU per delivered message ≤ 1.0 × nchan (${kind}, 1,000 clients, saturation, ${upstream} upstream)`,
        measured: Number.isFinite(cpu) ? `${f(cpu, 2)} (${f(sluice!.cpuMicrosPerMessage, 2)} / ${f(nchan!.cpuMicrosPerMessage, 2)} µs)` : '–',
        met: Number.isFinite(cpu) ? cpu <= 1.0 : undefined,
      });
    }
  }
  return out;
}

/** nchan's RSS per idle subscriber for an entrypoint (the largest N measured), for the RSS target's comparison. */
export function nchanRss(saturation: readonly SaturationCase[], kind: Kind): number {
  const rows = saturation.filter((r) => r.impl === 'nchan' && r.entrypoint === kind && Number.isFinite(r.rssPerClientBytes)).sort((a, b) => b.clients - a.clients);
  return rows[0]?.rssPerClientBytes ?? Number.NaN;
}
