/**
 * The `rabbitmq` endpoint (amqplib, AMQP 0-9-1).
 *
 * One connection per API per runtime instance (connection.ts), connected at `start()` and kept up
 * with backoff; health says why it is down.
 *
 * Subscribe (`shared: true`, `resumable: false`: a cursor is ignored): one consumer per API and
 * instance while anyone subscribes (fanout.ts): an exclusive auto-delete queue bound to
 * `consumer.exchange` with `consumer.bindingKey`, or the `consumer.queue` itself. Channels: the
 * binding key's `{name}` parameters are bound as `*` and filtered per client (channel.ts).
 *
 * Publish: to `producer.exchange` with the `producer.routingKey` template, resolving after the
 * broker's publisher confirm (publisher.ts); 503 while the broker is down or blocks publishers.
 *
 * Webhooks: `consumeGroup` on a shared durable queue, acknowledged after the callback's 2xx (group.ts).
 */
import type { RabbitmqEndpoint as RabbitmqEndpointConfig } from '../../../schemas/types.ts';
import type { EndpointFactory } from '../endpoint.ts';
import type { PublishMessage } from '../../../core/message.ts';
import { GatewayError, errors } from '../../../core/errors.ts';
import { log } from '../../log.ts';
import { connectOptions, rabbitConnection } from './connection.ts';
import { rabbitFanout } from './fanout.ts';
import { rabbitPublisher } from './publisher.ts';
import { rabbitGroup } from './group.ts';
import { RABBITMQ_FORBIDDEN, rabbitmqChannel, routingKeys } from './channel.ts';
import { wildcardReferences } from '../../../core/channel.ts';

export const createRabbitmqEndpoint: EndpointFactory<RabbitmqEndpointConfig> = (config, context) => {
  const logger = log.child({ endpoint: 'rabbitmq', api: context.apiId });
  const consumer = config.consumer && config.consumer.enabled !== false ? config.consumer : undefined;
  const producer = config.producer && config.producer.enabled !== false ? config.producer : undefined;
  const connection = rabbitConnection(connectOptions(config, context), logger);
  const bindingKey = consumer?.queue === undefined ? consumer?.bindingKey ?? '#' : undefined;
  const fanout = rabbitFanout(
    connection,
    {
      ...(consumer?.queue !== undefined ? { queue: consumer.queue } : {}),
      ...(consumer?.exchange !== undefined ? { exchange: consumer.exchange } : {}),
      bindingKey: wildcardReferences(bindingKey ?? '#', '*'),
      prefetch: consumer?.prefetch ?? 100,
      maxMessageBytes: consumer?.maxMessageBytes ?? 4 * 1024 * 1024,
      queuePrefix: `sluice.${context.apiId}.${context.instanceId}`.slice(0, 200),
    },
    logger,
  );
  const publisher = rabbitPublisher(connection);
  const routingKey = routingKeys(producer?.routingKey ?? '');
  const stopping = new AbortController();
  let started = false;

  return {
    ...rabbitGroup(config, context),
    type: 'rabbitmq',
    publishes: producer !== undefined,
    ...(producer ? { publishDestination: producer.exchange } : {}),
    subscribes: consumer !== undefined,
    shared: true,
    resumable: false,
    channelForbidden: RABBITMQ_FORBIDDEN,
    channel: (params) => rabbitmqChannel(bindingKey, params),

    async start() {
      if (started || stopping.signal.aborted) return;
      started = true;
      await connection.start();
    },

    health: connection.health,

    subscribe(options) {
      if (!consumer) return notSubscribing();
      return fanout.subscribe(AbortSignal.any([options.signal, stopping.signal]));
    },

    async publish(message: PublishMessage, params) {
      if (!producer) throw new GatewayError('ENDPOINT_NOT_PUBLISHING', 405, 'This API does not publish to RabbitMQ.', 1008);
      if (!connection.current()) throw errors.endpointUnavailable('the RabbitMQ broker is unreachable');
      await publisher.publish(producer.exchange, routingKey(message, params), message, producer.persistent ?? true);
    },

    async stop() {
      if (stopping.signal.aborted) return;
      stopping.abort();
      await connection.stop();
    },
  };
};

async function* notSubscribing(): AsyncGenerator<never> {
  throw new GatewayError('ENDPOINT_NOT_SUBSCRIBING', 405, 'This API does not subscribe to RabbitMQ.', 1008);
}
