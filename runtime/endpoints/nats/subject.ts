/**
 * NATS subjects and channels: a consumer subject template `telemetry.{tenant}.>` is subscribed once
 * per API and instance as `telemetry.*.>` (each parameter one token, `*`); each client then keeps
 * the messages whose subject matches the template with its own values (`accepts`). A producer
 * subject template is expanded with the publishing caller's values. Values may not contain `.`,
 * `*`, `>` or whitespace (refused as INVALID_CHANNEL before this runs), so an expansion is one token.
 */
import type { ChannelParams, EndpointChannel } from '../endpoint.ts';
import type { Message } from '../../../core/message.ts';
import { expandReferences, referencedParameters } from '../../../core/channel.ts';
import { errors } from '../../../core/errors.ts';

export const NATS_FORBIDDEN = Object.freeze(['.', '*', '>', ' ', '\t']);

/** NATS subject matching: `*` one token, `>` one or more trailing tokens. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== '*' && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}

/** A client's channel on a consumer subject template (a template without parameters accepts everything). */
export function natsChannel(template: string, params: ChannelParams): EndpointChannel {
  if (referencedParameters(template).length === 0) return { accepts: () => true };
  const filter = expandReferences(template, (name) => params[name] ?? '*');
  if (!filter.split('.').some((token) => token === '*' || token === '>')) return { accepts: (message: Message) => message.metadata.subject === filter };
  return { accepts: (message: Message) => typeof message.metadata.subject === 'string' && subjectMatches(filter, message.metadata.subject) };
}

/** The subject a caller publishes to: the producer template with its values. */
export function publishSubject(template: string, params: ChannelParams | undefined): string {
  return expandReferences(template, (name) => {
    const value = params?.[name];
    if (value === undefined) throw errors.invalidChannel(`the producer subject needs the channel parameter ${name}, which this request does not carry`);
    return value;
  });
}

