/**
 * The dead letter of a message a callback refused (4xx) or that ran out of attempts: the message
 * as it was POSTed (content and headers, the record key kept for partitioning) plus headers that
 * say whose it was and why:
 *
 *   x-sluice-api, x-sluice-subscription, x-sluice-plan, x-sluice-error, x-sluice-attempts,
 *   x-sluice-status (when the callback answered), x-sluice-message-id,
 *   x-sluice-source-topic / -partition / -offset (when the broker gave them).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Message, PublishMessage } from '../../../core/message.ts';
import type { GroupDelivery } from '../../endpoints/endpoint.ts';
import { backoffDelay, type AttemptFailure, type RetryPolicy } from './attempts.ts';

export interface DeadLetterReason {
  readonly api: string;
  readonly subscription: string;
  readonly plan: string;
  readonly failure: AttemptFailure;
  readonly attempts: number;
}

/** Header values are bounded: an error text is a line, not a document. */
const MAX_ERROR_LENGTH = 1_000;

export function deadLetterMessage(message: Message, reason: DeadLetterReason): PublishMessage {
  const headers: Record<string, string> = {
    ...message.headers,
    'x-sluice-api': reason.api,
    'x-sluice-subscription': reason.subscription,
    'x-sluice-plan': reason.plan,
    'x-sluice-error': reason.failure.error.slice(0, MAX_ERROR_LENGTH),
    'x-sluice-attempts': String(reason.attempts),
    'x-sluice-message-id': message.id,
  };
  if (reason.failure.status !== undefined) headers['x-sluice-status'] = String(reason.failure.status);
  const { topic, partition, offset } = message.metadata;
  if (topic !== undefined && topic !== null) headers['x-sluice-source-topic'] = String(topic);
  if (partition !== undefined && partition !== null) headers['x-sluice-source-partition'] = String(partition);
  if (offset !== undefined && offset !== null) headers['x-sluice-source-offset'] = String(offset);
  return { content: message.content, headers, metadata: { key: message.metadata.key ?? null } };
}

export interface DeadLetterHooks {
  /** A publish failed (it is retried after the backoff). */
  failed(error: Error): void;
  /** +1 while waiting to retry, -1 once done waiting (the subscription's `retrying` state). */
  waiting(delta: 1 | -1): void;
  /** Publishes one try (default: `delivery.deadLetter`); traced subscriptions wrap it in a PRODUCER span. */
  publish?(letter: PublishMessage): Promise<void>;
}

/**
 * Publishes `letter` through `delivery`, retrying a failed publish with `policy`'s exponential
 * backoff; true once the broker acknowledged it, false when the message was given back meanwhile.
 */
export async function publishDeadLetter(letter: PublishMessage, delivery: GroupDelivery, policy: RetryPolicy, hooks: DeadLetterHooks): Promise<boolean> {
  const publish = hooks.publish ?? ((message: PublishMessage) => delivery.deadLetter(message));
  for (let n = 1; ; n++) {
    try {
      await publish(letter);
      return true;
    } catch (error) {
      hooks.failed(error as Error);
      if (delivery.yielding.aborted) return false;
      hooks.waiting(1);
      try {
        await sleep(backoffDelay({ ...policy, strategy: 'exponential' }, n), undefined, { signal: delivery.yielding });
      } catch {
        return false;
      } finally {
        hooks.waiting(-1);
      }
    }
  }
}
