/**
 * The subscribe side of an exchange (runtime/exchange.ts): its subscribing endpoint, the shared
 * fanout (or one per channel), the resume capacity, and the choice per client between the fanout
 * and a subscription of its own. The exchange builds one when its API has a subscribing endpoint
 * and hands it each caller's tally.
 */
import type { BundleApi } from '../../schemas/types.ts';
import type { Endpoint } from '../endpoints/endpoint.ts';
import type { SubscribeRequest } from '../exchange-port.ts';
import type { Caller } from '../plans/plan.ts';
import type { Flow } from '../../core/policies/flow.ts';
import type { Tally, Telemetry } from '../metrics/telemetry.ts';
import type { Tracing } from '../tracing/tracing.ts';
import type { Delivery } from './delivery.ts';
import { GatewayError } from '../../core/errors.ts';
import { Fanout, type ChannelMember, type FanoutSettings } from './fanout.ts';
import { ChannelFanouts } from './channel-fanouts.ts';
import { ResumeCapacity } from './resume-capacity.ts';
import { ownSubscription } from './own-subscription.ts';

export class SubscribeSide {
  readonly fanout: Fanout | undefined;
  /** One fanout per channel, for an endpoint with an upstream per channel (Kafka topic per value). */
  readonly channels: ChannelFanouts | undefined;
  /** Clients resuming from a cursor with a consumer of their own (shared endpoints only): bounded. */
  readonly resuming: ResumeCapacity | undefined;
  readonly #fanoutSettings: FanoutSettings;

  constructor(
    readonly endpoint: Endpoint,
    private readonly flow: Flow,
    config: BundleApi['definition']['fanout'],
    private readonly apiId: string,
    /** The gateway's telemetry (its GatewayState's). */
    private readonly telemetry: Telemetry,
    private readonly tracing: Tracing | null,
  ) {
    const fanoutSettings: FanoutSettings = {
      queueSize: config?.queueSize ?? 1000,
      slowConsumerPolicy: config?.slowConsumerPolicy ?? 'disconnect',
      maxQueuedBytes: config?.maxQueuedBytes ?? 1024 * 1024,
    };
    this.#fanoutSettings = fanoutSettings;
    this.fanout = endpoint.shared ? new Fanout(endpoint, flow, fanoutSettings, apiId, telemetry, tracing) : undefined;
    this.channels = endpoint.shared && endpoint.channelUpstream
      ? new ChannelFanouts((params) => new Fanout(endpoint, flow, fanoutSettings, apiId, telemetry, tracing, params), config?.maxChannels ?? 100)
      : undefined;
    this.resuming = this.fanout ? new ResumeCapacity(config?.maxResumingSubscriptions ?? 100) : undefined;
  }

  /** See Exchange.subscribe: `tally` is where the caller's traffic is counted. */
  subscribe(caller: Caller, request: SubscribeRequest, tally: Tally): AsyncIterable<Delivery> {
    const endpoint = this.endpoint;
    // An endpoint that cannot replay (MQTT) ignores a cursor on every entrypoint, as SSE must for EventSource's Last-Event-ID.
    const cursor = endpoint.resumable ? request.cursor : undefined;
    const member = this.#member(caller);
    const params = caller.channel?.request.params;
    const upstream = params && this.channels ? endpoint.channelUpstream?.(params) : undefined;
    if (upstream !== undefined && cursor === undefined) return this.channels!.attach(upstream, params!, request.signal, request.onFailure, tally, member);
    if (this.fanout && cursor === undefined && upstream === undefined) return this.fanout.attach(request.signal, request.onFailure, tally, member);
    const slot = cursor !== undefined ? this.resuming?.acquire(request.signal) : undefined;
    const fanout = upstream !== undefined ? this.channels!.get(upstream) : this.fanout;
    return ownSubscription(endpoint, { ...request, cursor }, {
      apiId: this.apiId, telemetry: this.telemetry, flow: this.flow, tally, slot, fanout, fanoutSettings: this.#fanoutSettings, tracing: this.tracing,
      ...(member ? { member } : {}), ...(upstream !== undefined ? { params: params! } : {}),
    });
  }

  /** What the fanout runs per client for this caller: its channel filter and, for caller-dependent flows, its context. */
  #member(caller: Caller): ChannelMember | undefined {
    const channel = caller.channel;
    if (!channel) return undefined;
    const filter = Object.keys(channel.request.params).length > 0 ? this.endpoint.channel?.(channel.request.params) : undefined;
    if (!filter && !this.flow.perCaller) return undefined; // the shared path: no per-client step
    if (!filter) return { context: channel };
    // Clients with the same parameters share one filter in the fanout's index (channel-index.ts).
    const id = JSON.stringify(Object.entries(channel.request.params).sort(([a], [b]) => (a < b ? -1 : 1)));
    return { accepts: filter.accepts, channel: { id, key: filter.key }, context: channel };
  }

  /** The RESUME_CAPACITY refusal `subscribe` would throw now for this cursor, if any. */
  resumeRefusal(cursor: string | undefined): GatewayError | undefined {
    return cursor !== undefined && this.endpoint.resumable ? this.resuming?.refusal() : undefined;
  }

  /** The CHANNEL_CAPACITY refusal `subscribe` would throw now for this caller's channel, if any. */
  channelRefusal(caller: Caller): GatewayError | undefined {
    const params = caller.channel?.request.params;
    const upstream = params && this.channels ? this.endpoint.channelUpstream?.(params) : undefined;
    return upstream !== undefined ? this.channels!.refusal(upstream) : undefined;
  }

  /** The 4xx refusal (INVALID_CURSOR) `subscribe` would end with for this cursor, if the endpoint can tell now. */
  async cursorRefusal(cursor: string | undefined): Promise<GatewayError | undefined> {
    const endpoint = this.endpoint;
    if (cursor === undefined || !endpoint.resumable || !endpoint.checkCursor) return undefined;
    try {
      await endpoint.checkCursor(cursor);
      return undefined;
    } catch (error) {
      return error instanceof GatewayError && error.status < 500 ? error : undefined;
    }
  }

  /** Ends the fanouts' clients with this reason and aborts their upstreams. */
  close(reason: GatewayError): void {
    this.fanout?.close(reason);
    this.channels?.close(reason);
  }

  /** The fanout part of Exchange.status (none without a shared endpoint). */
  status(): Record<string, unknown> {
    if (!this.fanout) return {};
    const channels = this.channels ? { channels: this.channels.channels, channelClients: this.channels.clients } : {};
    return { fanout: { clients: this.fanout.clients, upstreamActive: this.fanout.upstreamActive, resuming: this.resuming!.active, ...channels } };
  }
}
