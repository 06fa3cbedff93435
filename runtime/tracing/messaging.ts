/**
 * Spans of messages (OTel messaging semantic conventions) and of webhook callbacks (HTTP client):
 *
 * - `send <topic>` PRODUCER, per message published to a broker, child of the client's SERVER span;
 *   its traceparent goes into the message headers (Kafka record headers, MQTT 5 user properties).
 *   A webhook's dead letter too (each publish of it), child of the message's process span.
 * - `process <topic>` CONSUMER, per message a webhook subscription handles, child of the
 *   message's traceparent (the producer's span) when it carries one.
 * - `deliver <topic>` CONSUMER, per traced message handed to the clients of a shared
 *   subscription: one span for all of them (`sluice.clients`), only for messages that carry a
 *   traceparent (it continues a trace, never starts one).
 * - `POST` CLIENT, per webhook attempt, child of the process span; its traceparent is sent to
 *   the callback.
 *
 * messaging.system is the endpoint's type (`kafka`, `mqtt`, `mock`).
 */
import type { Message, PublishMessage } from '../../core/message.ts';
import { GatewayError } from '../../core/errors.ts';
import type { TraceSpan, Tracing } from './tracing.ts';

/** A message with this span's traceparent (and tracestate) in its headers, replacing any it had. */
export function withTraceHeaders<M extends { readonly headers: Readonly<Record<string, string>> }>(message: M, span: TraceSpan): M {
  return { ...message, headers: { ...message.headers, ...span.headers() } };
}

export function producerSpan(tracing: Tracing, system: string, destination: string | undefined, apiId: string, bodySize: number, parent: TraceSpan | undefined): TraceSpan {
  return tracing.start(destination ? `send ${destination}` : 'send', 'producer', {
    'messaging.system': system,
    'messaging.operation.type': 'send',
    'messaging.operation.name': 'send',
    'messaging.destination.name': destination,
    'messaging.message.body.size': bodySize,
    'sluice.api': apiId,
  }, parent);
}

/** `publish` of a message in a PRODUCER span (child of `parent`), the message carrying the span's traceparent; a rejection fails the span with its code. */
export async function publishInProducerSpan(
  tracing: Tracing,
  target: { readonly system: string; readonly destination: string | undefined; readonly apiId: string },
  message: PublishMessage,
  parent: TraceSpan | undefined,
  publish: (message: PublishMessage) => Promise<void>,
): Promise<void> {
  const span = producerSpan(tracing, target.system, target.destination, target.apiId, message.content.length, parent);
  try {
    await publish(withTraceHeaders(message, span));
  } catch (error) {
    span.fail(error instanceof GatewayError ? error.code : 'INTERNAL');
    throw error;
  } finally {
    span.end();
  }
}

/** Attributes of a consumed message: destination, partition, id. */
function consumed(system: string, operation: string, message: Message, apiId: string): Record<string, string | number | undefined> {
  const { topic, partition } = message.metadata;
  return {
    'messaging.system': system,
    'messaging.operation.type': 'process',
    'messaging.operation.name': operation,
    'messaging.destination.name': typeof topic === 'string' ? topic : undefined,
    'messaging.destination.partition.id': typeof partition === 'number' ? String(partition) : undefined,
    'messaging.message.id': message.id,
    'messaging.message.body.size': message.content.length,
    'sluice.api': apiId,
  };
}

function named(operation: string, message: Message): string {
  const topic = message.metadata.topic;
  return typeof topic === 'string' ? `${operation} ${topic}` : operation;
}

/** A webhook subscription handling one message. */
export function processSpan(tracing: Tracing, system: string, message: Message, apiId: string, group: string, subscription: string): TraceSpan {
  return tracing.start(named('process', message), 'consumer', {
    ...consumed(system, 'process', message, apiId),
    'messaging.consumer.group.name': group,
    'sluice.subscription': subscription,
  }, message.headers);
}

/** One message handed to `clients` clients of a shared subscription; undefined when the message carries no trace. */
export function deliverSpan(tracing: Tracing, system: string, message: Message, apiId: string, clients: number): TraceSpan | undefined {
  if (!tracing.carries(message.headers)) return undefined;
  return tracing.start(named('deliver', message), 'consumer', { ...consumed(system, 'deliver', message, apiId), 'sluice.clients': clients }, message.headers);
}

/** One webhook attempt (`attempt` from 1) to `target` (origin and path, never the query). */
export function callbackSpan(tracing: Tracing, parent: TraceSpan, target: string, attempt: number): TraceSpan {
  let url: URL | undefined;
  try {
    url = new URL(target);
  } catch {
    url = undefined;
  }
  return tracing.start('POST', 'client', {
    'http.request.method': 'POST',
    'url.full': target,
    'server.address': url?.hostname,
    'server.port': url ? Number(url.port || (url.protocol === 'https:' ? 443 : 80)) : undefined,
    'http.request.resend_count': attempt > 1 ? attempt - 1 : undefined,
  }, parent);
}

/** Ends an attempt's span with its answer (status, or the transport error's code). */
export function endCallbackSpan(span: TraceSpan, result: { readonly status?: number; readonly code?: string }): void {
  if (result.status !== undefined) {
    span.set({ 'http.response.status_code': result.status });
    if (result.status >= 400) span.fail(String(result.status));
  } else if (result.code) {
    span.fail(result.code);
  }
  span.end();
}
