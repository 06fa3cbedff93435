/**
 * The shared upstream of the subscribe side (`shared: true`): while at least one subscription
 * iterates, ONE consumer per API and runtime instance, on its own channel:
 * - `consumer.exchange`: an exclusive, auto-delete, server-named queue bound to the exchange with
 *   the binding key (channel parameters as `*`), deleted by the broker when the consumer goes;
 * - `consumer.queue`: that queue, whose consumers compete (each message reaches one instance).
 * Messages are acknowledged once handed to every subscription's buffer; the broker keeps at most
 * `prefetch` unacknowledged messages in flight to us. A delivered message larger than
 * `maxMessageBytes` is rejected without requeue. Each subscription buffers at most 10 000
 * messages and 64 MiB (../pushed-messages.ts); beyond that it ends with SLOW_CONSUMER.
 *
 * A lost connection keeps subscriptions open: on reconnection the consumer is set up again
 * (messages published to the exchange meanwhile had no queue of ours and are not seen).
 */
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { randomUUID } from 'node:crypto';
import type { Message } from '../../../core/message.ts';
import { GatewayError, errors } from '../../../core/errors.ts';
import type { Logger } from '../../log.ts';
import type { RabbitConnection } from './connection.ts';
import { toMessage } from './message.ts';
import { PushedMessages } from '../pushed-messages.ts';


export interface FanoutSource {
  readonly queue?: string;
  readonly exchange?: string;
  /** With `exchange`: the broker-side binding key (parameters already wildcards). */
  readonly bindingKey: string;
  readonly prefetch: number;
  readonly maxMessageBytes: number;
  /** Names the exclusive queue: `sluice.<api>.<instance>.<random>`. */
  readonly queuePrefix: string;
}

export interface RabbitFanout {
  subscribe(signal: AbortSignal): AsyncGenerator<Message>;
}

export function rabbitFanout(connection: RabbitConnection, source: FanoutSource, logger: Logger): RabbitFanout {
  const sinks = new Set<PushedMessages>();
  let nextId = 0;
  /** The channel consuming now (undefined: none), and the model it lives on. */
  let consuming: { model: ChannelModel; channel: Promise<Channel | undefined> } | undefined;

  const onDelivery = (channel: Channel) => (delivery: ConsumeMessage | null) => {
    if (delivery === null) {
      // The broker cancelled the consumer (queue deleted): subscriptions end; a new one sets it up again.
      for (const sink of sinks) sink.fail(errors.endpointUnavailable('the RabbitMQ broker cancelled the consumer'));
      consuming = undefined;
      return;
    }
    if (delivery.content.length > source.maxMessageBytes) {
      logger.warn({ bytes: delivery.content.length, limit: source.maxMessageBytes }, 'rabbitmq message larger than consumer.maxMessageBytes rejected');
      channel.reject(delivery, false);
      return;
    }
    const message = toMessage(String(nextId++), delivery);
    for (const sink of sinks) sink.push(message);
    channel.ack(delivery);
  };

  const setUp = (model: ChannelModel): Promise<Channel | undefined> =>
    (async () => {
      const channel = await model.createChannel();
      channel.on('error', (error: Error) => logger.warn({ err: error.message }, 'rabbitmq consumer channel closed by the broker'));
      await channel.prefetch(source.prefetch);
      let queue = source.queue;
      if (queue === undefined) {
        const declared = await channel.assertQueue(`${source.queuePrefix}.${randomUUID().slice(0, 8)}`, { exclusive: true, autoDelete: true, durable: false });
        queue = declared.queue;
        await channel.bindQueue(queue, source.exchange!, source.bindingKey);
      }
      await channel.consume(queue, onDelivery(channel), { noAck: false, exclusive: false });
      logger.debug({ queue }, 'rabbitmq fan-out consumer started');
      return channel;
    })().catch((error: Error & { code?: number }) => {
      const refused = error.code === 404 || error.code === 403;
      const failure = refused
        ? new GatewayError('SUBSCRIPTION_REFUSED', 502, `RabbitMQ refused the subscription: ${error.message}.`, 1011)
        : errors.endpointUnavailable(`the RabbitMQ subscription failed: ${error.message}`);
      for (const sink of sinks) sink.fail(failure);
      if (consuming?.model === model) consuming = undefined;
      return undefined;
    });

  const ensure = (): Promise<Channel | undefined> => {
    const model = connection.current();
    if (!model) return Promise.resolve(undefined);
    if (consuming?.model !== model) consuming = { model, channel: setUp(model) };
    return consuming.channel;
  };

  connection.onConnected(() => {
    if (sinks.size > 0) void ensure();
  });

  const release = () => {
    if (sinks.size > 0 || !consuming) return;
    const { channel } = consuming;
    consuming = undefined;
    // Closing the channel cancels the consumer; the exclusive auto-delete queue goes with it.
    void channel.then((ch) => ch?.close()).catch(() => {});
  };

  return {
    async *subscribe(signal) {
      if (!connection.current()) throw errors.endpointUnavailable('the RabbitMQ broker is unreachable');
      const sink = new PushedMessages('RabbitMQ');
      sinks.add(sink);
      try {
        await ensure();
        yield* sink.drain(signal);
      } finally {
        sinks.delete(sink);
        release();
      }
    },
  };
}
