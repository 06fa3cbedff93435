/**
 * Webhook dead letters: a subscription's `deadLetter.topic` is published on the API's subscribing
 * endpoint (the first endpoint that subscribes, as the runtime picks it), on the same broker. Only
 * a broker endpoint (kafka, mqtt; rabbitmq: to the exchange it names) can produce to a topic; on any other (the mock) every dead letter
 * would fail at runtime, so it is an error here (WEBHOOK_DEAD_LETTER_UNSUPPORTED) at the topic.
 */
import { diagnosticAt, type Diagnostic } from '../diagnostic.ts';
import type { ApiModel } from './model.ts';
import { subscribes } from './endpoints.ts';

/** Endpoint types whose group consumer can publish a dead letter to a topic of its broker. */
const PRODUCES_TO_TOPIC: ReadonlySet<string> = new Set(['kafka', 'mqtt', 'rabbitmq', 'nats']);

export function checkDeadLetters(model: ApiModel): Diagnostic[] {
  const subscriber = model.api?.value.endpoints.find(subscribes);
  if (!subscriber || PRODUCES_TO_TOPIC.has(subscriber.type)) return [];
  const out: Diagnostic[] = [];
  for (const { file, value } of model.subscriptions.values()) {
    const topic = value.webhook?.deadLetter?.topic;
    if (topic === undefined) continue;
    out.push(
      diagnosticAt(
        file,
        '/webhook/deadLetter/topic',
        'WEBHOOK_DEAD_LETTER_UNSUPPORTED',
        `deadLetter.topic "${topic}" cannot be used: the API's subscribing endpoint is ${subscriber.type}, which cannot produce to a topic (dead letters need a kafka, mqtt or rabbitmq endpoint); remove "deadLetter" (a refused message then halts the subscription in state failure) or subscribe through kafka, mqtt or rabbitmq`,
      ),
    );
  }
  return out;
}
