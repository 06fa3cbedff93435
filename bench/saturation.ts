/**
 * Saturation: Sluice, the bare relay and nginx + nchan delivering 256-byte messages to N = 100 and
 * 1,000 WebSocket and SSE clients as fast as the path allows (bench/drive.ts: an open loop at most
 * WINDOW messages per client ahead of what the clients counted). Upstream: MQTT QoS 0 and Kafka
 * (acks 1, produce requests of up to WINDOW messages) for Sluice and the relay, pipelined HTTP
 * POSTs for nchan. Clients are bench/counters.ts (raw sockets counting frames, no decoding), split
 * over two client processes. Per N: one Sluice (an MQTT and a Kafka API), one relay per broker, a
 * fresh nginx per row (its RSS per idle subscriber is measured on it).
 *
 * Then the upstream side: Sluice and the relay ingesting at saturation with one subscriber (CPU per
 * upstream message) and the Kafka fetch batch size (messages per batch): the relay's `/bench-stats`,
 * Sluice's `sluice_kafka_fetch_batch_messages` histogram (sum and count) on its admin `/metrics`.
 */
import { join } from 'node:path';
import type { BenchContext } from './context.ts';
import type { Kind, SaturationCase, UpstreamCase } from './cases.ts';
import { bundle, streamApi, writeBundle } from './bundles.ts';
import { ClientProcess, startRelay, startSluice, type ServerProcess } from './processes.ts';
import { startNchan } from './nchan.ts';
import { closeAll, connect, counted, drive } from './drive.ts';
import type { Broker } from './publisher.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Messages per client the publisher may be ahead of the clients (fan-out rows). */
const WINDOW = 128;
/** The same for the upstream rows (one client): enough for whole Kafka fetches, under Sluice's default queueSize (1,000). */
const UPSTREAM_WINDOW = 400;

interface Row {
  readonly impl: SaturationCase['impl'];
  readonly upstream: SaturationCase['upstream'];
  readonly server: ServerProcess;
  /** http://host:port/path */
  readonly url: string;
  /** Sluice's API id (its fetch batch histogram's `api` label). */
  readonly api?: string;
  publish(count: number): Promise<void>;
}

function limitedBy(serverCores: number, clientCores: number, machineBusy: number): string {
  if (serverCores >= 0.85) return 'server CPU';
  if (clientCores >= 0.85) return 'client CPU';
  if (machineBusy >= 0.9) return 'machine CPU (2 cores: server, clients, broker)';
  return 'upstream (publish path)';
}

/** Publishes small bursts until every subscriber has counted a message (the upstream subscription is live). */
async function warmUp(row: Row, clients: readonly ClientProcess[], n: number): Promise<void> {
  await counted(clients, true);
  const deadline = Date.now() + 30_000;
  for (;;) {
    await row.publish(1);
    await sleep(100);
    const { receiving } = await counted(clients);
    if (receiving === n) return;
    if (Date.now() > deadline) throw new Error(`warm-up: only ${receiving} of ${n} subscribers receive messages`);
  }
}

async function saturationRow(ctx: BenchContext, clients: readonly ClientProcess[], row: Row, kind: Kind, n: number, measureRss: boolean): Promise<SaturationCase> {
  const url = kind === 'websocket' ? row.url.replace(/^http/, 'ws') : row.url;
  await sleep(200);
  const rssBefore = row.server.rssBytes();
  try {
    await connect(clients, kind, url, n);
    await sleep(measureRss ? 1000 : 200);
    const rssPerClientBytes = measureRss ? (row.server.rssBytes() - rssBefore) / n : Number.NaN;
    await warmUp(row, clients, n);
    const seconds = ctx.seconds * 0.75; // 3 s by default: 20 rows fit in about 4 minutes
    const d = await drive({ server: row.server, clients, subscribers: n, publish: row.publish, window: WINDOW, steadyMs: 1000, windowMs: seconds * 1000 });
    const serverCores = d.serverMicros / 1e6 / d.seconds;
    return {
      case: 'saturation', impl: row.impl, upstream: row.upstream, entrypoint: kind, clients: n, seconds: d.seconds,
      published: d.published, delivered: d.delivered, deliveredPerSecond: d.delivered / d.seconds,
      cpuMicrosPerMessage: d.delivered > 0 ? d.serverMicros / d.delivered : Number.NaN,
      serverCores, clientCores: d.clientCores, machineBusy: d.machineBusy, limitedBy: limitedBy(serverCores, d.clientCores, d.machineBusy),
      rssPerClientBytes, closed: d.closed,
    };
  } finally {
    await closeAll(clients);
  }
}

interface FetchStats {
  readonly batches: number;
  readonly messages: number;
}

/** Kafka fetch batches so far: the relay's `/bench-stats`, or Sluice's fetch batch histogram (count, sum) on its admin `/metrics`. */
async function fetchStats(row: Row): Promise<FetchStats> {
  if (row.impl === 'relay') return (await fetch(`${row.server.url}/bench-stats`)).json() as Promise<FetchStats>;
  const text = await (await fetch(`${row.server.adminUrl}/metrics`)).text();
  const sample = (suffix: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`sluice_kafka_fetch_batch_messages_${suffix}{`) && l.includes(`api="${row.api}"`));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  };
  return { batches: sample('count'), messages: sample('sum') };
}

async function upstreamRow(ctx: BenchContext, clients: readonly ClientProcess[], row: Row, broker: Broker): Promise<UpstreamCase> {
  const stats = () => fetchStats(row);
  try {
    await connect(clients.slice(0, 1), 'websocket', row.url.replace(/^http/, 'ws'), 1);
    await warmUp(row, clients.slice(0, 1), 1);
    const before = broker === 'kafka' && (row.impl === 'relay' || row.server.adminUrl) ? await stats() : undefined;
    const d = await drive({ server: row.server, clients: clients.slice(0, 1), subscribers: 1, publish: row.publish, window: UPSTREAM_WINDOW, steadyMs: 500, windowMs: Math.min(ctx.seconds, 3) * 1000 });
    const after = before ? await stats() : undefined;
    return {
      case: 'upstream', impl: row.impl as UpstreamCase['impl'], broker, messages: d.delivered, perSecond: d.delivered / d.seconds,
      cpuMicrosPerMessage: d.delivered > 0 ? d.serverMicros / d.delivered : Number.NaN,
      kafkaBatch: before && after ? (after.messages - before.messages) / Math.max(1, after.batches - before.batches) : Number.NaN,
    };
  } finally {
    await closeAll(clients);
  }
}

export async function saturationSection(ctx: BenchContext): Promise<void> {
  const topics = { sluice: 'bench-saturation-sluice', relay: 'bench-saturation-relay' };
  await ctx.createTopics(ctx.brokers, Object.values(topics));
  const file = join(ctx.work, 'saturation.json');
  writeBundle(file, bundle([streamApi('sat-mqtt', ctx.brokers, 'mqtt', topics.sluice), streamApi('sat-kafka', ctx.brokers, 'kafka', topics.sluice)]));
  const clients = [ctx.clients, new ClientProcess()];
  const sizes = ctx.sizes.filter((n) => n >= 100);
  const fail = (what: string, error: unknown) => {
    ctx.notes.push(`saturation ${what} failed: ${(error as Error).message.split('\n')[0]}`);
    ctx.progress(`  failed: ${(error as Error).message}`);
  };
  try {
    for (const [i, n] of (sizes.length ? sizes : [100, 1000]).entries()) {
      if (!ctx.timeLeft(n >= 1000 ? 150_000 : 90_000)) {
        ctx.notes.push(`saturation N=${n} skipped: the run reached its time budget`);
        continue;
      }
      const [sluice, relayMqtt, relayKafka] = await Promise.all([
        ctx.serverOf(() => startSluice(file)),
        ctx.serverOf(() => startRelay({ mqtt: ctx.brokers.mqtt }, topics.relay)),
        ctx.serverOf(() => startRelay({ kafka: ctx.brokers.kafka }, topics.relay)),
      ]);
      const brokered = (impl: 'sluice' | 'relay', broker: Broker, server: ServerProcess, path: string): Row => ({
        impl, upstream: broker, server, url: `${server.url}${path}`, api: path.replaceAll('/', ''), publish: (count) => ctx.publisher.burst(broker, topics[impl], count),
      });
      const rows = [
        brokered('sluice', 'mqtt', sluice, '/sat-mqtt/'), brokered('relay', 'mqtt', relayMqtt, '/'),
        brokered('sluice', 'kafka', sluice, '/sat-kafka/'), brokered('relay', 'kafka', relayKafka, '/'),
      ];
      try {
        if (i === 0) {
          for (const row of rows) {
            ctx.progress(`upstream ${row.upstream} ${row.impl}, one subscriber`);
            try {
              ctx.record(await upstreamRow(ctx, clients, row, row.upstream as Broker));
            } catch (error) {
              fail(`upstream ${row.upstream} ${row.impl}`, error);
            }
          }
        }
        for (const kind of ['websocket', 'sse'] as Kind[]) {
          for (const row of [...rows, undefined]) {
            ctx.progress(`saturation ${kind} N=${n} ${row ? `${row.impl} ${row.upstream}` : 'nchan http'}`);
            const nchan = row ? undefined : await ctx.serverOf(startNchan).catch((error: Error) => void fail(`${kind} N=${n} nchan`, error));
            if (!row && !nchan) continue;
            try {
              const target = row ?? { impl: 'nchan' as const, upstream: 'http' as const, server: nchan!, url: `${nchan!.url}/sub`, publish: (count: number) => nchan!.publishBurst(ctx.publisher.seq, count).then(() => void (ctx.publisher.seq += count)) };
              ctx.record(await saturationRow(ctx, clients, target, kind, n, !row));
            } catch (error) {
              fail(`${kind} N=${n} ${row ? `${row.impl} ${row.upstream}` : 'nchan'}`, error);
            } finally {
              if (nchan) await ctx.stopServer(nchan);
            }
          }
        }
      } finally {
        await Promise.all([sluice, relayMqtt, relayKafka].map((s) => ctx.stopServer(s)));
      }
    }
  } finally {
    await clients[1]!.stop();
  }
}
