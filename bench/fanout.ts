/**
 * Fan-out: N WebSocket or SSE clients (in the client process) receive 256-byte messages
 * published to MQTT, Kafka or NATS (core subject), through Sluice and through the bare relay. One case:
 *
 *   full GC, RSS -> connect N -> settle, full GC, RSS: growth per idle client -> warm up (publish until every client got one) ->
 *   window: publish `rate * seconds` messages at `rate`/s -> wait until all arrived (bounded) ->
 *   delivered/s, lost, latency p50/p99, server CPU per delivered message.
 *
 * The offered rate shrinks as N grows so every case offers about the same deliveries per second.
 * Each N gets a fresh Sluice and a fresh relay (so RSS growth is measured from a cold idle
 * process); the relay case runs first, then Sluice, with separate topics.
 */
import { join } from 'node:path';
import type { BenchContext } from './context.ts';
import type { FanoutCase, Kind } from './cases.ts';
import { bundle, streamApi, writeBundle } from './bundles.ts';
import { startRelay, startSluice, type ClientProcess, type ServerProcess } from './processes.ts';
import type { Broker, Publisher } from './publisher.ts';

export type { Kind } from './cases.ts';

export interface FanoutPlan {
  readonly server: ServerProcess;
  readonly impl: 'sluice' | 'relay';
  readonly broker: Broker;
  readonly topic: string;
  readonly kind: Kind;
  /** Where clients connect (path included). */
  readonly url: string;
  readonly clients: number;
  readonly rate: number;
  readonly seconds: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a case publishes with: the run's Publisher, or another broker's client sharing its sequence numbers (bench/rabbitmq-fanout.ts). */
export type CasePublisher = Pick<Publisher, 'seq' | 'paced'>;

export async function fanoutCase(plan: FanoutPlan, clients: ClientProcess, publisher: CasePublisher): Promise<FanoutCase> {
  const { server, broker, topic, rate } = plan;
  await sleep(500);
  await server.gc();
  const rssBefore = server.rssBytes();
  try {
    await clients.request({ cmd: 'subscribe', kind: plan.kind, url: plan.url, count: plan.clients }, 120_000);
    await sleep(1000);
    await server.gc();
    const rssPerClientBytes = (server.rssBytes() - rssBefore) / plan.clients;

    // Warm up: publish until every client has received a message (the upstream subscription is live).
    const warmFrom = publisher.seq;
    const warmDeadline = Date.now() + 45_000;
    for (;;) {
      await publisher.paced(broker, topic, rate, Math.max(1, Math.round(rate / 10)));
      const { seen } = await clients.request({ cmd: 'seen', seq: warmFrom });
      if (seen === plan.clients) break;
      if (Date.now() > warmDeadline) throw new Error(`warm-up: only ${seen} of ${plan.clients} clients receive messages`);
    }
    await sleep(300);

    const count = Math.round(rate * plan.seconds);
    const lo = publisher.seq;
    await clients.request({ cmd: 'window', lo, hi: lo + count - 1 });
    const cpu0 = server.cpuMicros();
    const t0 = performance.now();
    await publisher.paced(broker, topic, rate, count);
    const expected = count * plan.clients;
    const tailDeadline = performance.now() + 3000;
    let stats = await clients.request({ cmd: 'stats' });
    while (stats.delivered < expected && performance.now() < tailDeadline) {
      await sleep(50);
      stats = await clients.request({ cmd: 'stats' });
    }
    const t1 = performance.now();
    const cpu = server.cpuMicros() - cpu0;
    return {
      case: 'fanout', impl: plan.impl, broker, entrypoint: plan.kind, clients: plan.clients,
      offeredPerSecond: rate,
      published: count,
      delivered: stats.delivered,
      lost: stats.lost,
      closed: stats.closed,
      deliveredPerSecond: stats.delivered / ((t1 - t0) / 1000),
      p50Ms: stats.p50 / 1000,
      p99Ms: stats.p99 / 1000,
      cpuMicrosPerMessage: stats.delivered > 0 ? cpu / stats.delivered : Number.NaN,
      rssPerClientBytes,
    };
  } finally {
    await clients.request({ cmd: 'close' }, 30_000);
    await sleep(500);
  }
}

/** Offered messages per second for N clients: 500 for one client, 20 per client for 1,000. */
const RATE: Record<number, number> = { 1: 500, 100: 100, 1000: 20 };

export async function fanoutSection(ctx: BenchContext): Promise<void> {
  for (const broker of ['mqtt', 'kafka', ...(ctx.brokers.nats ? ['nats' as const] : [])] as const) {
    for (const kind of ['websocket', 'sse'] as Kind[]) {
      const tag = `${broker}-${kind}`;
      if (ctx.cases && !ctx.cases.includes(tag)) continue;
      const topics = { sluice: `bench-fanout-sluice-${tag}`, relay: `bench-fanout-relay-${tag}` };
      if (broker === 'kafka') await ctx.createTopics(ctx.brokers, Object.values(topics));
      const file = join(ctx.work, `fanout-${tag}.json`);
      writeBundle(file, bundle([streamApi('stream', ctx.brokers, broker, topics.sluice)]));
      await fanoutRows(ctx, { broker, kind, topics, bundleFile: file, relay: () => startRelay(broker === 'nats' ? { nats: ctx.brokers.nats! } : broker === 'mqtt' ? { mqtt: ctx.brokers.mqtt } : { kafka: ctx.brokers.kafka }, topics.relay), publisher: ctx.publisher });
    }
  }
}

export interface FanoutRows {
  readonly broker: Broker;
  readonly kind: Kind;
  /** Separate topics (exchanges) for the relay and Sluice. */
  readonly topics: { readonly sluice: string; readonly relay: string };
  /** Sluice's bundle: an API `stream` over `topics.sluice`. */
  readonly bundleFile: string;
  /** Starts the bare relay on `topics.relay`. */
  relay(): Promise<ServerProcess>;
  readonly publisher: CasePublisher;
}

/** One broker-entrypoint pair: per client count a fresh relay and Sluice, the relay measured first. */
export async function fanoutRows(ctx: BenchContext, rows: FanoutRows): Promise<void> {
  const { broker, kind, topics } = rows;
  const tag = `${broker}-${kind}`;
  for (const n of ctx.sizes) {
    if (!ctx.timeLeft(n >= 1000 ? 60_000 : 30_000)) {
      ctx.notes.push(`fanout ${tag} N=${n} skipped: the run reached its time budget`);
      continue;
    }
    const [relay, sluice] = await Promise.all([ctx.serverOf(rows.relay), ctx.serverOf(() => startSluice(rows.bundleFile))]);
    try {
      for (const [impl, server, path] of [['relay', relay, '/'], ['sluice', sluice, '/stream/']] as const) {
        ctx.progress(`fanout ${broker} ${kind} N=${n} ${impl}`);
        const url = `${kind === 'websocket' ? server.url.replace(/^http/, 'ws') : server.url}${path}`;
        try {
          // The 1,000-client cases decide the targets: a longer window evens out a shared machine's noise.
          const window = n >= 1000 && !ctx.quick ? ctx.seconds * 2 : ctx.seconds;
          ctx.record(await fanoutCase({ server, impl, broker, topic: topics[impl], kind, url, clients: n, rate: RATE[n] ?? Math.max(1, Math.round(20_000 / n)), seconds: window }, ctx.clients, rows.publisher));
        } catch (error) {
          ctx.notes.push(`fanout ${tag} ${impl} N=${n} failed: ${(error as Error).message.split('\n')[0]}`);
          ctx.progress(`  failed: ${(error as Error).message}`);
        }
      }
    } finally {
      await Promise.all([ctx.stopServer(relay), ctx.stopServer(sluice)]);
    }
  }
}
