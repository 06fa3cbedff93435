/**
 * Kafka group consumption for background subscribers (webhooks): `Endpoint.consumeGroup`.
 *
 * One kafkajs consumer in the consumer group `options.group`, shared by every runtime instance
 * that consumes with the same group id, so each partition is delivered by one instance at a time.
 * Contract (see GroupConsumeOptions in endpoint.ts):
 * - messages of one partition are handed over one at a time, in offset order; at most
 *   `concurrency` partitions at once;
 * - `commit: 'after'`: the next offset is committed only once `deliver` resolved true, so a crash or
 *   stop redelivers the message (at-least-once); false seeks back to it (uncommitted);
 * - a partition about to be reassigned (a heartbeat says the group rebalances) makes the
 *   delivery's `yielding` abort, so a long retry gives the message back instead of holding up the
 *   group; the attempt in flight finishes first (at most the callback time-outs);
 * - a group that never committed starts at the end of each partition (`autoOffsetReset: latest`,
 *   the default) or its beginning (`earliest`); that starting position is committed at once, so a
 *   restart before the first delivery does not skip what was produced meanwhile;
 * - the broker down or the consumer crashed: it reconnects with backoff (250 ms doubling to 5 s)
 *   until the signal aborts, reporting `onStatus({connected: false})` meanwhile;
 * - dead letters go through one producer owned by the call, disconnected when it ends;
 * - a fetch returns at most `maxBytes` (or one record batch when a single one is larger), so the
 *   messages held awaiting delivery are bounded in bytes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import type { KafkaEndpoint as KafkaEndpointConfig } from '../../../schemas/types.ts';
import type { Endpoint, EndpointContext, GroupConsumeOptions } from '../endpoint.ts';
import type { PublishMessage } from '../../../core/message.ts';
import { GatewayError, errors } from '../../../core/errors.ts';
import { log } from '../../log.ts';
import { re2RegExp } from '../../../core/regex.ts';
import { everyChannelPattern } from './channel.ts';
import { recordMessage, reportFetchBatches } from './subscription.ts';
import { describe } from './client.ts';
import { reportSkipped, undecodable } from './codecs/undecodable.ts';
import type { Telemetry } from '../../metrics/telemetry.ts';

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5_000;
const HEARTBEAT_TICK_MS = 1_000;
/** Heartbeat answers that mean "this member must rejoin": its partitions may move. */
const REJOIN = new Set(['REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']);

/** The group-consumption part of the kafka endpoint; spread into the endpoint object. */
export function kafkaGroup(kafka: Kafka, config: KafkaEndpointConfig, context: EndpointContext): Pick<Endpoint, 'consumeGroup'> {
  const consumer = config.consumer && config.consumer.enabled !== false ? config.consumer : undefined;
  const logger = log.child({ endpoint: 'kafka', api: context.apiId, role: 'group' });
  return {
    async consumeGroup(options) {
      if (!consumer) throw new GatewayError('ENDPOINT_NOT_SUBSCRIBING', 405, 'This API does not subscribe to Kafka.', 1008);
      // Topics per channel (`telemetry.{tenant}`): a group consumer reads them all.
      const everyChannel = everyChannelPattern(consumer.topics ?? []);
      const topics = consumer.topicPattern ? re2RegExp(consumer.topicPattern) : everyChannel ? re2RegExp(everyChannel) : [...(consumer.topics ?? [])];
      const earliest = consumer.autoOffsetReset === 'earliest';
      let producer: Promise<Producer> | undefined;
      const deadLetter = async (message: PublishMessage): Promise<void> => {
        if (!options.deadLetterTopic) throw new GatewayError('DEAD_LETTER_NOT_CONFIGURED', 500, 'No dead-letter topic is configured.');
        producer ??= connectProducer(kafka);
        try {
          const ready = await producer;
          const key = message.metadata.key;
          await ready.send({
            topic: options.deadLetterTopic,
            acks: -1,
            messages: [{ key: typeof key === 'string' ? key : null, value: message.content, headers: { ...message.headers } }],
          });
        } catch (error) {
          producer = undefined;
          throw errors.endpointUnavailable(`Kafka did not acknowledge the dead letter: ${describe(error)}`);
        }
      };
      let failures = 0;
      try {
        while (!options.signal.aborted) {
          const crashed = await runConsumer(kafka, { ...options, apiId: context.apiId, telemetry: context.telemetry, topics, earliest, deadLetter, logger, onJoined: () => (failures = 0) });
          if (crashed === undefined || options.signal.aborted) break;
          failures++;
          const detail = `Kafka consumer for group ${options.group} stopped: ${describe(crashed)}`;
          // Once per outage, not once per retry: the streak resets when the consumer joins again.
          logger[failures === 1 ? 'warn' : 'debug']({ group: options.group, err: describe(crashed), attempt: failures }, 'webhook consumer failed; reconnecting');
          options.onStatus?.({ connected: false, detail });
          await sleep(Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** Math.min(10, failures - 1)), undefined, { signal: options.signal }).catch(() => {});
        }
      } finally {
        if (producer) await producer.then((p) => p.disconnect(), () => {}).catch(() => {});
      }
    },
  };
}

interface RunOptions extends GroupConsumeOptions {
  readonly topics: string[] | RegExp;
  readonly earliest: boolean;
  readonly apiId: string;
  /** The gateway's telemetry (skipped batches). */
  readonly telemetry: Telemetry | undefined;
  deadLetter(message: PublishMessage): Promise<void>;
  readonly logger: typeof log;
  onJoined(): void;
}

/**
 * One consumer's life. Resolves undefined once stopped by the signal, or with the error that
 * crashed it (the caller reconnects); rejects with what `deliver` rejected with.
 */
async function runConsumer(kafka: Kafka, options: RunOptions): Promise<unknown> {
  const consumer: Consumer = kafka.consumer({
    groupId: options.group,
    // What the consumer holds awaiting delivery is bounded in bytes (fanout.maxQueuedBytes).
    ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes, maxBytesPerPartition: options.maxBytes } : {}),
    sessionTimeout: 10_000,
    rebalanceTimeout: 30_000,
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: 500,
    allowAutoTopicCreation: false,
    retry: { retries: 5, initialRetryTime: 250, maxRetryTime: 2_000, restartOnFailure: async () => false },
  });
  const closing = new AbortController();
  let crashed: unknown;
  let failure: { error: unknown } | undefined;
  /** topic:partition -> last offset of the undecodable batch reported last (its stand-ins repeat it). */
  const skippedBatches = new Map<string, string>();
  let end!: () => void;
  const ended = new Promise<void>((resolve) => (end = resolve));
  const stop = () => {
    closing.abort();
    end();
  };
  options.signal.addEventListener('abort', stop, { once: true });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    crashed ??= payload.error;
    stop();
  });
  reportFetchBatches(consumer, options.telemetry, options.apiId);
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    options.onJoined();
    options.onStatus?.({ connected: true, assignment: describeAssignment(payload.memberAssignment) });
  });

  const commit = async (topic: string, partition: number, offset: string): Promise<boolean> => {
    try {
      await consumer.commitOffsets([{ topic, partition, offset }]);
      return true;
    } catch (error) {
      // Not ours any more (rebalanced) or the coordinator moved: whoever owns it next redelivers from the last commit.
      options.logger.warn({ group: options.group, topic, partition, offset, err: describe(error) }, 'offset commit failed; the message may be delivered again');
      return false;
    }
  };

  /** The next fetch of this partition starts at `offset` again (ignored once the partition is not ours). */
  const seekBack = (topic: string, partition: number, offset: string) => {
    try {
      consumer.seek({ topic, partition, offset });
    } catch (error) {
      options.logger.debug({ group: options.group, topic, partition, err: describe(error) }, 'seek back failed');
    }
  };

  try {
    if (options.signal.aborted) return undefined;
    await consumer.connect();
    await commitStartPositions(kafka, options);
    if (closing.signal.aborted) return crashed;
    await consumer.subscribe({ topics: Array.isArray(options.topics) ? options.topics : [options.topics], fromBeginning: options.earliest });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: Math.max(1, options.concurrency),
      eachMessage: async ({ topic, partition, message: record, heartbeat }) => {
        if (closing.signal.aborted) return; // never committed: the next owner reads it again
        const skipped = undecodable(record.headers);
        if (skipped !== undefined) {
          // Stand-ins of a batch that could not be decoded share its last offset: report the first only.
          if (skippedBatches.get(`${topic}:${partition}`) !== record.offset) reportSkipped(options.logger, options.telemetry, options.apiId, topic, partition, record.offset, skipped);
          skippedBatches.set(`${topic}:${partition}`, record.offset);
          return;
        }
        const next = (BigInt(record.offset) + 1n).toString();
        if (options.commit === 'before' && !(await commit(topic, partition, next))) {
          seekBack(topic, partition, record.offset);
          return;
        }
        const rejoin = new AbortController();
        const ticker = setInterval(() => {
          heartbeat().catch((error: { type?: string }) => {
            if (error?.type && REJOIN.has(error.type)) rejoin.abort();
          });
        }, HEARTBEAT_TICK_MS);
        let done: boolean;
        try {
          // The same encoding as the kafka endpoint's cursors (kafka-cursor.ts), for this one partition.
          done = await options.deliver(recordMessage(Buffer.from(`${topic}@${partition}#${record.offset}`, 'utf8').toString('base64url'), topic, partition, record), {
            yielding: AbortSignal.any([closing.signal, rejoin.signal]),
            deadLetter: options.deadLetter,
          });
        } catch (error) {
          failure ??= { error };
          stop();
          return;
        } finally {
          clearInterval(ticker);
        }
        if (!done) {
          if (!closing.signal.aborted) seekBack(topic, partition, record.offset);
          return;
        }
        if (options.commit === 'after') await commit(topic, partition, next);
      },
    });
    await ended;
  } catch (error) {
    crashed ??= error;
  } finally {
    options.signal.removeEventListener('abort', stop);
    closing.abort();
    // Waits for the delivery in flight (it yields), then leaves the group.
    await consumer.disconnect().catch(() => {});
  }
  if (failure) throw failure.error;
  return options.signal.aborted ? undefined : crashed;
}

/**
 * A group that never committed an offset for a partition starts where autoOffsetReset says, and
 * that position is committed now, so a restart before the first delivery resumes there instead
 * of resetting to a later "latest". Best effort: a group that already has members refuses it
 * (they committed or will), and a topic that does not exist yet is read from its beginning.
 */
async function commitStartPositions(kafka: Kafka, options: RunOptions): Promise<void> {
  const admin: Admin = kafka.admin({ retry: { retries: 1, initialRetryTime: 200, maxRetryTime: 1_000 } });
  try {
    await admin.connect();
    const topics = Array.isArray(options.topics)
      ? options.topics
      : (await admin.listTopics()).filter((t) => !t.startsWith('__') && (options.topics as RegExp).test(t));
    if (topics.length === 0) return;
    const existing = new Set(await admin.listTopics());
    const known = topics.filter((t) => existing.has(t));
    if (known.length === 0) return;
    const committed = await admin.fetchOffsets({ groupId: options.group, topics: known });
    for (const { topic, partitions } of committed) {
      const missing = partitions.filter((p) => p.offset === '-1').map((p) => p.partition);
      if (missing.length === 0) continue;
      const ends = await admin.fetchTopicOffsets(topic);
      const start = ends.filter((o) => missing.includes(o.partition)).map((o) => ({ partition: o.partition, offset: options.earliest ? o.low : o.high }));
      await admin.setOffsets({ groupId: options.group, topic, partitions: start }).catch(() => {});
    }
  } catch (error) {
    options.logger.debug({ group: options.group, err: describe(error) }, 'could not commit start positions');
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function connectProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({ allowAutoTopicCreation: true, retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1_000 } });
  await producer.connect();
  return producer;
}

function describeAssignment(assignment: Record<string, number[]>): string {
  return Object.entries(assignment)
    .map(([topic, partitions]) => `${topic}:${[...partitions].sort((a, b) => a - b).join(',')}`)
    .sort()
    .join(' ');
}
