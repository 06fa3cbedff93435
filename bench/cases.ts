/** What each benchmark section records (one type per case, read by report.ts), and the targets the report checks. */
import type { Broker } from './publisher.ts';

export type Kind = 'websocket' | 'sse';

export interface FanoutCase {
  readonly case: 'fanout';
  readonly impl: 'sluice' | 'relay';
  readonly broker: Broker;
  readonly entrypoint: Kind;
  readonly clients: number;
  readonly offeredPerSecond: number;
  readonly published: number;
  readonly delivered: number;
  readonly lost: number;
  readonly closed: number;
  readonly deliveredPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuMicrosPerMessage: number;
  readonly rssPerClientBytes: number;
}

export interface PublishCase {
  readonly case: 'publish';
  readonly impl: 'kafkajs' | 'sluice-http-post' | 'sluice-websocket';
  readonly concurrency: number;
  readonly seconds: number;
  readonly requests: number;
  readonly perSecond: number;
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly latency: 'ack' | 'end-to-end';
}

export interface TracingCase {
  readonly case: 'tracing';
  /** OTEL_EXPORTER_OTLP_ENDPOINT unset, or set to a local OTLP/HTTP sink. */
  readonly otel: 'unset' | 'set';
  readonly round: number;
  readonly concurrency: number;
  readonly seconds: number;
  readonly requests: number;
  readonly perSecond: number;
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Server CPU (user + system) per request over the window. */
  readonly cpuMicrosPerRequest: number;
  /** OTLP bytes the sink received during the window (0 when unset). */
  readonly exportedBytes: number;
}

export interface SwapCase {
  readonly case: 'swap';
  readonly clients: number;
  readonly seconds: number;
  readonly swaps: number;
  /** Every swap kept the unchanged API's exchange (its connections were never touched). */
  readonly unchangedKept: boolean;
  readonly published: number;
  readonly delivered: number;
  readonly lost: number;
  readonly closed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly swapP50Ms: number;
  readonly swapP99Ms: number;
  readonly swapMaxMs: number;
}

export interface CompileCase {
  readonly case: 'compile';
  readonly apis: number;
  readonly files: number;
  readonly medianMs: number;
  readonly bestMs: number;
  readonly targetMs: number;
  readonly met: boolean;
}

/** bench/channels.ts: in-process fanout CPU per delivered message, 1,000 clients over 100 channels vs one. */
export interface ChannelsCase {
  readonly case: 'channels';
  readonly clients: number;
  readonly messages: number;
  readonly oneChannelMicrosPerDelivered: number;
  readonly hundredChannelsMicrosPerDelivered: number;
  readonly ratio: number;
}

/** bench/idle.ts: memory per idle subscriber, N idle subscribers on a fresh server. */
export interface IdleCase {
  readonly case: 'idle';
  readonly impl: 'sluice' | 'relay' | 'nchan';
  readonly upstream: Broker | 'http';
  readonly entrypoint: Kind;
  readonly clients: number;
  /** RSS growth ÷ clients, both readings after a full GC (Node servers). */
  readonly rssPerClientBytes: number;
}

/** bench/saturation.ts: a server delivering as fast as the path allows (open loop bounded by a window). */
export interface SaturationCase {
  readonly case: 'saturation';
  readonly impl: 'sluice' | 'relay' | 'nchan';
  /** What the publisher writes to: a broker (Sluice, relay) or nchan's HTTP publisher location. */
  readonly upstream: Broker | 'http';
  readonly entrypoint: Kind;
  readonly clients: number;
  readonly seconds: number;
  /** Messages published during the window (each delivered to `clients`). */
  readonly published: number;
  readonly delivered: number;
  readonly deliveredPerSecond: number;
  /** Server CPU (user + system, master + worker for nginx) ÷ messages delivered in the window. */
  readonly cpuMicrosPerMessage: number;
  /** Server CPU ÷ wall time (1 = one core busy). */
  readonly serverCores: number;
  /** The busiest client process's CPU ÷ wall time. */
  readonly clientCores: number;
  /** All CPUs' busy share over the window (0..1, /proc/stat). */
  readonly machineBusy: number;
  readonly limitedBy: string;
  /** nchan only (a fresh nginx per row): RSS growth ÷ N with N idle subscribers. */
  readonly rssPerClientBytes: number;
  readonly closed: number;
}

/** bench/saturation.ts: what ingesting costs with one subscriber (the shared upstream runs only while someone subscribes). */
export interface UpstreamCase {
  readonly case: 'upstream';
  readonly impl: 'sluice' | 'relay';
  readonly broker: Broker;
  readonly messages: number;
  readonly perSecond: number;
  readonly cpuMicrosPerMessage: number;
  /** Mean messages per Kafka fetch batch (kafkajs START_BATCH_PROCESS); NaN where not observable. */
  readonly kafkaBatch: number;
}

/** One line of the report's targets table. */
export interface Target {
  readonly name: string;
  readonly measured: string;
  /** undefined: not measured in this run. */
  readonly met: boolean | undefined;
}
