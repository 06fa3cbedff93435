/**
 * AMQP messages to and from Sluice messages. AMQP headers are message headers (a value that is
 * not a string is written as text: numbers and booleans as such, bytes as UTF-8, tables and
 * arrays as JSON). Metadata: exchange, routingKey, redelivered and each AMQP property the
 * publisher set (contentType, contentEncoding, correlationId, messageId, type, appId, userId,
 * replyTo, expiration, priority, deliveryMode, timestamp in ms). Publishing maps those property
 * names from a message's metadata back to AMQP properties.
 */
import type { ConsumeMessage, Options } from 'amqplib';
import type { Message, PublishMessage } from '../../../core/message.ts';

const TEXT_PROPERTIES = ['contentType', 'contentEncoding', 'correlationId', 'messageId', 'type', 'appId', 'userId', 'replyTo', 'expiration'] as const;
const NUMBER_PROPERTIES = ['priority', 'deliveryMode'] as const;

export function toMessage(id: string, delivery: ConsumeMessage): Message {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(delivery.properties.headers ?? {})) {
    const text = headerText(value);
    if (text !== undefined) headers[name] = text;
  }
  const metadata: Record<string, string | number | boolean | null> = {
    exchange: delivery.fields.exchange,
    routingKey: delivery.fields.routingKey,
    redelivered: delivery.fields.redelivered,
  };
  const properties = delivery.properties as unknown as Record<string, unknown>;
  for (const name of TEXT_PROPERTIES) if (typeof properties[name] === 'string') metadata[name] = properties[name] as string;
  for (const name of NUMBER_PROPERTIES) if (typeof properties[name] === 'number') metadata[name] = properties[name] as number;
  // AMQP timestamps are seconds.
  const timestamp = typeof properties.timestamp === 'number' ? properties.timestamp * 1000 : undefined;
  if (timestamp !== undefined) metadata.timestamp = timestamp;
  return Object.freeze({ id, content: delivery.content, headers: Object.freeze(headers), metadata: Object.freeze(metadata), timestamp: timestamp ?? Date.now() });
}

/** AMQP publish options for a message: its headers, the AMQP properties named in its metadata, persistence. */
export function publishOptions(message: PublishMessage, persistent: boolean): Options.Publish {
  const options: Record<string, unknown> = { headers: { ...message.headers }, persistent, timestamp: Math.floor(Date.now() / 1000) };
  for (const name of TEXT_PROPERTIES) if (typeof message.metadata[name] === 'string') options[name] = message.metadata[name];
  if (typeof message.metadata.priority === 'number') options.priority = message.metadata.priority;
  return options as Options.Publish;
}

function headerText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
