/** The idle-memory table of the benchmark report (bench/idle.ts) and the rows the RSS target reads. */
import type { IdleCase, Kind } from './cases.ts';

const kb = (bytes: number): string => (Number.isFinite(bytes) ? (bytes / 1024).toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 }) : '–');

/** The idle row of one server and entrypoint, if measured. */
export function idleRow(idle: readonly IdleCase[], impl: IdleCase['impl'], upstream: IdleCase['upstream'], kind: Kind): IdleCase | undefined {
  return idle.find((r) => r.impl === impl && r.upstream === upstream && r.entrypoint === kind);
}

export function idleMarkdown(idle: readonly IdleCase[]): string[] {
  if (!idle.length) return [];
  const lines = ['## Memory per idle subscriber', '',
    `bench/idle.ts: a fresh server per row, one subscriber first (what is made once per API is in the baseline), then N idle subscribers (raw-socket counters in two client processes); RSS growth ÷ N, both readings after a full GC (Node servers). N = ${idle[0]!.clients.toLocaleString('en-US')}: at 1,000 (the fan-out table's column) the reading moves by about ±2 KB per client between runs.`, '',
    '| entrypoint | relay (mqtt) KB | Sluice mqtt KB | Sluice kafka KB | nchan KB |', '| --- | ---: | ---: | ---: | ---: |'];
  for (const kind of ['websocket', 'sse'] as const) {
    const at = (impl: IdleCase['impl'], upstream: IdleCase['upstream']) => kb(idleRow(idle, impl, upstream, kind)?.rssPerClientBytes ?? Number.NaN);
    lines.push(`| ${kind} | ${at('relay', 'mqtt')} | ${at('sluice', 'mqtt')} | ${at('sluice', 'kafka')} | ${at('nchan', 'http')} |`);
  }
  lines.push('');
  return lines;
}
