/**
 * MQTT channels: a consumer topic template `sensors/readings/{deviceId}` is subscribed once per API
 * and instance as `sensors/readings/+` (each parameter a single-level wildcard); each client then
 * keeps the messages whose topic matches the template with its own values (`accepts`). A producer
 * topic template is expanded with the publishing caller's values. Values may not contain `+`, `#`
 * or `/` (refused as INVALID_CHANNEL before this runs), so an expansion is one exact level.
 */
import type { ChannelParams, EndpointChannel } from '../endpoint.ts';
import type { Message } from '../../../core/message.ts';
import { expandReferences, referencedParameters } from '../../../core/channel.ts';
import { errors } from '../../../core/errors.ts';

export const MQTT_FORBIDDEN = Object.freeze(['+', '#', '/']);

/** MQTT filter matching (`+` one level, `#` the rest; `$`-topics are not matched by a leading wildcard). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if ((f[0] === '+' || f[0] === '#') && topic.startsWith('$')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** A client's channel on a consumer topic template (a template without parameters accepts everything). */
export function mqttChannel(template: string, params: ChannelParams): EndpointChannel {
  if (referencedParameters(template).length === 0) return { accepts: () => true };
  const filter = expandReferences(template, (name) => params[name] ?? '+');
  // The common case (no wildcard left once expanded) is one string comparison per client and message.
  if (!filter.includes('+') && !filter.includes('#')) return { accepts: (message: Message) => message.metadata.topic === filter, key: filter };
  return { accepts: (message: Message) => typeof message.metadata.topic === 'string' && topicMatches(filter, message.metadata.topic) };
}

/** What EndpointChannel.key is compared with: the message's topic. */
export const topicOf = (message: Message): string | undefined => (typeof message.metadata.topic === 'string' ? message.metadata.topic : undefined);

/** The topic a caller publishes to: the producer template with its values. */
export function publishTopic(template: string, params: ChannelParams | undefined): string {
  return expandReferences(template, (name) => {
    const value = params?.[name];
    if (value === undefined) throw errors.invalidChannel(`the producer topic needs the channel parameter ${name}, which this request does not carry`);
    return value;
  });
}
