/**
 * Memory per idle subscriber (`npm run bench -- --only idle`): the bare relay, Sluice and nginx +
 * nchan, each a fresh process per row, with N = 4,000 idle subscribers (raw-socket counters in two
 * client processes, bench/counters.ts). One subscriber connects first, so that what is made once per
 * API (the upstream subscription, the fanout) is in the baseline; then RSS growth ÷ N, both readings
 * after a full GC (the Node servers; nginx has no collector).
 *
 * Why not the fan-out table's N = 1,000: there the reading moves by about ±2 KB per client between
 * runs of the same build (V8 grows its heap in 256 KB pages, and how much of the young generation is
 * still resident after the connection burst varies); 4,000 subscribers divide that by four. The RSS
 * target reads these rows.
 */
import { join } from 'node:path';
import type { BenchContext } from './context.ts';
import type { IdleCase, Kind } from './cases.ts';
import { bundle, streamApi, writeBundle } from './bundles.ts';
import { ClientProcess, startRelay, startSluice, type ServerProcess } from './processes.ts';
import { startNchan } from './nchan.ts';
import { closeAll, connect } from './drive.ts';
import type { Broker } from './publisher.ts';

/** Idle subscribers per row. */
export const IDLE_CLIENTS = 4000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface IdleRow {
  readonly impl: IdleCase['impl'];
  readonly upstream: IdleCase['upstream'];
  start(): Promise<ServerProcess>;
  /** The subscribe URL on a started server. */
  url(server: ServerProcess, kind: Kind): string;
}

async function idleRow(ctx: BenchContext, clients: readonly ClientProcess[], row: IdleRow, kind: Kind, n: number): Promise<IdleCase> {
  const server = await ctx.serverOf(() => row.start());
  try {
    const url = row.url(server, kind);
    await connect(clients.slice(0, 1), kind, url, 1);
    await sleep(500);
    await server.gc();
    const before = server.rssBytes();
    await connect(clients, kind, url, n);
    await sleep(1000);
    await server.gc();
    return { case: 'idle', impl: row.impl, upstream: row.upstream, entrypoint: kind, clients: n, rssPerClientBytes: (server.rssBytes() - before) / n };
  } finally {
    await closeAll(clients);
    await ctx.stopServer(server);
  }
}

export async function idleSection(ctx: BenchContext): Promise<void> {
  const topics = { sluice: 'bench-idle-sluice', relay: 'bench-idle-relay' };
  await ctx.createTopics(ctx.brokers, Object.values(topics));
  const file = join(ctx.work, 'idle.json');
  writeBundle(file, bundle([streamApi('idle-mqtt', ctx.brokers, 'mqtt', topics.sluice), streamApi('idle-kafka', ctx.brokers, 'kafka', topics.sluice)]));
  const on = (server: ServerProcess, kind: Kind, path: string) => `${kind === 'websocket' ? server.url.replace(/^http/, 'ws') : server.url}${path}`;
  const sluice = (upstream: Broker): IdleRow => ({ impl: 'sluice', upstream, start: () => startSluice(file), url: (server, kind) => on(server, kind, `/idle-${upstream}/`) });
  const rows: IdleRow[] = [
    { impl: 'relay', upstream: 'mqtt', start: () => startRelay({ mqtt: ctx.brokers.mqtt }, topics.relay), url: (server, kind) => on(server, kind, '/') },
    sluice('mqtt'),
    sluice('kafka'),
    { impl: 'nchan', upstream: 'http', start: startNchan, url: (server, kind) => on(server, kind, '/sub') },
  ];
  const clients = [ctx.clients, new ClientProcess()];
  const n = ctx.quick ? 1000 : IDLE_CLIENTS;
  try {
    for (const kind of ['websocket', 'sse'] as Kind[]) {
      for (const row of rows) {
        if (!ctx.timeLeft(30_000)) {
          ctx.notes.push(`idle ${kind} ${row.impl} ${row.upstream} skipped: the run reached its time budget`);
          continue;
        }
        ctx.progress(`idle ${kind} N=${n} ${row.impl} ${row.upstream}`);
        try {
          ctx.record(await idleRow(ctx, clients, row, kind, n));
        } catch (error) {
          ctx.notes.push(`idle ${kind} ${row.impl} ${row.upstream} failed: ${(error as Error).message.split('\n')[0]}`);
          ctx.progress(`  failed: ${(error as Error).message}`);
        }
      }
    }
  } finally {
    await clients[1]!.stop();
  }
}
