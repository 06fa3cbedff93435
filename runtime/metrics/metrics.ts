/**
 * Prometheus metrics (prom-client, text format) on the admin port's `/metrics`.
 *
 * Per API and entrypoint (label `entrypoint` is the schema type; `background` for consumers
 * without a client connection such as webhooks, `""` when the request matched no API/entrypoint):
 *   sluice_connections_open (gauge), sluice_connections_total, sluice_messages_total and
 *   sluice_message_bytes_total (direction="publish" client -> broker, "subscribe" broker -> client;
 *   bytes are message content), sluice_errors_total{code}, sluice_auth_failures_total (401),
 *   sluice_rate_limited_total (429), sluice_messages_dropped_total{reason="policy"|"slow-consumer"}.
 * Per API: sluice_policy_outcomes_total{direction,step,policy,outcome}; sluice_fanout_queued_bytes
 *   (bytes held in the fanout's client queues, a message queued for several clients counted once).
 * Per endpoint: sluice_endpoint_up (0/1, read at scrape time), sluice_endpoint_reconnects_total
 *   (unhealthy -> healthy after having been healthy), sluice_kafka_consumer_lag{topic,partition}
 *   (kafkajs END_BATCH_PROCESS offsetLag of the shared consumer plus what it buffered; gone when it stops),
 *   sluice_kafka_batches_skipped_total{topic,partition,reason="undecodable"} (KAFKA_BATCH_UNDECODABLE),
 *   sluice_upstream_messages_total{endpoint} (messages the API's subscriptions received from the
 *   broker, before flows), sluice_kafka_fetch_batch_messages (histogram: records per kafkajs fetch
 *   batch of one partition, START_BATCH_PROCESS batchSize).
 * Per deploy: sluice_bundle_info{bundle_id,tag} 1, sluice_swap_duration_seconds (histogram),
 *   sluice_swaps_total{result="deployed"|"failed",reason} (reason of a failure: BUNDLE_INVALID, or a
 *   source's refusal under --trust-key: BUNDLE_UNSIGNED, BUNDLE_SIGNATURE_INVALID; "" when deployed). Plus prom-client's default process metrics.
 *
 * The message path only bumps pre-bound cells (see metrics/cells.ts): a connection gets its
 * meter once, when it opens. Metrics are per gateway: startGateway makes one Metrics (its own
 * prom-client Registry and families) and the gateway's Telemetry counts on it, so two gateways in
 * one process each show only their own sluice_* series. The process metrics (prom-client's
 * defaults: CPU, memory, event loop) describe the process: collected once and shown by every gateway.
 */
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { RouterSwitch } from '../routing/router.ts';
import type { Exchange } from '../exchange.ts';
import type { AdminRoute, AdminView } from '../http/admin.ts';
import { asGatewayError } from '../entrypoints/entrypoint.ts';
import { Telemetry, type Meters, type TelemetryEvent, type TrafficMeter, type UpstreamMeter } from './telemetry.ts';
import type { PolicyCounters } from '../../core/policies/counters.ts';
import { CellFamily, type Cell } from './cells.ts';

/** prom-client's default metrics describe the process, not a gateway: collected once, merged into every gateway's scrape. */
const processRegistry = new Registry();
collectDefaultMetrics({ register: processRegistry });

const API_EP = ['api', 'entrypoint'] as const;

/** One gateway's metric families, registered on its own Registry. */
function families(registry: Registry) {
  return {
    open: new CellFamily(registry, 'gauge', 'sluice_connections_open', 'Open client connections and requests.', API_EP),
    connections: new CellFamily(registry, 'counter', 'sluice_connections_total', 'Client connections and requests accepted (after authentication and rate limits).', API_EP),
    messages: new CellFamily(registry, 'counter', 'sluice_messages_total', 'Messages received from clients (direction="publish") and handed to clients (direction="subscribe").', [...API_EP, 'direction'] as const),
    bytes: new CellFamily(registry, 'counter', 'sluice_message_bytes_total', 'Message content bytes received from and handed to clients.', [...API_EP, 'direction'] as const),
    errors: new CellFamily(registry, 'counter', 'sluice_errors_total', 'Errors a client was answered or cut with, by stable code.', [...API_EP, 'code'] as const),
    authFailures: new CellFamily(registry, 'counter', 'sluice_auth_failures_total', 'Requests and handshakes refused with 401.', API_EP),
    rateLimited: new CellFamily(registry, 'counter', 'sluice_rate_limited_total', 'Connections and published messages refused with 429 (rate limit or quota).', API_EP),
    dropped: new CellFamily(registry, 'counter', 'sluice_messages_dropped_total', 'Messages a client did not get: filtered by a policy, or lost to the slow-consumer policy.', [...API_EP, 'reason'] as const),
    policy: new CellFamily(registry, 'counter', 'sluice_policy_outcomes_total', 'Policy steps that did not pass a message on unchanged (dropped, refused, not-json, condition-error).', ['api', 'direction', 'step', 'policy', 'outcome'] as const),
    queued: new CellFamily(registry, 'gauge', 'sluice_fanout_queued_bytes', 'Bytes held in the client queues of an API\'s shared subscription; a message queued for several clients counts once.', ['api'] as const),
    endpointUp: new CellFamily(registry, 'gauge', 'sluice_endpoint_up', 'Endpoint health: 1 healthy, 0 not (index: position in the API\'s endpoints).', ['api', 'endpoint', 'index'] as const),
    reconnects: new CellFamily(registry, 'counter', 'sluice_endpoint_reconnects_total', 'Endpoints that became healthy again after having been healthy before.', ['api', 'endpoint', 'index'] as const),
    lag: new CellFamily(registry, 'gauge', 'sluice_kafka_consumer_lag', 'Records behind the partition end after the last batch of the shared Kafka consumer.', ['api', 'topic', 'partition'] as const),
    skipped: new CellFamily(registry, 'counter', 'sluice_kafka_batches_skipped_total', 'Kafka record batches skipped by a consumer because they could not be decoded (KAFKA_BATCH_UNDECODABLE).', ['api', 'topic', 'partition', 'reason'] as const),
    upstream: new CellFamily(registry, 'counter', 'sluice_upstream_messages_total', 'Messages the API\'s subscriptions received from the endpoint (shared upstream and per-client consumers), before flows.', ['api', 'endpoint'] as const),
    fetchBatch: new Histogram({
      name: 'sluice_kafka_fetch_batch_messages',
      help: 'Records per Kafka fetch batch (one partition) handed to the API\'s consumers (kafkajs START_BATCH_PROCESS batchSize).',
      labelNames: ['api'] as const,
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
      registers: [registry],
    }),
    bundle: new CellFamily(registry, 'gauge', 'sluice_bundle_info', 'The bundle served (value 1).', ['bundle_id', 'tag'] as const),
    swaps: new CellFamily(registry, 'counter', 'sluice_swaps_total', 'Bundle deploys: result="deployed" (current flipped) or "failed" (the last good keeps serving; reason: BUNDLE_INVALID, BUNDLE_UNSIGNED, BUNDLE_SIGNATURE_INVALID).', ['result', 'reason'] as const),
    swapDuration: new Histogram({
      name: 'sluice_swap_duration_seconds',
      help: 'Deploy duration: validate, build and warm changed APIs, flip, drain and stop what was dropped.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}
type Families = ReturnType<typeof families>;

class Meter implements TrafficMeter {
  readonly #errors: Families['errors'];
  readonly #open: Cell;
  readonly #connections: Cell;
  readonly #in: Cell;
  readonly #inBytes: Cell;
  readonly #out: Cell;
  readonly #outBytes: Cell;
  readonly #filtered: Cell;
  readonly #slow: Cell;
  readonly #auth: Cell;
  readonly #limited: Cell;

  constructor(
    family: Families,
    readonly api: string,
    readonly entrypoint: string,
  ) {
    this.#errors = family.errors;
    this.#open = family.open.cell(api, entrypoint);
    this.#connections = family.connections.cell(api, entrypoint);
    this.#in = family.messages.cell(api, entrypoint, 'publish');
    this.#inBytes = family.bytes.cell(api, entrypoint, 'publish');
    this.#out = family.messages.cell(api, entrypoint, 'subscribe');
    this.#outBytes = family.bytes.cell(api, entrypoint, 'subscribe');
    this.#filtered = family.dropped.cell(api, entrypoint, 'policy');
    this.#slow = family.dropped.cell(api, entrypoint, 'slow-consumer');
    this.#auth = family.authFailures.cell(api, entrypoint);
    this.#limited = family.rateLimited.cell(api, entrypoint);
  }

  opened(): void {
    this.#open.value++;
    this.#connections.value++;
  }

  closed(): void {
    this.#open.value--;
  }

  received(bytes: number): void {
    this.#in.value++;
    this.#inBytes.value += bytes;
  }

  delivered(bytes: number): void {
    this.#out.value++;
    this.#outBytes.value += bytes;
  }

  dropped(reason: 'policy' | 'slow-consumer', count: number): void {
    (reason === 'policy' ? this.#filtered : this.#slow).value += count;
  }

  failed(error: unknown): void {
    const { code, status } = asGatewayError(error);
    if (code === 'CLIENT_GONE') return; // the client left: not an error of the gateway
    this.#errors.cell(this.api, this.entrypoint, code).value++;
    if (status === 401) this.#auth.value++;
    else if (status === 429) this.#limited.value++;
  }
}

/**
 * One gateway's metrics: its Registry and families, the meters and policy counters its Telemetry
 * counts on, and the deploy / lag / skipped-batch events it records from that Telemetry.
 */
export class Metrics implements Meters {
  /** The gateway's telemetry, bound to these metrics (startGateway puts it on the GatewayState). */
  readonly telemetry: Telemetry;
  readonly #registry = new Registry();
  /** This gateway's series plus the process ones: what `/metrics` renders. */
  readonly #scraped: Registry;
  readonly #family: Families;
  readonly #meters = new Map<string, Meter>();
  readonly #counters = new Map<string, PolicyCounters>();
  readonly #upstream = new Map<string, UpstreamMeter>();
  /** Endpoint health seen last, per exchange: for the up gauge and reconnect counting. */
  readonly #seen = new WeakMap<Exchange, { up: boolean[]; everUp: boolean[] }>();

  constructor() {
    this.#family = families(this.#registry);
    this.#scraped = Registry.merge([this.#registry, processRegistry]);
    this.telemetry = new Telemetry(this);
    this.telemetry.on((event) => this.#record(event));
  }

  get contentType(): string {
    return this.#scraped.contentType;
  }

  trafficMeterFor(api: string, entrypoint: string): TrafficMeter {
    const key = `${api}\u0000${entrypoint}`;
    let meter = this.#meters.get(key);
    if (!meter) this.#meters.set(key, (meter = new Meter(this.#family, api, entrypoint)));
    return meter;
  }

  policyCountersFor(apiId: string): PolicyCounters {
    let counters = this.#counters.get(apiId);
    if (!counters) {
      const policy = this.#family.policy;
      counters = { count: (name, direction, step, outcome) => void policy.cell(apiId, direction, String(step), name, outcome).value++ };
      this.#counters.set(apiId, counters);
    }
    return counters;
  }

  upstreamMeterFor(apiId: string, endpoint: string): UpstreamMeter {
    const key = `${apiId}\u0000${endpoint}`;
    let meter = this.#upstream.get(key);
    if (!meter) {
      const cell = this.#family.upstream.cell(apiId, endpoint);
      this.#upstream.set(key, (meter = { received: () => void cell.value++ }));
    }
    return meter;
  }

  #record(event: TelemetryEvent): void {
    const family = this.#family;
    if (event.kind === 'deploy') {
      family.swaps.cell('deployed', '').value++;
      if (event.durationMs !== undefined) family.swapDuration.observe(event.durationMs / 1000);
    } else if (event.kind === 'deploy-failed') {
      family.swaps.cell('failed', event.code ?? 'BUNDLE_INVALID').value++;
    } else if (event.kind === 'consumer-lag') {
      if (event.lag === undefined) family.lag.remove(event.api, event.topic, String(event.partition));
      else family.lag.cell(event.api, event.topic, String(event.partition)).value = event.lag;
    } else if (event.kind === 'kafka-fetch-batch') {
      family.fetchBatch.observe({ api: event.api }, event.messages);
    } else if (event.kind === 'kafka-batch-skipped') {
      family.skipped.cell(event.api, event.topic, String(event.partition), event.reason).value++;
    }
  }

  /** Reads every endpoint's health; counts unhealthy -> healthy transitions of endpoints that were healthy before. */
  sample(routers: RouterSwitch): void {
    const router = routers.current;
    if (!router) return;
    for (const [apiId, exchange] of router.exchanges) {
      const endpoints = exchange.health().endpoints;
      let state = this.#seen.get(exchange);
      if (!state) this.#seen.set(exchange, (state = { up: [], everUp: [] }));
      endpoints.forEach((endpoint, i) => {
        const was = state.up[i];
        if (endpoint.healthy && was === false && state.everUp[i]) this.#family.reconnects.cell(apiId, endpoint.type, String(i)).value++;
        state.up[i] = endpoint.healthy;
        if (endpoint.healthy) state.everUp[i] = true;
      });
    }
  }

  /** `/metrics`: recomputes the state gauges (endpoint health, bundle) from this gateway's router, then renders. */
  async render(view: AdminView): Promise<string> {
    const family = this.#family;
    this.sample(view.routers);
    family.endpointUp.clear();
    family.queued.clear();
    family.bundle.clear();
    const router = view.routers.current;
    if (router) {
      for (const [apiId, exchange] of router.exchanges) {
        exchange.health().endpoints.forEach((endpoint, i) => (family.endpointUp.cell(apiId, endpoint.type, String(i)).value = endpoint.healthy ? 1 : 0));
        if (exchange.fanout) family.queued.cell(apiId).value = exchange.fanout.queuedBytes;
      }
      const tag = view.release?.(router.bundleId)?.tag ?? router.bundle.source.tag;
      family.bundle.cell(router.bundleId, typeof tag === 'string' ? tag : '').value = 1;
    }
    return this.#scraped.metrics();
  }

  /**
   * Samples the gateway's endpoint health every second, so reconnects between scrapes are
   * counted. Returns the stop function.
   */
  meter(routers: RouterSwitch): () => void {
    const timer = setInterval(() => this.sample(routers), 1000);
    timer.unref();
    return () => clearInterval(timer);
  }
}

/** GET /metrics on a gateway's admin port (startGateway adds it with the gateway's Metrics). */
export function metricsAdminRoute(metrics: Metrics): AdminRoute {
  return {
    method: 'GET',
    path: '/metrics',
    async handle(_req, res, view) {
      const body = await metrics.render(view);
      res.statusCode = 200;
      res.setHeader('Content-Type', metrics.contentType);
      res.setHeader('Cache-Control', 'no-store');
      res.end(body);
    },
  };
}
