/**
 * Events the runtime emits for observers (metrics, tests). Listeners run synchronously on the
 * hot path: they must be cheap and must not throw (a throwing listener is removed and logged).
 * No listener: each emit is one array length check.
 */
import { log } from '../log.ts';
import { noPolicyCounters, type PolicyCounters } from '../../core/policies/counters.ts';

let countersFactory: (apiId: string) => PolicyCounters = () => noPolicyCounters;

/** Where an API's policy outcomes are counted; the metrics module installs its factory with `setPolicyCounters`. */
export function policyCountersFor(apiId: string): PolicyCounters {
  return countersFactory(apiId);
}

export function setPolicyCounters(factory: (apiId: string) => PolicyCounters): void {
  countersFactory = factory;
}

/**
 * What one connection (or one background consumer) counts as traffic flows. Runs on the
 * per-message path: every method is a few additions on pre-bound cells, never a label lookup,
 * and never throws.
 */
export interface Tally {
  /** One message received from a client (publish), `bytes` of content. */
  received(bytes: number): void;
  /** One message handed to a client (subscribe), `bytes` of content. */
  delivered(bytes: number): void;
  /** Messages a client did not get: filtered by a policy, or lost to the slow-consumer policy. */
  dropped(reason: 'policy' | 'slow-consumer', count: number): void;
  /** An error answered to, or ending the stream of, a client (a GatewayError or anything thrown). */
  failed(error: unknown): void;
}

/** The traffic of one API through one entrypoint; the metrics module binds its label values once. */
export interface TrafficMeter extends Tally {
  opened(): void;
  closed(): void;
}

const noop = (): void => undefined;
/** Counts nothing (no metrics module installed). */
export const noTrafficMeter: TrafficMeter = { opened: noop, closed: noop, received: noop, delivered: noop, dropped: noop, failed: noop };

let meterFactory: (apiId: string, entrypoint: string) => TrafficMeter = () => noTrafficMeter;

/** The meter of one API and entrypoint (cached by the factory: call it once per connection, not per message). */
export function trafficMeterFor(apiId: string, entrypoint: string): TrafficMeter {
  return meterFactory(apiId, entrypoint);
}

export function setTrafficMeters(factory: (apiId: string, entrypoint: string) => TrafficMeter): void {
  meterFactory = factory;
}

export type TelemetryEvent =
  /** One request or connection ended (the same fields as its log line). */
  | { kind: 'request'; api: string | null; entrypoint: string | null; plan: string | null; status: number; durationMs: number; messages: number; code?: string }
  /** A message passed the exchange (after flows). */
  | { kind: 'message'; api: string; direction: 'publish' | 'subscribe' }
  /** Messages dropped: by a policy, or by the slow-consumer policy (drop-oldest). */
  | { kind: 'dropped'; api: string; reason: 'policy' | 'slow-consumer'; count: number }
  /** A slow client was disconnected. */
  | { kind: 'slow-consumer'; api: string; entrypoint: string }
  /** A connection opened (+1) or closed (-1). */
  | { kind: 'connection'; api: string; entrypoint: string; delta: 1 | -1 }
  /** A bundle was deployed. */
  | { kind: 'deploy'; bundleId: string; changed: string[]; kept: string[]; removed: string[]; added: string[]; durationMs?: number }
  /** Kafka lag of an API's shared consumer after a fetched batch (records not yet passed on); undefined: it stopped. */
  | { kind: 'consumer-lag'; api: string; topic: string; partition: number; lag: number | undefined }
  /** A Kafka record batch that could not be decoded was skipped (KAFKA_BATCH_UNDECODABLE). */
  | { kind: 'kafka-batch-skipped'; api: string; topic: string; partition: number; reason: 'undecodable' }
  /**
   * A bundle failed to load or build, or a source refused it (code BUNDLE_UNSIGNED,
   * BUNDLE_SIGNATURE_INVALID; none: BUNDLE_INVALID); the last good one keeps serving.
   */
  | { kind: 'deploy-failed'; reason: string; code?: string };

export type TelemetryListener = (event: TelemetryEvent) => void;

const listeners: TelemetryListener[] = [];

/** Adds a listener; returns its removal. */
export function onTelemetry(listener: TelemetryListener): () => void {
  listeners.push(listener);
  return () => {
    const i = listeners.indexOf(listener);
    if (i !== -1) listeners.splice(i, 1);
  };
}

export function emit(event: TelemetryEvent): void {
  if (listeners.length === 0) return;
  for (const listener of [...listeners]) {
    try {
      listener(event);
    } catch (error) {
      log.error({ err: error }, 'telemetry listener threw; removed');
      const i = listeners.indexOf(listener);
      if (i !== -1) listeners.splice(i, 1);
    }
  }
}
