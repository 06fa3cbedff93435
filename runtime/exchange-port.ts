/**
 * What entrypoints and the subscribe/ modules see of an exchange (runtime/exchange.ts implements
 * it). A leaf module, so they depend on this and never on the Exchange class, which builds them.
 */
import type { Caller } from './plans/plan.ts';
import type { PublishMessage } from '../core/message.ts';
import type { GatewayError } from '../core/errors.ts';
import type { Endpoint } from './endpoints/endpoint.ts';
import type { Delivery } from './subscribe/delivery.ts';
import type { GroupConsumer } from './subscribe/group-consumer.ts';
import type { Telemetry } from './metrics/telemetry.ts';
import type { Abortable } from './abortable.ts';

export interface SubscribeRequest {
  /** Resume strictly after this message id (resumable endpoints; bypasses the shared fanout); ignored by others. */
  readonly cursor?: string;
  /** Ends the subscription: an AbortSignal, or the client's Connection (no AbortController per subscriber). */
  readonly signal: Abortable;
  /**
   * Called at once when the subscription fails while the consumer may be busy elsewhere (a slow
   * consumer blocked on a socket that does not drain): entrypoints abort their connection with it.
   */
  readonly onFailure?: (reason: unknown) => void;
}

export interface ExchangePort {
  readonly id: string;
  readonly publishEndpoint: Endpoint | undefined;
  readonly subscribeEndpoint: Endpoint | undefined;
  /** The gateway's telemetry (entrypoints emit slow-consumer events there). */
  readonly telemetry: Telemetry;
  /** Runs the publish flow and sends; false when a policy dropped the message. */
  publish(caller: Caller, message: PublishMessage, options?: { readonly admitted?: boolean }): Promise<boolean>;
  /** The caller's stream of deliveries (shared fanout, or a consumer of its own when resuming). */
  subscribe(caller: Caller, request: SubscribeRequest): AsyncIterable<Delivery>;
  /** Why a resume from `cursor` cannot be served now (RESUME_CAPACITY), if so. */
  resumeRefusal(cursor: string | undefined): GatewayError | undefined;
  /** Why the caller's channel cannot be opened now (CHANNEL_CAPACITY: fanout.maxChannels), if so; asked before a WebSocket upgrade. */
  channelRefusal?(caller: Caller): GatewayError | undefined;
  /** The 4xx refusal (INVALID_CURSOR) a subscription from `cursor` would end with, if the endpoint can tell before a stream starts. */
  cursorRefusal(cursor: string | undefined): Promise<GatewayError | undefined>;
  /**
   * A consumer of the subscribing endpoint for a background entrypoint (webhooks): its own endpoint
   * instance and the subscribe flow (subscribe/group-consumer.ts). It does not depend on this
   * exchange staying up; the caller stops it. Throws SUBSCRIBE_NOT_SUPPORTED when the API does not subscribe.
   */
  groupConsumer(): GroupConsumer;
}
