import type { Message, PublishMessage } from '../message.ts';
import type { SecretRef } from '../../schemas/types.ts';

export interface EndpointContext {
  readonly apiId: string;
  /** Unique per runtime process; used in consumer group and client ids. */
  readonly instanceId: string;
  resolveSecret(ref: SecretRef): string;
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
}

/**
 * One broker, translated to and from messages. Never imports express or ws.
 * Built when a bundle is built (configure once), `start()`ed while the bundle warms,
 * `stop()`ped exactly once when no router uses it any more.
 */
export interface Endpoint {
  readonly type: string;
  readonly publishes: boolean;
  readonly subscribes: boolean;
  /** true: one upstream subscription per API shared by all clients (fanout); false: one per subscriber (mock). */
  readonly shared: boolean;
  /** true: subscribe() honours `cursor`. */
  readonly resumable: boolean;
  /** Connect and warm. A broker that is down must not reject: reconnect in the background and report health. */
  start(): Promise<void>;
  health(): EndpointHealth;
  /** Messages in broker order until the signal aborts or the endpoint stops. Errors end the iteration with a GatewayError. */
  subscribe(options: SubscribeOptions): AsyncIterable<Message>;
  /** Resolves once the broker acknowledged (per the endpoint's acks/qos). Unavailable: rejects with errors.endpointUnavailable. */
  publish(message: PublishMessage): Promise<void>;
  stop(): Promise<void>;
}

export type EndpointFactory<Config> = (config: Config, context: EndpointContext) => Endpoint;
