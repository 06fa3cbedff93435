/**
 * The exchange: the runtime object for one API and the one place where plan, policies and
 * endpoint meet. Read top to bottom:
 *
 *   authenticate (plans in order) -> admit (rate limits) ->
 *     publish:   publish flow -> endpoint.publish                          (exchange-publish.ts)
 *     subscribe: endpoint.subscribe -> subscribe flow -> fanout (shared endpoints) -> client
 *                                                              (subscribe/subscribe-side.ts)
 *
 * Built once per bundle for each started API whose compiled definition changed (configure once);
 * kept across deploys otherwise. `start()` warms it, `drain()` ends its connections, `stop()`
 * releases its endpoints exactly once. A deploy that changes only the API's plans or
 * subscriptions keeps the exchange and swaps its admission (plans and entrypoints) whole; see
 * `prepareAdmission`.
 */
import type { BundleApi } from '../schemas/types.ts';
import type { Endpoint } from './endpoints/endpoint.ts';
import type { Entrypoint } from './entrypoints/entrypoint.ts';
import type { ExchangePort, SubscribeRequest } from './exchange-port.ts';
import type { Caller, RequestView } from './plans/plan.ts';
import type { PublishMessage } from '../core/message.ts';
import { createEndpoint } from './endpoints/registry.ts';
import { builtInRegistry, type Registry } from './registry.ts';
import { createGatewayState, type GatewayState } from './gateway-state.ts';
import { buildAdmission, concerned, stopEntrypoints, type Admission } from './admission.ts';
import { compileFlow } from '../core/policies/flow.ts';
import { compileCors, type CorsPolicy } from './http/cors.ts';
import { Connections, type Connection } from './connections.ts';
import type { Delivery } from './subscribe/delivery.ts';
import type { Fanout } from './subscribe/fanout.ts';
import type { ChannelFanouts } from './subscribe/channel-fanouts.ts';
import type { ResumeCapacity } from './subscribe/resume-capacity.ts';
import { SubscribeSide } from './subscribe/subscribe-side.ts';
import { groupConsumer, type GroupConsumer } from './subscribe/group-consumer.ts';
import { errors, GatewayError } from '../core/errors.ts';
import { resolveSecret } from './secrets.ts';
import type { ApiFingerprint } from '../core/canonical-json.ts';
import type { Tally, Telemetry } from './metrics/telemetry.ts';
import { log } from './log.ts';
import { publishMessage, type PublishPath } from './exchange-publish.ts';
import { channelAdmission, type ChannelAdmission } from './routing/channels.ts';

export type { SubscribeRequest } from './exchange-port.ts';

export interface ExchangeOptions {
  /** Unique per runtime process (consumer groups, client ids). */
  readonly instanceId: string;
  /** Implementations by type (default: the built-ins). */
  readonly registry?: Registry;
  /** The gateway's state (rate-limit store, auth throttle, webhook table, telemetry; default: one of its own). */
  readonly state?: GatewayState;
}

export class Exchange implements ExchangePort {
  readonly id: string;
  readonly cors: CorsPolicy | null;
  readonly contextPaths: readonly string[];
  readonly connections: Connections;
  readonly publishEndpoint: Endpoint | undefined;
  readonly subscribeEndpoint: Endpoint | undefined;
  readonly fanout: Fanout | undefined;
  /** One fanout per channel, for an endpoint with an upstream per channel (Kafka topic per value). */
  readonly channels: ChannelFanouts | undefined;
  /** Clients resuming from a cursor with a consumer of their own (shared endpoints only): bounded. */
  readonly resuming: ResumeCapacity | undefined;
  /** The gateway's telemetry (its GatewayState's): what this API emits and counts goes there. */
  readonly telemetry: Telemetry;

  /** Fingerprint of the definition: a deploy that keeps it can keep this exchange. */
  readonly #definition: string;
  readonly #instanceId: string;
  readonly #registry: Registry;
  readonly #state: GatewayState;
  readonly #subscribeConfig: BundleApi['definition']['endpoints'][number] | undefined;
  #admission: Admission;
  /** The admission each caller was authenticated under. */
  readonly #authenticatedUnder = new WeakMap<Caller, Admission>();
  readonly #endpoints: Endpoint[];
  /** The publish path (exchange-publish.ts), bound once. */
  readonly #publishing: PublishPath;
  /** Fanouts, resume capacity and own subscriptions (absent: the API does not subscribe). */
  readonly #subscribing: SubscribeSide | undefined;
  readonly #channel: ChannelAdmission;
  #stopped: Promise<void> | undefined;
  #background: Tally | undefined;

  constructor(api: BundleApi, fingerprint: ApiFingerprint, options: ExchangeOptions) {
    const definition = api.definition;
    this.id = api.id;
    this.#instanceId = options.instanceId;
    this.#registry = options.registry ?? builtInRegistry;
    this.#state = options.state ?? createGatewayState();
    this.telemetry = this.#state.telemetry;
    this.#definition = fingerprint.definition;
    this.connections = new Connections(api.id, this.telemetry);
    this.cors = compileCors(definition.cors);
    this.contextPaths = definition.contextPaths;

    const endpointContext = { apiId: api.id, instanceId: options.instanceId, resolveSecret, telemetry: this.telemetry };
    this.#endpoints = definition.endpoints.map((config) => createEndpoint(config, endpointContext, this.#registry.endpoints));
    this.publishEndpoint = this.#endpoints.find((e) => e.publishes);
    this.subscribeEndpoint = this.#endpoints.find((e) => e.subscribes);
    const counters = this.telemetry.policyCountersFor(api.id);
    this.#publishing = {
      apiId: api.id, endpoint: this.publishEndpoint, flow: compileFlow(definition.flows?.publish, 'publish', { counters }), telemetry: this.telemetry,
      tracing: this.#state.tracing, connections: this.connections, admit: (caller) => this.admit(caller, 'publish'),
    };
    const subscribeFlow = compileFlow(definition.flows?.subscribe, 'subscribe', { counters });
    this.#subscribing = this.subscribeEndpoint && new SubscribeSide(this.subscribeEndpoint, subscribeFlow, definition.fanout, api.id, this.telemetry, this.#state.tracing);
    this.fanout = this.#subscribing?.fanout;
    this.channels = this.#subscribing?.channels;
    this.resuming = this.#subscribing?.resuming;
    this.#channel = channelAdmission(api, this.#endpoints);
    this.#subscribeConfig = this.subscribeEndpoint && definition.endpoints[this.#endpoints.indexOf(this.subscribeEndpoint)];
    this.#admission = buildAdmission(api, fingerprint, this.#instanceId, this.#subscribeConfig, this.#registry, this.#state);
  }

  /** The bundle API served now. */
  get api(): BundleApi {
    return this.#admission.api;
  }

  /** Canonical JSON of the bundle API served now: equal means unchanged. */
  get fingerprint(): ApiFingerprint {
    return this.#admission.fingerprint;
  }

  /** By descending specificity. */
  get entrypoints(): readonly Entrypoint[] {
    return this.#admission.entrypoints;
  }

  /**
   * A deploy that changed only this API's plans or subscriptions (same definition): builds the new
   * plans and entrypoints and starts the background ones beside the current ones, and resolves
   * with the commit; null when the definition changed (the API is rebuilt instead). Rejects, with
   * nothing left running, when they cannot be built. `commit` (after the router flipped) switches
   * to them, closes the connections whose plan or subscription changed (1012: they reconnect under
   * the new rules) and stops the replaced entrypoints; the other connections stay.
   */
  async prepareAdmission(api: BundleApi, fingerprint: ApiFingerprint): Promise<(() => Promise<void>) | null> {
    if (fingerprint.definition !== this.#definition) return null;
    const next = buildAdmission(api, fingerprint, this.#instanceId, this.#subscribeConfig, this.#registry, this.#state);
    try {
      for (const entrypoint of next.entrypoints) await entrypoint.start?.(this);
    } catch (error) {
      await stopEntrypoints(this.id, next.entrypoints);
      throw error;
    }
    return async () => {
      const previous = this.#admission;
      this.#admission = next;
      const changed = concerned(previous, next);
      for (const connection of this.connections.list()) if (changed(connection.caller)) connection.abort(errors.serviceRestart());
      await stopEntrypoints(this.id, previous.entrypoints);
    };
  }

  /** Warms the exchange: endpoints connect (a broker that is down does not reject), then background entrypoints start. */
  async start(): Promise<void> {
    await Promise.all(this.#endpoints.map((endpoint) => endpoint.start()));
    for (const entrypoint of this.entrypoints) await entrypoint.start?.(this);
  }

  /** Who is calling: plans in order jwt, api-key, keyless (see PlanResolution); 401 when none accepts. */
  async authenticate(request: RequestView): Promise<Caller> {
    const admission = this.#admission;
    const caller = this.#channel(admission.api, await admission.plans.authenticate(request), request);
    this.#authenticatedUnder.set(caller, admission);
    return caller;
  }

  /** The developer catalog: does the request present a credential this API's plans accept? (PlanResolution.recognises) */
  recognises(request: RequestView): Promise<'accepted' | 'refused' | 'absent'> {
    return this.#admission.plans.recognises(request);
  }

  /** The developer catalog: counts a refused credential against the address (auth-failure throttle). */
  refused(remoteAddress: string): void {
    this.#admission.plans.refused(remoteAddress);
  }

  /**
   * The caller's connection (release it with `connections.release`). A caller authenticated under
   * plans that a deploy has changed for it since (the swap landed while it was being admitted) is
   * aborted at once (1012), as the swap would have done had it been open.
   */
  open(entrypoint: string, caller: Caller): Connection {
    const connection = this.connections.open(entrypoint, caller);
    const admission = this.#authenticatedUnder.get(caller);
    if (admission && admission !== this.#admission && concerned(admission, this.#admission)(caller)) connection.abort(errors.serviceRestart());
    return connection;
  }

  /** Rate limits of the caller's plan: headers to add, or a 429 GatewayError. */
  admit(caller: Caller, kind: 'connect' | 'publish'): Promise<Readonly<Record<string, string>>> {
    return this.#admission.plans.admit(caller, kind);
  }

  get canPublish(): boolean {
    return this.publishEndpoint !== undefined;
  }

  get canSubscribe(): boolean {
    return this.subscribeEndpoint !== undefined;
  }

  /** A client's message through rate limit, publish flow and endpoint (exchange-publish.ts); false when a policy dropped it. */
  publish(caller: Caller, message: PublishMessage, options: { readonly admitted?: boolean } = {}): Promise<boolean> {
    return publishMessage(this.#publishing, caller, this.#tally(caller), message, options.admitted === true);
  }

  /** Where a caller's traffic is counted: its connection, else (webhooks, background consumers) the API's `background` meter. */
  #tally(caller: Caller): Tally {
    return this.connections.of(caller) ?? (this.#background ??= this.telemetry.trafficMeterFor(this.id, 'background'));
  }

  /**
   * Messages for one client, after the subscribe flow, until `signal` aborts (then the iteration
   * ends quietly). Shared endpoints without a cursor go through the fanout (bounded queue,
   * slow-consumer policy); otherwise the client has its own upstream subscription.
   * A client resuming a shared endpoint from a cursor holds one of `fanout.maxResumingSubscriptions`
   * slots until its subscription ended (ResumeCapacity); none free: throws RESUME_CAPACITY (503,
   * Retry-After, WebSocket 1013) at once, before anything is acquired.
   *
   * An endpoint with a cursor order (Endpoint.cursorOrder; Kafka): once the resumed client has caught
   * up with the fanout it switches onto it, its own consumer is closed and the slot given back (resume-handover.ts: no message lost or repeated).
   */
  subscribe(caller: Caller, request: SubscribeRequest): AsyncIterable<Delivery> {
    const subscribing = this.#subscribing;
    if (!subscribing) throw errors.badRequest('SUBSCRIBE_NOT_SUPPORTED', 'This API does not deliver messages to clients.');
    return subscribing.subscribe(caller, request, this.#tally(caller));
  }

  /** The RESUME_CAPACITY refusal `subscribe` would throw now for this cursor, if any (a WebSocket handshake asks before upgrading). */
  resumeRefusal(cursor: string | undefined): GatewayError | undefined {
    return this.#subscribing?.resumeRefusal(cursor);
  }

  /** The CHANNEL_CAPACITY refusal `subscribe` would throw now for this caller's channel, if any (a WebSocket handshake asks before upgrading). */
  channelRefusal(caller: Caller): GatewayError | undefined {
    return this.#subscribing?.channelRefusal(caller);
  }

  /** The 4xx refusal (INVALID_CURSOR) `subscribe` would end with for this cursor, if the endpoint can tell now (asked before a stream starts). */
  async cursorRefusal(cursor: string | undefined): Promise<GatewayError | undefined> {
    return this.#subscribing?.cursorRefusal(cursor);
  }

  /** See ExchangePort.groupConsumer: built from the registry and the definition only, so it outlives this exchange. */
  groupConsumer(): GroupConsumer {
    const config = this.#subscribeConfig;
    if (!config) throw errors.badRequest('SUBSCRIBE_NOT_SUPPORTED', 'This API does not deliver messages to clients.');
    const flow = compileFlow(this.api.definition.flows?.subscribe, 'subscribe', { counters: this.telemetry.policyCountersFor(this.id) });
    return groupConsumer(createEndpoint(config, { apiId: this.id, instanceId: this.#instanceId, resolveSecret, telemetry: this.telemetry }, this.#registry.endpoints), flow);
  }

  /** Every endpoint healthy? (for /readyz) */
  health(): { healthy: boolean; endpoints: { type: string; healthy: boolean; detail?: string }[] } {
    const endpoints = this.#endpoints.map((endpoint) => ({ type: endpoint.type, ...endpoint.health() }));
    return { healthy: endpoints.every((e) => e.healthy), endpoints };
  }

  /** Ends every open connection with this reason (SERVICE_RESTART, GATEWAY_STOPPING). */
  drain(reason: GatewayError): void {
    this.connections.abortAll(reason);
    this.#subscribing?.close(reason);
  }

  /** Releases entrypoints and endpoints; idempotent (the work runs exactly once). */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#subscribing?.close(errors.serviceRestart());
      await stopEntrypoints(this.id, this.entrypoints);
      await Promise.all(this.#endpoints.map(async (endpoint) => {
        try {
          await endpoint.stop();
        } catch (error) {
          log.error({ api: this.id, endpoint: endpoint.type, err: error }, 'endpoint stop failed');
        }
      }));
    })();
    return this.#stopped;
  }

  status(): Record<string, unknown> {
    const extra = Object.fromEntries(this.entrypoints.filter((e) => e.status).map((e) => [e.type, e.status!()]));
    return {
      state: 'started',
      contextPaths: this.contextPaths,
      connections: this.connections.byEntrypoint(),
      ...this.#subscribing?.status(),
      ...(Object.keys(extra).length ? { entrypoints: extra } : {}),
    };
  }
}
