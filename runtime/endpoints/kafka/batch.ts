/**
 * Micro-batching of the Kafka endpoint's publishes.
 *
 * Contract: `publish(record)` resolves only after the broker acknowledged the send that carried
 * THAT record (per the endpoint's acks), and rejects with the error of that send. One send is in
 * flight at a time; publishes arriving meanwhile wait in a bounded queue and go out together in the
 * next send (at most MAX_BATCH_MESSAGES records / MAX_BATCH_BYTES bytes, so a batch stays far below
 * Kafka's default max.message.bytes). A lone publish is sent at once: no linger, no added latency
 * when idle. Records are sent in call order and a batch is never retried around a later one, so
 * the order per key / partition is the publish order.
 *
 * A send that fails takes every publish of that batch with it (the error is mapped per batch by
 * `fail`), except a refusal (`refused` returns true: the broker is up but rejected the batch, e.g.
 * too large): then each record of a multi-record batch is re-sent alone, so only the offending
 * publishes fail. Beyond MAX_QUEUED_MESSAGES / MAX_QUEUED_BYTES waiting, publish rejects at once
 * with PUBLISH_QUEUE_FULL (503) and nothing is queued.
 */
import type { Message, TopicMessages } from 'kafkajs';

/** A record and the topic it goes to (absent: the endpoint's producer.topic). */
export type KafkaRecord = Message & { readonly topic?: string };
import { GatewayError } from '../../../core/errors.ts';

export const MAX_QUEUED_MESSAGES = 10_000;
export const MAX_QUEUED_BYTES = 16 * 1024 * 1024;
const MAX_BATCH_MESSAGES = 500;
const MAX_BATCH_BYTES = 256 * 1024;

export interface BatchSenderOptions {
  /** One produce request carrying `records` in order; resolves when acknowledged. */
  readonly send: (records: KafkaRecord[]) => Promise<unknown>;
  /** True when the error is the broker refusing the records, not an outage. */
  readonly refused: (error: unknown) => boolean;
  /** Maps a failed send's error to what each of its publishes rejects with (called once per failed send). */
  readonly fail: (error: unknown) => Error;
  readonly maxQueuedMessages?: number;
  readonly maxQueuedBytes?: number;
}

export interface BatchSender {
  publish(record: KafkaRecord, bytes: number): Promise<void>;
  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void>;
}

interface Pending {
  readonly record: KafkaRecord;
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export function batchSender(options: BatchSenderOptions): BatchSender {
  const maxMessages = options.maxQueuedMessages ?? MAX_QUEUED_MESSAGES;
  const maxBytes = options.maxQueuedBytes ?? MAX_QUEUED_BYTES;
  let queue: Pending[] = [];
  let head = 0;
  let queuedBytes = 0;
  let sending = false;
  let idleWaiters: Array<() => void> = [];

  const take = (): Pending[] => {
    const batch: Pending[] = [];
    let bytes = 0;
    while (head < queue.length && batch.length < MAX_BATCH_MESSAGES) {
      const next = queue[head]!;
      if (batch.length > 0 && bytes + next.bytes > MAX_BATCH_BYTES) break;
      batch.push(next);
      bytes += next.bytes;
      head++;
    }
    queuedBytes -= bytes;
    if (head === queue.length) {
      queue = [];
      head = 0;
    } else if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    return batch;
  };

  const sendBatch = async (batch: Pending[]): Promise<void> => {
    try {
      await options.send(batch.map((p) => p.record));
      for (const p of batch) p.resolve();
    } catch (error) {
      if (batch.length > 1 && options.refused(error)) {
        for (const p of batch) await sendBatch([p]); // only the refused records fail
        return;
      }
      const failure = options.fail(error);
      for (const p of batch) p.reject(failure);
    }
  };

  const pump = async (): Promise<void> => {
    sending = true;
    try {
      while (head < queue.length) await sendBatch(take());
    } finally {
      sending = false;
      for (const wake of idleWaiters.splice(0)) wake();
    }
  };

  return {
    publish(record, bytes) {
      if (queue.length - head >= maxMessages || (queuedBytes + bytes > maxBytes && queue.length > head)) {
        return Promise.reject(
          new GatewayError('PUBLISH_QUEUE_FULL', 503, 'The endpoint is unavailable: too many messages wait for Kafka. Retry later.', 1013),
        );
      }
      return new Promise<void>((resolve, reject) => {
        queue.push({ record, bytes, resolve, reject });
        queuedBytes += bytes;
        if (!sending) void pump();
      });
    },
    idle() {
      if (!sending && head === queue.length) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
  };
}

/** Records grouped by topic, each topic's in order, for one produce request (`sendBatch`). */
export function byTopic(records: readonly KafkaRecord[], topicOf: string): TopicMessages[] {
  const topics = new Map<string, Message[]>();
  for (const { topic = topicOf, ...record } of records) {
    const messages = topics.get(topic);
    if (messages) messages.push(record);
    else topics.set(topic, [record]);
  }
  return [...topics].map(([topic, messages]) => ({ topic, messages }));
}
