/** What each benchmark section records (one type per case, read by report.ts). */
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
