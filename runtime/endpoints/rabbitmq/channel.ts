/**
 * RabbitMQ channels: a binding key template `orders.{region}.*` is bound once per API and
 * instance as `orders.*.*` (each parameter one word); each client then keeps the messages whose
 * routing key matches the template with its own values (`accepts`, topic-exchange rules). The
 * routing key template of the producer is compiled once: its `{header.x}` / `{metadata.x}` /
 * `{$.path}` placeholders per message, the publishing caller's channel values put in last (a value
 * is never read as a template, whatever braces it holds). Values may not contain
 * `.`, `*` or `#` (refused as INVALID_CHANNEL before this runs), so a value is one exact word.
 */
import type { ChannelParams, EndpointChannel } from '../endpoint.ts';
import type { Message, PublishMessage } from '../../../core/message.ts';
import { expandReferences, referencedParameters } from '../../../core/channel.ts';
import { errors } from '../../../core/errors.ts';
import { compileParameterTemplate } from '../message-template.ts';

export const RABBITMQ_FORBIDDEN = Object.freeze(['.', '*', '#']);

/** The binding key on the broker: every `{name}` becomes `*`. */
export const wildcardBinding = (template: string): string => expandReferences(template, () => '*');

/** Topic exchange matching: `*` is exactly one word, `#` zero or more words. */
export function routingKeyMatches(pattern: string, key: string): boolean {
  const p = pattern.split('.');
  const k = key.split('.');
  // reachable[j]: the pattern so far can match the first j words of the key.
  let reachable = new Array<boolean>(k.length + 1).fill(false);
  reachable[0] = true;
  for (const word of p) {
    const next = new Array<boolean>(k.length + 1).fill(false);
    for (let j = 0; j <= k.length; j++) {
      if (!reachable[j]) continue;
      if (word === '#') for (let m = j; m <= k.length; m++) next[m] = true;
      else if (j < k.length && (word === '*' || word === k[j])) next[j + 1] = true;
    }
    reachable = next;
  }
  return reachable[k.length] === true;
}

/** A client's channel on a binding key template (a template without parameters accepts everything). */
export function rabbitmqChannel(template: string | undefined, params: ChannelParams): EndpointChannel {
  if (template === undefined || referencedParameters(template).length === 0) return { accepts: () => true };
  const pattern = expandReferences(template, (name) => params[name] ?? '*');
  if (!pattern.includes('*') && !pattern.includes('#')) return { accepts: (message: Message) => message.metadata.routingKey === pattern };
  return { accepts: (message: Message) => typeof message.metadata.routingKey === 'string' && routingKeyMatches(pattern, message.metadata.routingKey) };
}

/** The routing key of a published message: per-message placeholders, and the channel parameters' values as they are. */
export function routingKeys(template: string): (message: PublishMessage, params: ChannelParams | undefined) => string {
  const key = compileParameterTemplate(template);
  return (message, params) =>
    key(message, (name) => {
      const value = params?.[name];
      if (value === undefined) throw errors.invalidChannel(`the routing key needs the channel parameter ${name}, which this request does not carry`);
      return value;
    }) ?? '';
}
