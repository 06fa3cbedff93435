/**
 * The publish path of an exchange (runtime/exchange.ts): a client's message through rate limit,
 * publish flow and endpoint, counted on the caller's tally, in a PRODUCER span when tracing is on.
 */
import type { Endpoint } from './endpoints/endpoint.ts';
import type { Caller } from './plans/plan.ts';
import type { PublishMessage } from '../core/message.ts';
import type { Flow } from '../core/policies/flow.ts';
import type { Connections } from './connections.ts';
import type { Tally, Telemetry } from './metrics/telemetry.ts';
import type { Tracing, TraceSpan } from './tracing/tracing.ts';
import { errors } from '../core/errors.ts';
import { message as makeMessage } from '../core/message.ts';
import { publishInProducerSpan } from './tracing/messaging.ts';

/** What an exchange's publishes go through (bound once, when the exchange is built). */
export interface PublishPath {
  readonly apiId: string;
  readonly endpoint: Endpoint | undefined;
  readonly flow: Flow;
  readonly telemetry: Telemetry;
  readonly tracing: Tracing | null;
  /** Where the caller's request span is (the parent of the PRODUCER span). */
  readonly connections: Connections;
  /** The rate limits of the caller's plan for one publish (429 GatewayError when over). */
  admit(caller: Caller): Promise<unknown>;
}

/**
 * A client's message: rate limit, publish flow (may throw 400/413, may drop: resolves false), endpoint.
 * `admitted`: the request that carries this one message was already counted (HTTP POST), so it
 * does not count twice.
 */
export async function publishMessage(path: PublishPath, caller: Caller, tally: Tally, message: PublishMessage, admitted: boolean): Promise<boolean> {
  tally.received(message.content.length);
  try {
    const endpoint = path.endpoint;
    if (!endpoint) throw errors.badRequest('PUBLISH_NOT_SUPPORTED', 'This API does not accept messages from clients.');
    if (!admitted) await path.admit(caller);
    const out = path.flow(makeMessage({ id: '', content: message.content, headers: message.headers, metadata: message.metadata }));
    if (out === null) {
      path.telemetry.emit({ kind: 'dropped', api: path.apiId, reason: 'policy', count: 1 });
      tally.dropped('policy', 1);
      return false;
    }
    const published = { content: out.content, headers: out.headers, metadata: out.metadata };
    const tracing = path.tracing;
    if (tracing) await tracedPublish(tracing, path.apiId, endpoint, published, path.connections.of(caller)?.span, caller.channel?.request.params);
    else await endpoint.publish(published, caller.channel?.request.params);
    path.telemetry.emit({ kind: 'message', api: path.apiId, direction: 'publish' });
    return true;
  } catch (error) {
    tally.failed(error);
    throw error;
  }
}

/** A publish in a PRODUCER span (child of the client's request), whose traceparent the message carries to the broker. */
function tracedPublish(tracing: Tracing, apiId: string, endpoint: Endpoint, message: PublishMessage, parent: TraceSpan | undefined, params: Readonly<Record<string, string>> | undefined): Promise<void> {
  return publishInProducerSpan(tracing, { system: endpoint.type, destination: endpoint.publishDestination, apiId }, message, parent, (traced) => endpoint.publish(traced, params));
}
