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

/**
 * A topic-exchange pattern compiled once (per client channel): `*` is exactly one word, `#` zero or
 * more words. A key is matched by walking its words once while keeping the set of pattern
 * positions reached so far (no backtracking): at most one step per pattern word per key word, so
 * linear in the key's length whatever the pattern (`#.#.#.x`, `#.a.#.a.x` included). The two
 * position sets are the matcher's own and reused; matching is synchronous, so never shared.
 */
export function compileRoutingPattern(pattern: string): (key: string) => boolean {
  // `#.#` matches what `#` does: a run of them is one.
  const words = pattern.split('.').filter((word, i, all) => word !== '#' || all[i - 1] !== '#');
  const n = words.length;
  let reached = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  /** A `#` may match no word: a position before one also reaches the position after it. */
  const skipHashes = (set: Uint8Array) => {
    for (let i = 0; i < n; i++) if (set[i] === 1 && words[i] === '#') set[i + 1] = 1;
  };
  return (key) => {
    reached.fill(0);
    reached[0] = 1;
    skipHashes(reached);
    for (let start = 0; ; ) {
      const dot = key.indexOf('.', start);
      const end = dot < 0 ? key.length : dot;
      next.fill(0);
      let alive = false;
      for (let i = 0; i < n; i++) {
        if (reached[i] !== 1) continue;
        const word = words[i]!;
        if (word === '#') next[i] = 1;
        else if (word === '*' || (word.length === end - start && key.startsWith(word, start))) next[i + 1] = 1;
        else continue;
        alive = true;
      }
      if (!alive) return false;
      skipHashes(next);
      const swap = reached;
      reached = next;
      next = swap;
      if (dot < 0) return reached[n] === 1;
      start = dot + 1;
    }
  };
}

/** A client's channel on a binding key template (a template without parameters accepts everything). */
export function rabbitmqChannel(template: string | undefined, params: ChannelParams): EndpointChannel {
  if (template === undefined || referencedParameters(template).length === 0) return { accepts: () => true };
  const pattern = expandReferences(template, (name) => params[name] ?? '*');
  if (!pattern.includes('*') && !pattern.includes('#')) return { accepts: (message: Message) => message.metadata.routingKey === pattern };
  const matches = compileRoutingPattern(pattern);
  return { accepts: (message: Message) => typeof message.metadata.routingKey === 'string' && matches(message.metadata.routingKey) };
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
