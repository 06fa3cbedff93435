import type { Message, PublishMessage } from '../../core/message.ts';
import type { SecretRef } from '../../schemas/types.ts';
import type { Telemetry } from '../metrics/telemetry.ts';

export interface EndpointContext {
  readonly apiId: string;
  /** Unique per runtime process; used in consumer group and client ids. */
  readonly instanceId: string;
  resolveSecret(ref: SecretRef): string;
  /** The gateway's telemetry (consumer lag, skipped batches); absent (a test building an endpoint alone): nothing is reported. */
  readonly telemetry?: Telemetry;
}

export interface EndpointHealth {
  readonly healthy: boolean;
  /** Why it is unhealthy, for /readyz and logs. */
  readonly detail?: string;
}

export interface SubscribeOptions {
  /** Resume strictly after this message id. Absent: messages produced from now on. */
  readonly cursor?: string;
  /** Ends the iteration and releases everything acquired for it. */
  readonly signal: AbortSignal;
  /** The channel's parameters, for an endpoint with an upstream subscription per channel (`channelUpstream`). */
  readonly params?: ChannelParams;
}

/**
 * One broker, translated to and from messages. Never imports express or ws.
 * Built when a bundle is built (configure once), `start()`ed while the bundle warms,
 * `stop()`ped exactly once when no router uses it any more.
 */
export type ChannelParams = Readonly<Record<string, string>>;

/** One channel of a templated API, as its endpoint serves it. */
export interface EndpointChannel {
  /** Does this upstream message belong to the channel? Cheap: run once per message and client. */
  accepts(message: Message): boolean;
  /**
   * Optional: the one value of `channelKeyOf(message)` this channel accepts (an exact MQTT topic, a
   * Kafka record key), so the fanout finds the channel of a message without testing every channel.
   */
  readonly key?: string;
}

export interface Endpoint {
  readonly type: string;
  readonly publishes: boolean;
  readonly subscribes: boolean;
  /** true: one upstream subscription per API shared by all clients (fanout); false: one per subscriber (mock). */
  readonly shared: boolean;
  /** true: subscribe() honours `cursor`. */
  readonly resumable: boolean;
  /** Where publish() sends (topic name), for traces' messaging.destination.name; absent: none to name. */
  readonly publishDestination?: string;
  /** Connect and warm. A broker that is down must not reject: reconnect in the background and report health. */
  start(): Promise<void>;
  health(): EndpointHealth;
  /**
   * Optional (resumable endpoints): rejects with a 4xx GatewayError (INVALID_CURSOR) when
   * subscribe() would refuse this cursor, so an entrypoint can answer before it starts a stream;
   * resolves when the cursor is fine or when that cannot be known now (subscribe() decides then).
   */
  checkCursor?(cursor: string): Promise<void>;
  /**
   * Optional (shared, resumable endpoints whose message ids are positions in the whole upstream):
   * how cursors are ordered, so a client resuming from a cursor on its own subscription can be
   * handed over to the shared fanout without losing or repeating a message (subscribe/resume-handover.ts).
   * Absent: a resuming client keeps its own subscription until it ends.
   */
  readonly cursorOrder?: CursorOrder<unknown>;
  /** Messages in broker order until the signal aborts or the endpoint stops. Errors end the iteration with a GatewayError. */
  subscribe(options: SubscribeOptions): AsyncIterable<Message>;
  /**
   * Resolves once the broker acknowledged (per the endpoint's acks/qos). Unavailable: rejects with errors.endpointUnavailable.
   * `params`: the caller's channel parameters (context path template), which the endpoint maps (MQTT topic).
   */
  publish(message: PublishMessage, params?: ChannelParams): Promise<void>;
  /**
   * Optional (channels): how this endpoint serves one channel of a templated API. The upstream
   * subscription stays one per API (a wildcard); `accepts` is the per-client filter run in the fanout.
   */
  channel?(params: ChannelParams): EndpointChannel;
  /** Optional (channels): the message's value that EndpointChannel.key is compared with (MQTT topic, Kafka record key). */
  channelKeyOf?(message: Message): string | undefined;
  /**
   * Optional (channels): the upstream subscription a channel needs, when it is not the API's one
   * (Kafka `consumer.topics: ["telemetry.{tenant}"]`: a topic per value). Channels with the same
   * string share one upstream (one fanout each, bounded by `fanout.maxChannels`); undefined: the API's.
   */
  channelUpstream?(params: ChannelParams): string | undefined;
  /** Characters a channel parameter value may not contain for this endpoint (MQTT: + # /); refused with INVALID_CHANNEL. */
  readonly channelForbidden?: readonly string[];
  stop(): Promise<void>;
  /**
   * Optional group consumption for background subscribers (webhooks), independent of `start()`:
   * see GroupConsumeOptions. Resolves once `signal` aborted and the consumer left its group;
   * rejects only when `deliver` rejected. Broker outages are retried inside, with backoff.
   */
  consumeGroup?(options: GroupConsumeOptions): Promise<void>;
}

/**
 * The order of an endpoint's cursors. `Position` is the endpoint's own (opaque to the caller):
 * where a subscription stands, decoded from a cursor or a delivered message's id.
 */
export interface CursorOrder<Position> {
  /** The position a cursor or message id stands for; a malformed one throws a 400 GatewayError (INVALID_CURSOR). */
  decode(cursor: string): Position;
  /** true when a subscription at `passed` has passed everything up to `target` (it need not read anything before target again). */
  covers(passed: Position, target: Position): boolean;
  /** true when `message` (delivered by another subscription) was already passed by a subscription at `floor`. */
  passed(floor: Position, message: Message): boolean;
}

/** What a group consumer hands each message with. */
export interface GroupDelivery {
  /**
   * Aborts when the consumer wants the message back (it is stopping, or the partition is being
   * reassigned): finish the attempt in flight, start no other, resolve false.
   */
  readonly yielding: AbortSignal;
  /** Publishes to the options' `deadLetterTopic` on the same broker; resolves once acknowledged, rejects with a GatewayError. */
  deadLetter(message: PublishMessage): Promise<void>;
}

/**
 * Group consumption: every runtime instance consuming with the same `group` shares the work
 * (Kafka consumer group; MQTT shared subscription `$share/<group>/<filter>`).
 * Order: one partition's (MQTT: the subscription's) messages are handed over one at a time, in
 * broker order. `commit: 'after'` (at-least-once): a message's position is committed (Kafka) or
 * acknowledged (MQTT PUBACK) only after `deliver` resolved true; false gives it back uncommitted
 * (redelivered to whoever owns the partition next). `commit: 'before'` (at-most-once): committed
 * before `deliver` runs.
 */
export interface GroupConsumeOptions {
  /** Stable id shared by every instance (consumer group id / share name). */
  readonly group: string;
  /** Partitions delivered at once (Kafka); MQTT delivers one message at a time. */
  readonly concurrency: number;
  readonly commit: 'after' | 'before';
  /** Topic that `GroupDelivery.deadLetter` publishes to; absent: deadLetter rejects. */
  readonly deadLetterTopic?: string;
  /**
   * Bytes of fetched messages the consumer may hold awaiting delivery (Kafka: a fetch returns at
   * most this much, or one record batch when a single one is larger); absent: the client default.
   */
  readonly maxBytes?: number;
  /** Stop: no new message is handed over; deliveries in flight settle, then the consumer leaves the group. */
  readonly signal: AbortSignal;
  deliver(message: Message, delivery: GroupDelivery): Promise<boolean>;
  /** Connection and assignment changes, for the admin /status. */
  onStatus?(status: GroupStatus): void;
}

export interface GroupStatus {
  readonly connected: boolean;
  /** What this instance consumes now, e.g. `orders:0,1` or `$share/g/sensors/#`. */
  readonly assignment?: string;
  /** Why it is not connected. */
  readonly detail?: string;
}

export type EndpointFactory<Config> = (config: Config, context: EndpointContext) => Endpoint;

/** One factory per endpoint type of the schema: a type without one fails to compile. */
export type EndpointFactories = { readonly [K in import('../../schemas/types.ts').Endpoint['type']]: EndpointFactory<Extract<import('../../schemas/types.ts').Endpoint, { type: K }>> };
