/**
 * Publishing with publisher confirms: one confirm channel per connection, opened on first use.
 * `publish` resolves once the broker confirmed the message (basic.ack), so an HTTP POST answers
 * 202 only for a message the broker took responsibility for. Errors:
 * - no connection, a closed channel, no confirm within 10 s, the broker blocking publishers
 *   (resource alarm), more than 10 000 messages or 64 MiB awaiting confirms: 503 ENDPOINT_UNAVAILABLE;
 * - a nack (basic.nack: the broker could not take it): 502 BROKER_REFUSED;
 * - an exchange that does not exist or may not be written (channel closed 404 / 403): 502 BROKER_REFUSED.
 */
import type { ConfirmChannel } from 'amqplib';
import type { PublishMessage } from '../../../core/message.ts';
import { GatewayError, errors } from '../../../core/errors.ts';
import type { RabbitConnection } from './connection.ts';
import { publishOptions } from './message.ts';
import { withDeadline } from '../deadline.ts';

const CONFIRM_TIMEOUT_MS = 10_000;
const MAX_PENDING = 10_000;
const MAX_PENDING_BYTES = 64 * 1024 * 1024;

export interface RabbitPublisher {
  publish(exchange: string, routingKey: string, message: PublishMessage, persistent: boolean): Promise<void>;
}

export function rabbitPublisher(connection: RabbitConnection): RabbitPublisher {
  let channel: Promise<ConfirmChannel> | undefined;
  /** Why the broker closed the publishing channel last (its reply code and text). */
  let channelError: { code?: number; message: string } | undefined;
  let pending = 0;
  let pendingBytes = 0;

  const open = (): Promise<ConfirmChannel> => {
    const model = connection.current();
    if (!model) return Promise.reject(errors.endpointUnavailable('the RabbitMQ broker is unreachable'));
    channelError = undefined;
    const opening = model.createConfirmChannel().then((ch) => {
      ch.on('error', (error: Error & { code?: number }) => (channelError = { ...(error.code !== undefined ? { code: error.code } : {}), message: error.message }));
      ch.on('close', () => {
        if (channel === opening) channel = undefined;
      });
      return ch;
    });
    opening.catch(() => {
      if (channel === opening) channel = undefined;
    });
    return opening;
  };

  return {
    async publish(exchange, routingKey, message, persistent) {
      const blocked = connection.blocked();
      if (blocked) throw errors.endpointUnavailable(`the RabbitMQ broker blocks publishing (${blocked})`);
      if (pending >= MAX_PENDING || pendingBytes + message.content.length > MAX_PENDING_BYTES) {
        throw errors.endpointUnavailable('too many messages await the RabbitMQ broker\'s confirms');
      }
      channel ??= open();
      let ch: ConfirmChannel;
      try {
        ch = await channel;
      } catch (error) {
        throw error instanceof GatewayError ? error : errors.endpointUnavailable(`cannot open a RabbitMQ channel: ${(error as Error).message}`);
      }
      pending++;
      pendingBytes += message.content.length;
      try {
        await withDeadline(new Promise<void>((resolve, reject) => {
          try {
            ch.publish(exchange, routingKey, message.content, publishOptions(message, persistent), (error: unknown) => (error ? reject(refusal(error, exchange)) : resolve()));
          } catch (error) {
            // A closed channel or an oversized header table throws synchronously.
            reject(error instanceof RangeError ? new GatewayError('BROKER_REFUSED', 502, `RabbitMQ cannot take the message: ${error.message}.`, 1011) : errors.endpointUnavailable(`the RabbitMQ publish failed: ${(error as Error).message}`));
          }
        }), CONFIRM_TIMEOUT_MS, () => errors.endpointUnavailable(`the RabbitMQ broker did not confirm within ${CONFIRM_TIMEOUT_MS} ms`));
      } finally {
        pending--;
        pendingBytes -= message.content.length;
      }
    },
  };

  function refusal(error: unknown, exchange: string): GatewayError {
    const closed = channelError;
    if (closed?.code === 404) return new GatewayError('BROKER_REFUSED', 502, `RabbitMQ refused the message: the exchange "${exchange}" does not exist.`, 1011);
    if (closed?.code === 403) return new GatewayError('BROKER_REFUSED', 502, `RabbitMQ refused the message: publishing to "${exchange}" is not permitted.`, 1011);
    if (closed || !connection.current()) return errors.endpointUnavailable(`the RabbitMQ channel closed before the confirm${closed ? ` (${closed.message})` : ''}`);
    if (error instanceof Error && /nack/i.test(error.message)) return new GatewayError('BROKER_REFUSED', 502, 'RabbitMQ refused the message (nack).', 1011);
    return errors.endpointUnavailable(`the RabbitMQ publish failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
