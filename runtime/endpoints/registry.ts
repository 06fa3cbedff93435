/**
 * Endpoint implementations by schema `type`. Adding an endpoint: one file exporting an
 * EndpointFactory, one line here.
 */
import type { Endpoint as EndpointConfig } from '../../schemas/types.ts';
import type { Endpoint, EndpointContext, EndpointFactories, EndpointFactory } from './endpoint.ts';
import { createMockEndpoint } from './mock/mock.ts';
import { createKafkaEndpoint } from './kafka/kafka.ts';
import { createMqttEndpoint } from './mqtt/mqtt.ts';
import { createRabbitmqEndpoint } from './rabbitmq/rabbitmq.ts';
import { createNatsEndpoint } from './nats/nats.ts';

export const endpointFactories: EndpointFactories = {
  mock: createMockEndpoint,
  kafka: createKafkaEndpoint,
  mqtt: createMqttEndpoint,
  rabbitmq: createRabbitmqEndpoint,
  nats: createNatsEndpoint,
};

/** Builds one endpoint; an unknown type throws (the bundle fails to build, the last good keeps serving). */
export function createEndpoint(config: EndpointConfig, context: EndpointContext, factories: EndpointFactories = endpointFactories): Endpoint {
  const factory = factories[config.type] as
    | EndpointFactory<EndpointConfig>
    | undefined;
  if (!factory) throw new Error(`endpoint type "${config.type}" is not available in this runtime`);
  return factory(config, context);
}
