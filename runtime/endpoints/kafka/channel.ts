/**
 * Kafka channels: `consumer.match` says which records belong to a client's channel (`{"key":
 * "{tenant}"}`, `{"headers": {"x-tenant": "{tenant}"}}`). The API keeps one consumer per instance;
 * each client keeps the records whose key (metadata.key) and headers (case-insensitive names) equal
 * the template with its values. Publishing on a channel: `producer.key` may use the parameters
 * (`"{tenant}"`), and the match headers are set with the caller's values.
 */
import type { ChannelParams, EndpointChannel } from '../endpoint.ts';
import type { Message, PublishMessage } from '../../../core/message.ts';
import { expandReferences, fitsTemplate, referencedParameters } from '../../../core/channel.ts';
import { errors } from '../../../core/errors.ts';
import { compileParameterTemplate } from '../message-template.ts';

export interface KafkaMatch {
  readonly key?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

const expand = (text: string, params: ChannelParams) => expandReferences(text, (name) => params[name] ?? '');

export function kafkaChannel(match: KafkaMatch | undefined, params: ChannelParams): EndpointChannel {
  const key = match?.key !== undefined ? expand(match.key, params) : undefined;
  const headers = Object.entries(match?.headers ?? {}).map(([name, value]) => [name.toLowerCase(), expand(value, params)] as const);
  if (key === undefined && headers.length === 0) return { accepts: () => true };
  return {
    // Only the key to match: the fanout finds this channel by the record's key.
    ...(key !== undefined && headers.length === 0 ? { key } : {}),
    accepts: (message: Message) => {
      if (key !== undefined && message.metadata.key !== key) return false;
      for (const [name, value] of headers) if (headerOf(message, name) !== value) return false;
      return true;
    },
  };
}

/** What EndpointChannel.key is compared with: the record's key. */
export const recordKeyOf = (message: Message): string | undefined => (typeof message.metadata.key === 'string' ? message.metadata.key : undefined);

function headerOf(message: Message, lowerName: string): string | undefined {
  if (Object.hasOwn(message.headers, lowerName)) return message.headers[lowerName];
  for (const [name, value] of Object.entries(message.headers)) if (name.toLowerCase() === lowerName) return value;
  return undefined;
}

/**
 * The record key for a publish: the `producer.key` template compiled once, with the caller's channel
 * values put in as they are (a missing one is '').
 */
export function channelRecordKey(template: string): (message: PublishMessage, params: ChannelParams) => string | null {
  const key = compileParameterTemplate(template);
  return (message, params) => key(message, (name) => params[name] ?? '');
}

/** Does the key template use channel parameters (then it is expanded per publish)? */
export const usesParameters = (template: string | undefined): boolean => template !== undefined && referencedParameters(template).length > 0;

/** The headers a record published on this channel carries: the message's, plus the match headers with the caller's values. */
export function channelHeaders(match: KafkaMatch | undefined, params: ChannelParams | undefined, headers: Readonly<Record<string, string>>): Record<string, string> {
  if (!params || !match?.headers) return { ...headers };
  const out: Record<string, string> = { ...headers };
  for (const [name, value] of Object.entries(match.headers)) out[name] = expand(value, params);
  return out;
}

/** What Kafka accepts in a topic name. */
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

/**
 * Topics per channel: `consumer.topics` / `producer.topic` naming a parameter (`"telemetry.{tenant}"`)
 * mean one topic per value, so one consumer per channel (Endpoint.channelUpstream). The compiler
 * requires such a parameter to have a pattern or values (CHANNEL_TOPIC_UNBOUNDED).
 */
export interface TopicTemplates {
  /** Do the consumer topics use parameters (one upstream per channel)? */
  readonly perChannel: boolean;
  /** The consumer topics of a channel; throws INVALID_CHANNEL when a value makes no valid topic name. */
  consumerTopics(params: ChannelParams | undefined): string[];
  /** The producer topic for a caller's channel (the template itself when it has no parameter). */
  producerTopic(params: ChannelParams | undefined): string;
  /** Is `topic` one of the consumer topics, for some value (a cursor of this API)? */
  ours(topic: string): boolean;
}

export function topicTemplates(consumerTopics: readonly string[], producerTopic: string | undefined): TopicTemplates {
  const perChannel = consumerTopics.some((topic) => usesParameters(topic));
  const name = (template: string, params: ChannelParams | undefined): string => {
    if (!usesParameters(template)) return template;
    if (!params) throw errors.invalidChannel(`the topic ${template} needs the channel parameters ${referencedParameters(template).join(', ')}: ask for the channel's path`);
    const topic = expand(template, params);
    if (!TOPIC_NAME.test(topic)) throw errors.invalidChannel(`the channel parameters make "${topic}", which is not a Kafka topic name (letters, digits, ".", "_", "-")`);
    return topic;
  };
  return {
    perChannel,
    consumerTopics: (params) => consumerTopics.map((template) => name(template, params)),
    producerTopic: (params) => name(producerTopic ?? '', params),
    ours: (topic) => consumerTopics.some((template) => fitsTemplate(template, topic)),
  };
}

/**
 * Group consumers (webhooks) read every channel: the consumer topics as one RE2 pattern, each
 * parameter standing for a topic-name run (`telemetry\.[A-Za-z0-9._-]+`). Undefined without parameters.
 */
export function everyChannelPattern(consumerTopics: readonly string[]): string | undefined {
  if (!consumerTopics.some((topic) => usesParameters(topic))) return undefined;
  const escape = (literal: string) => literal.replace(/[\\^$.*+?()[\]{}|-]/g, '\\$&');
  const one = (topic: string) => topic.split(/\{[A-Za-z_][A-Za-z0-9_]*\}/).map(escape).join('[A-Za-z0-9._-]+');
  return `^(?:${consumerTopics.map(one).join('|')})$`;
}
