/**
 * Events a gateway emits for observers (its metrics, tests), and the meters its traffic is counted
 * on. Per gateway (a Telemetry on its GatewayState), never per process. Listeners run synchronously
 * on the hot path: they must be cheap and must not throw (a throwing listener is removed and
 * logged). No listener: each emit is one array length check.
 */
import { log } from '../log.ts';
import { noPolicyCounters, type PolicyCounters } from '../../core/policies/counters.ts';

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

/** The traffic of one API through one entrypoint; the gateway's Metrics binds its label values once. */
export interface TrafficMeter extends Tally {
  opened(): void;
  closed(): void;
}

/**
 * Messages one API's subscriptions received from one endpoint (the shared upstream, or a client's
 * own consumer), before any flow. Bound once per subscription; `received` is one addition.
 */
export interface UpstreamMeter {
  received(): void;
}

const noop = (): void => undefined;
/** Counts nothing (no metrics). */
export const noTrafficMeter: TrafficMeter = { opened: noop, closed: noop, received: noop, delivered: noop, dropped: noop, failed: noop };
const noUpstreamMeter: UpstreamMeter = { received: noop };

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
  /** A kafkajs consumer of the API fetched a batch of `messages` records of one partition (START_BATCH_PROCESS). */
  | { kind: 'kafka-fetch-batch'; api: string; messages: number }
  /** A Kafka record batch that could not be decoded was skipped (KAFKA_BATCH_UNDECODABLE). */
  | { kind: 'kafka-batch-skipped'; api: string; topic: string; partition: number; reason: 'undecodable' }
  /**
   * A bundle failed to load or build, or a source refused it (code BUNDLE_UNSIGNED,
   * BUNDLE_SIGNATURE_INVALID; none: BUNDLE_INVALID); the last good one keeps serving.
   */
  | { kind: 'deploy-failed'; reason: string; code?: string };

export type TelemetryListener = (event: TelemetryEvent) => void;

/** Where traffic and policy outcomes are counted (the gateway's Metrics; none: nothing is counted). */
export interface Meters {
  /** The meter of one API and entrypoint (cached: call it once per connection, not per message). */
  trafficMeterFor(apiId: string, entrypoint: string): TrafficMeter;
  /** Where an API's policy outcomes are counted. */
  policyCountersFor(apiId: string): PolicyCounters;
  /** The upstream meter of one API and endpoint type (cached: call it once per subscription, not per message). */
  upstreamMeterFor(apiId: string, endpoint: string): UpstreamMeter;
}

/** Counts nothing. */
export const noMeters: Meters = { trafficMeterFor: () => noTrafficMeter, policyCountersFor: () => noPolicyCounters, upstreamMeterFor: () => noUpstreamMeter };

/**
 * One gateway's telemetry: its listeners and its meters. startGateway makes one per gateway (bound
 * to that gateway's Metrics) and holds it on its GatewayState; everything that emits or meters gets
 * it from there, so two gateways in one process see and count only their own traffic.
 */
export class Telemetry implements Meters {
  readonly #listeners: TelemetryListener[] = [];

  constructor(readonly meters: Meters = noMeters) {}

  /** Adds a listener; returns its removal. */
  on(listener: TelemetryListener): () => void {
    this.#listeners.push(listener);
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i !== -1) this.#listeners.splice(i, 1);
    };
  }

  emit(event: TelemetryEvent): void {
    const listeners = this.#listeners;
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

  trafficMeterFor(apiId: string, entrypoint: string): TrafficMeter {
    return this.meters.trafficMeterFor(apiId, entrypoint);
  }

  policyCountersFor(apiId: string): PolicyCounters {
    return this.meters.policyCountersFor(apiId);
  }

  upstreamMeterFor(apiId: string, endpoint: string): UpstreamMeter {
    return this.meters.upstreamMeterFor(apiId, endpoint);
  }
}
