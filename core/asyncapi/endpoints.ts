/**
 * What the broker side of an API looks like, for the `x-sluice-broker` extension of a channel:
 * AsyncAPI's kafka and mqtt bindings describe a client talking to that broker, not an HTTP/WebSocket
 * gateway in front of it, so the topics go in an extension. Total over the endpoint `type` union.
 */
import type { Endpoint } from '../../schemas/types.ts';

interface EndpointView<Config> {
  describe(config: Config): Record<string, unknown>;
  /** The content it delivers when known ahead (the mock's messageContent). */
  example(config: Config): string | undefined;
}

const unknown = (): undefined => undefined;
const enabled = (part: { readonly enabled?: boolean } | undefined): boolean => part !== undefined && part.enabled !== false;

export const ENDPOINT_VIEWS: { readonly [K in Endpoint['type']]: EndpointView<Extract<Endpoint, { type: K }>> } = {
  mock: {
    describe: (config) => ({ type: 'mock', messageIntervalMs: config.messageInterval ?? 1000, ...(config.messageCount !== undefined ? { messageCount: config.messageCount } : {}) }),
    example: (config) => config.messageContent ?? 'mock message',
  },
  kafka: {
    describe: (config) => ({
      type: 'kafka',
      ...(enabled(config.consumer) ? { consumes: config.consumer!.topics ?? { pattern: config.consumer!.topicPattern } } : {}),
      ...(enabled(config.producer) ? { producesTo: config.producer!.topic } : {}),
    }),
    example: unknown,
  },
  mqtt: {
    describe: (config) => ({
      type: 'mqtt',
      ...(enabled(config.consumer) ? { consumes: config.consumer!.topic } : {}),
      ...(enabled(config.producer) ? { producesTo: config.producer!.topic } : {}),
    }),
    example: unknown,
  },  rabbitmq: {
    describe: (config) => ({
      type: 'rabbitmq',
      ...(enabled(config.consumer) ? { consumes: config.consumer!.queue !== undefined ? { queue: config.consumer!.queue } : { exchange: config.consumer!.exchange, bindingKey: config.consumer!.bindingKey ?? '#' } } : {}),
      ...(enabled(config.producer) ? { producesTo: { exchange: config.producer!.exchange, routingKey: config.producer!.routingKey ?? '' } } : {}),
    }),
    example: unknown,
  },
  nats: {
    describe: (config) => ({
      type: 'nats',
      ...(config.stream !== undefined ? { stream: config.stream } : {}),
      ...(enabled(config.consumer) ? { consumes: config.consumer!.subject } : {}),
      ...(enabled(config.producer) ? { producesTo: config.producer!.subject } : {}),
    }),
    example: unknown,
  },
};

const view = (endpoint: Endpoint): EndpointView<Endpoint> => ENDPOINT_VIEWS[endpoint.type] as EndpointView<Endpoint>;
export const endpointExtension = (endpoint: Endpoint): Record<string, unknown> => view(endpoint).describe(endpoint);
/** The first endpoint's known message content, as the example of delivered messages. */
export const knownContent = (endpoints: readonly Endpoint[]): string | undefined => endpoints.map((e) => view(e).example(e)).find((c) => c !== undefined);
