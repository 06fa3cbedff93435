/**
 * RabbitMQ group consumption for background subscribers (webhooks): `Endpoint.consumeGroup`.
 *
 * Its own connection per call (reconnecting with backoff), consuming ONE durable queue shared by
 * every runtime instance of the subscription: with `consumer.exchange`, a queue named after the
 * group (`sluice-webhook-<api>-<subscription>`)
 * bound to the exchange with the binding key (declared durable, so messages wait in it while no
 * instance runs); with `consumer.queue`, that queue. The broker hands each message to one
 * instance. Prefetch 1: one message at a time, in queue order.
 *
 * - `commit: 'after'` (at-least-once): acknowledged only after `deliver` resolved true (the
 *   callback's 2xx, or the dead letter confirmed); false gives it back (nack, requeued). A message
 *   in hand when the connection drops is redelivered by the broker (to this or another instance).
 * - `commit: 'before'` (at-most-once): acknowledged before `deliver` runs.
 * - Dead letters go to the exchange named by `deadLetterTopic` (the subscription's dead-letter
 *   exchange), with the message's routing key, through the endpoint's publisher (publisher.ts) on
 *   this connection: confirmed, bounded and refused exactly as an HTTP POST is.
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import type { RabbitmqEndpoint as RabbitmqEndpointConfig } from '../../../schemas/types.ts';
import type { Endpoint, EndpointContext, GroupConsumeOptions, GroupDelivery } from '../endpoint.ts';
import type { PublishMessage } from '../../../core/message.ts';
import { GatewayError } from '../../../core/errors.ts';
import { log } from '../../log.ts';
import { connectOptions, rabbitConnection } from './connection.ts';
import { toMessage } from './message.ts';
import { rabbitPublisher } from './publisher.ts';
import { wildcardReferences } from '../../../core/channel.ts';

export function rabbitGroup(config: RabbitmqEndpointConfig, context: EndpointContext): Pick<Endpoint, 'consumeGroup'> {
  const consumer = config.consumer && config.consumer.enabled !== false ? config.consumer : undefined;
  return {
    consumeGroup(options) {
      if (!consumer) return Promise.reject(new GatewayError('ENDPOINT_NOT_SUBSCRIBING', 405, 'This API does not subscribe to RabbitMQ.', 1008));
      const queue = consumer.queue ?? options.group;
      const binding = consumer.queue === undefined ? { exchange: consumer.exchange!, key: wildcardReferences(consumer.bindingKey ?? '#', '*') } : undefined;
      return consumeGroup(config, context, queue, binding, options);
    },
  };
}

async function consumeGroup(
  config: RabbitmqEndpointConfig,
  context: EndpointContext,
  queue: string,
  binding: { exchange: string; key: string } | undefined,
  options: GroupConsumeOptions,
): Promise<void> {
  const logger = log.child({ endpoint: 'rabbitmq', api: context.apiId, role: 'group', queue });
  const connection = rabbitConnection(connectOptions(config, context), logger);
  const stopping = new AbortController();
  const stop = () => stopping.abort();
  options.signal.addEventListener('abort', stop, { once: true });
  if (options.signal.aborted) stop();
  let failure: { error: unknown } | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  // Dead letters go through the endpoint's publisher on this connection: the same blocked-connection
  // check, pending-confirm bounds (count and bytes), confirm deadline and 404/403 errors as a POST.
  const publisher = rabbitPublisher(connection);
  const deadLetter = (routingKey: string) => async (message: PublishMessage): Promise<void> => {
    const exchange = options.deadLetterTopic;
    if (exchange === undefined) throw new GatewayError('DEAD_LETTER_UNSUPPORTED', 500, 'No dead-letter exchange is configured.');
    await publisher.publish(exchange, routingKey, message, true);
  };

  const handle = (channel: Channel) => (delivery: ConsumeMessage | null) => {
    if (delivery === null) {
      options.onStatus?.({ connected: false, detail: `the RabbitMQ broker cancelled the consumer of ${queue} (queue deleted?)` });
      return;
    }
    const previous = inFlight;
    inFlight = (async () => {
      await previous;
      if (stopping.signal.aborted && options.commit === 'after') return void nack(channel, delivery);
      const message = toMessage(String(delivery.fields.deliveryTag), delivery);
      const delivery_: GroupDelivery = { yielding: stopping.signal, deadLetter: deadLetter(delivery.fields.routingKey) };
      if (options.commit === 'before') ack(channel, delivery);
      try {
        const delivered = await options.deliver(message, delivery_);
        if (options.commit === 'after') (delivered ? ack : nack)(channel, delivery);
      } catch (error) {
        if (options.commit === 'after') nack(channel, delivery);
        failure ??= { error };
        stop();
      }
    })();
  };

  connection.onConnected((model) => {
    model.once('close', () => stopping.signal.aborted || options.onStatus?.({ connected: false, detail: connection.health().detail ?? 'RabbitMQ connection lost' }));
    void (async () => {
      const channel = await model.createChannel();
      channel.on('error', (error: Error) => options.onStatus?.({ connected: false, detail: `RabbitMQ closed the channel: ${error.message}` }));
      await channel.prefetch(1);
      if (binding) {
        await channel.assertQueue(queue, { durable: true, exclusive: false, autoDelete: false });
        await channel.bindQueue(queue, binding.exchange, binding.key);
      }
      await channel.consume(queue, handle(channel), { noAck: false });
      options.onStatus?.({ connected: true, assignment: queue });
    })().catch((error: Error) => options.onStatus?.({ connected: false, detail: `RabbitMQ consume of ${queue} failed: ${error.message}` }));
  });

  try {
    if (!stopping.signal.aborted) {
      await connection.start();
      if (!connection.current()) options.onStatus?.({ connected: false, detail: connection.health().detail ?? 'not connected' });
      await new Promise<void>((resolve) => (stopping.signal.aborted ? resolve() : stopping.signal.addEventListener('abort', () => resolve(), { once: true })));
    }
    await inFlight;
  } finally {
    options.signal.removeEventListener('abort', stop);
    await connection.stop();
    logger.debug('webhook RabbitMQ consumer stopped');
  }
  if (failure) throw failure.error;
}

/** Acks on a channel that closed meanwhile are moot: the broker requeued the message already. */
function ack(channel: Channel, delivery: ConsumeMessage): void {
  try {
    channel.ack(delivery);
  } catch {
    /* channel gone: redelivered */
  }
}

function nack(channel: Channel, delivery: ConsumeMessage): void {
  try {
    channel.nack(delivery, false, true);
  } catch {
    /* channel gone: redelivered */
  }
}
