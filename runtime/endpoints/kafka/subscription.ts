/**
 * One kafkajs consumer as an AsyncIterable of messages.
 *
 * Contract: records arrive in broker order per partition; each becomes one Message whose id is the
 * subscription's cursor after it (see kafka-cursor.ts). The consumer joins `groupId`, never commits
 * offsets (a Sluice subscription's position lives in its clients' cursors), starts every known
 * partition at `start` (next offset to read) and every other partition at its beginning. A topic
 * that does not exist yet is waited for (backoff up to 5 s), as any Kafka consumer does. A
 * partition whose end is below the subscription's position (the topic was deleted and created
 * again, or a cursor from before a broker reset) is read from its new beginning, never skipped
 * silently. A bounded buffer gives backpressure: the consumer waits while the reader is `BUFFER`
 * messages behind, and each fetch is bounded (FETCH_MAX_BYTES), so a resuming client that
 * catches up on a long backlog holds little memory.
 * The consumer is released exactly once, when the signal aborts, the reader stops, or the broker
 * goes away; the latter ends the iteration with ENDPOINT_UNAVAILABLE (kafkajs does not restart it:
 * clients reconnect with their cursor once the endpoint is healthy again).
 */
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Message } from '../../../core/message.ts';
import { GatewayError, errors } from '../../../core/errors.ts';
import { log } from '../../log.ts';
import { CursorTracker, type Positions } from './cursor.ts';
import { reportSkipped, undecodable } from './codecs/undecodable.ts';
import type { Telemetry } from '../../metrics/telemetry.ts';

const BUFFER = 256;
const HEARTBEAT_WHILE_WAITING_MS = 1_000;
/** Bytes one fetch may return, in all and per partition (kafkajs defaults: 10 MiB and 1 MiB). */
const FETCH_MAX_BYTES = 1024 * 1024;
const FETCH_MAX_BYTES_PER_PARTITION = 256 * 1024;
/** Waiting for a topic that does not exist yet: 250 ms doubling to 5 s. */
const MISSING_TOPIC_MIN_MS = 250;
const MISSING_TOPIC_MAX_MS = 5_000;
const logger = log.child({ endpoint: 'kafka' });

export interface ConsumePlan {
  readonly kafka: Kafka;
  /** The API this consumer reads for (logs and metrics). */
  readonly apiId: string;
  /** Where skipped batches are reported (the gateway's; absent: only logged). */
  readonly telemetry?: Telemetry | undefined;
  readonly groupId: string;
  readonly topics: readonly string[];
  /** topic -> partition -> last passed offset: reading starts right after it. */
  readonly start: Positions;
  readonly signal: AbortSignal;
  /** Called once when the consumer failed because of the broker (health goes unhealthy). */
  readonly onBrokerFailure: (error: Error) => void;
  /**
   * Consumer lag after each fetched batch: records of the partition not yet handed to the reader
   * (behind the partition end, plus this subscription's buffer). `undefined` once the subscription ended.
   */
  readonly onLag?: (topic: string, partition: number, lag: number | undefined) => void;
}

export async function* consume(plan: ConsumePlan): AsyncGenerator<Message> {
  const { kafka, groupId, topics, start, signal } = plan;
  const consumer: Consumer = kafka.consumer({
    groupId,
    allowAutoTopicCreation: true, // the broker decides (auto.create.topics.enable), as for any consumer
    sessionTimeout: 10_000,
    rebalanceTimeout: 10_000,
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: 250,
    maxBytes: FETCH_MAX_BYTES,
    maxBytesPerPartition: FETCH_MAX_BYTES_PER_PARTITION,
    retry: { retries: 4, initialRetryTime: 250, maxRetryTime: 2_000, restartOnFailure: async () => false },
  });
  const tracker = new CursorTracker(start);
  const buffer: Message[] = [];
  let failure: GatewayError | undefined;
  let closed = false;
  let wakeReader: (() => void) | undefined;
  let wakeConsumer: (() => void) | undefined;
  const wake = () => {
    const reader = wakeReader;
    wakeReader = undefined;
    reader?.();
  };
  const close = () => {
    closed = true;
    wake();
    const consumerWaiting = wakeConsumer;
    wakeConsumer = undefined;
    consumerWaiting?.();
  };
  const fail = (error: unknown) => {
    if (closed) return;
    failure = errors.endpointUnavailable('the connection to Kafka was lost');
    plan.onBrokerFailure(error as Error);
    close();
  };
  signal.addEventListener('abort', close, { once: true });
  consumer.on(consumer.events.CRASH, ({ payload }) => fail(payload.error));
  reportFetchBatches(consumer, plan.telemetry, plan.apiId);
  const lagged = new Map<string, [topic: string, partition: number]>();
  if (plan.onLag) {
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      lagged.set(`${payload.topic}:${payload.partition}`, [payload.topic, payload.partition]);
      plan.onLag!(payload.topic, payload.partition, Number(payload.offsetLag) + buffer.length);
    });
  }
  // A partition that restarted below the position (deleted and created again; kafkajs reset the
  // out-of-range fetch to the beginning): its records are new, deliver them from the batch's first.
  consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => {
    const passed = tracker.position(payload.topic, payload.partition);
    if (passed === undefined || payload.firstOffset == null || BigInt(payload.highWatermark) - 1n >= passed) return;
    const from = BigInt(payload.firstOffset);
    logger.warn({ topic: payload.topic, partition: payload.partition, position: String(passed), end: payload.highWatermark, from: String(from) },
      'kafka partition ends below the subscription position (topic created again?): reading it from its new beginning');
    tracker.restart(payload.topic, payload.partition, from - 1n);
  });
  // After any (re)join, every assigned partition continues right after what this subscription
  // passed (offsets are never committed, so without this a partition coming back would restart
  // from its beginning). Seeks recorded here are applied before the generation's first fetch.
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
      for (const partition of partitions) {
        const passed = tracker.position(topic, partition);
        if (passed !== undefined) consumer.seek({ topic, partition, offset: String(passed + 1n) });
      }
    }
  });

  try {
    if (signal.aborted) return;
    await consumer.connect();
    if (closed) return;
    await subscribeWhenTopicsExist(consumer, topics, signal);
    if (closed) return;
    const running = consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 1,
      eachMessage: async ({ topic, partition, message: record, heartbeat }) => {
        if (closed) return;
        const passed = tracker.position(topic, partition);
        if (passed !== undefined && BigInt(record.offset) <= passed) return; // never twice, whatever a rebalance re-fetches
        const skipped = undecodable(record.headers);
        if (skipped !== undefined) {
          // A batch that could not be decoded: its stand-ins all carry its last offset, so this runs once per batch.
          reportSkipped(logger, plan.telemetry, plan.apiId, topic, partition, record.offset, skipped);
          tracker.advance(topic, partition, BigInt(record.offset));
          return;
        }
        buffer.push(recordMessage(tracker.advance(topic, partition, BigInt(record.offset)), topic, partition, record));
        wake();
        // Backpressure: wait for the reader, heartbeating so a slow reader does not cost the group membership.
        while (buffer.length >= BUFFER && !closed) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, HEARTBEAT_WHILE_WAITING_MS);
            wakeConsumer = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          if (!closed) await heartbeat().catch(() => {});
        }
      },
    });
    await running;

    while (true) {
      if (buffer.length > 0) {
        const next = buffer.shift()!;
        if (buffer.length < BUFFER / 2 && wakeConsumer) {
          const resume = wakeConsumer;
          wakeConsumer = undefined;
          resume();
        }
        yield next;
        continue;
      }
      if (closed) break;
      await new Promise<void>((resolve) => (wakeReader = resolve));
    }
    if (failure) throw failure;
  } catch (error) {
    if (signal.aborted && !(error instanceof GatewayError)) return;
    if (error instanceof GatewayError) throw error;
    const type = rootType(error);
    if (type === 'UNKNOWN_TOPIC_OR_PARTITION') throw errors.endpointUnavailable('the Kafka topic does not exist');
    if (type === undefined) plan.onBrokerFailure(error as Error); // a connection problem, not a broker answer
    throw errors.endpointUnavailable('the Kafka consumer could not start');
  } finally {
    for (const [topic, partition] of lagged.values()) plan.onLag?.(topic, partition, undefined);
    signal.removeEventListener('abort', close);
    close();
    await consumer.disconnect().catch(() => {});
  }
}

/**
 * `consumer.subscribe`, retried with backoff while a topic does not exist yet (the broker creates
 * it on the first metadata request when auto.create.topics.enable is on, and answers
 * UNKNOWN_TOPIC_OR_PARTITION until it is ready; without auto-creation until someone creates it).
 * Returns when subscribed or when `signal` aborted.
 */
async function subscribeWhenTopicsExist(consumer: Consumer, topics: readonly string[], signal: AbortSignal): Promise<void> {
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      await consumer.subscribe({ topics: [...topics], fromBeginning: true });
      return;
    } catch (error) {
      const type = rootType(error);
      if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE') throw error;
      if (attempt === 3) logger.warn({ topics }, 'kafka topic does not exist (yet): the subscription waits for it');
      const wait = Math.min(MISSING_TOPIC_MAX_MS, MISSING_TOPIC_MIN_MS * 2 ** attempt);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, wait);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }
}

/** Each fetch batch's record count (kafkajs START_BATCH_PROCESS batchSize) as a `kafka-fetch-batch` event on the gateway's telemetry. */
export function reportFetchBatches(consumer: Consumer, telemetry: Telemetry | undefined, api: string): void {
  if (!telemetry) return;
  consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => telemetry.emit({ kind: 'kafka-fetch-batch', api, messages: payload.batchSize }));
}

/** The Kafka error code at the root of a kafkajs error chain, if the broker answered with one. */
export function rootType(error: unknown): string | undefined {
  let current = error as { cause?: unknown; type?: string } | undefined;
  for (let i = 0; i < 10 && current?.cause; i++) current = current.cause as typeof current;
  return current?.type;
}

/**
 * One record as a Message: headers (values joined with `,` when repeated), metadata topic,
 * partition, offset, key, timestamp; `id` is the caller's (this subscription's cursor, or a group
 * consumer's single-partition one).
 */
export function recordMessage(id: string, topic: string, partition: number, record: KafkaMessage): Message {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(record.headers ?? {})) {
    if (value === undefined) continue;
    headers[name] = Array.isArray(value) ? value.map(String).join(',') : String(value);
  }
  const timestamp = Number(record.timestamp);
  return Object.freeze({
    id,
    content: record.value ?? Buffer.alloc(0),
    headers: Object.freeze(headers),
    metadata: Object.freeze({
      topic,
      partition,
      offset: record.offset,
      key: record.key === null ? null : record.key.toString('utf8'),
      timestamp,
    }),
    timestamp: Number.isFinite(timestamp) ? timestamp : Date.now(),
  });
}
