/**
 * The `kafka` endpoint (kafkajs).
 *
 * Subscribe: one consumer group per API per runtime instance (`consumer.groupId`, default
 * `sluice-<api>-<instance>-<build>`, unique per endpoint build so a redeploy never rebalances
 * against the old build's consumer), shared by all clients through the fanout (`shared: true`); a
 * client arriving while the previous one still leaves the group waits for it (shared-turns.ts). Offsets
 * are never committed: a subscription without a cursor starts (`autoOffsetReset: latest`) at the
 * first record of each partition stamped at or after the moment `subscribe()` was called (so a
 * record produced after a client connected is never missed, even while the consumer is still
 * joining its group) or at the partitions' beginnings (`earliest`). A subscription with a cursor
 * (`resumable: true`) gets its own short-lived consumer in a group of its own, reads every
 * partition strictly after the cursor's offsets, and lives as long as that client. A cursor with
 * no topic of this endpoint is a 400 INVALID_CURSOR (it belongs to another API); its other
 * topics are ignored; so is one naming a partition its topic does not have (also asked by
 * `checkCursor` before a stream starts). `consumer.maxReplay` bounds it: replay.ts. Message ids are
 * cursors: see kafka-cursor.ts for the encoding. Topics naming a channel parameter (`telemetry.{tenant}`,
 * channel.ts topicTemplates): one shared consumer (and group) per channel instead (channelUpstream), a
 * publish goes to the caller's topic. Metadata: topic, partition, offset, key, timestamp;
 * record headers become message headers and back.
 *
 * Publish: to `producer.topic`, key from the `producer.key` template (kafka-key.ts), `acks`,
 * compression none/gzip/snappy/lz4/zstd (codecs/, registered when this module loads; batches
 * that cannot be decoded are skipped, see codecs/undecodable.ts); resolves when the broker acknowledged (per acks). Publishes arriving while
 * a send is in flight go out together in the next one (kafka-batch.ts: bounded queue, order kept).
 *
 * Availability: `start()` never rejects. A health probe (metadata request) runs every 5 s while
 * healthy and with backoff (250 ms doubling to 5 s) while not; two probes failing in a row, or a
 * failed publish or consumer, mark the endpoint unhealthy. While unhealthy, publish rejects with ENDPOINT_UNAVAILABLE (503),
 * new subscriptions end with it, and running subscriptions end with it when their consumer fails;
 * clients reconnect with their cursor once the broker is back. No restart of the gateway is needed.
 */
import { randomUUID } from 'node:crypto';
import { CompressionTypes, Kafka } from 'kafkajs';
import type { KafkaEndpoint as KafkaEndpointConfig } from '../../../schemas/types.ts';
import type { EndpointFactory, EndpointHealth, SubscribeOptions } from '../endpoint.ts';
import type { Message, PublishMessage } from '../../../core/message.ts';
import { GatewayError, errors } from '../../../core/errors.ts';
import { log } from '../../log.ts';
import { compileRegex } from '../../../core/regex.ts';
import { decodeCursor, kafkaCursorOrder, type Positions } from './cursor.ts';
import { consume } from './subscription.ts';
import { checkCursorPartitions, compileMaxReplay, partitionCounter, resumePositions } from './replay.ts';
import { compileRecordKey } from '../message-template.ts';
import { channelHeaders, channelRecordKey, kafkaChannel, recordKeyOf, topicTemplates, usesParameters } from './channel.ts';
import { kafkaGroup } from './group.ts';
import { batchSender, byTopic } from './batch.ts';
import { registerKafkaCodecs } from './codecs/index.ts';
import { brokerRefusal, clientConfig, describe, isUnknownTopic } from './client.ts';
import { SharedTurns, settled } from './shared-turns.ts';

registerKafkaCodecs();

const COMPRESSION = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD } as const;

const HEALTHY_PROBE_MS = 5_000;
const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5_000;

export const createKafkaEndpoint: EndpointFactory<KafkaEndpointConfig> = (config, context) => {
  const logger = log.child({ endpoint: 'kafka', api: context.apiId });
  const kafka = new Kafka(clientConfig(config, context, logger));
  const consumerConfig = config.consumer && config.consumer.enabled !== false ? config.consumer : undefined;
  const producerConfig = config.producer && config.producer.enabled !== false ? config.producer : undefined;
  const topicPattern = consumerConfig?.topicPattern ? compileRegex(consumerConfig.topicPattern) : undefined;
  // `telemetry.{tenant}`: a topic per channel, so a consumer per channel (channel.ts).
  const templates = topicTemplates(consumerConfig?.topics ?? [], producerConfig?.topic);
  // Unique per endpoint build: a redeployed API's new consumer never shares a group with the old one draining.
  const sharedGroup = consumerConfig?.groupId ?? `sluice-${context.apiId}-${context.instanceId}-${randomUUID().slice(0, 6)}`;
  const earliest = consumerConfig?.autoOffsetReset === 'earliest';
  const replayBound = compileMaxReplay(consumerConfig?.maxReplay);
  const recordKey = producerConfig?.key ? compileRecordKey(producerConfig.key) : () => null;
  const keyWithParameters = usesParameters(producerConfig?.key) ? channelRecordKey(producerConfig!.key!) : undefined;
  const acks = producerConfig?.acks ?? -1;
  const compression = COMPRESSION[producerConfig?.compression ?? 'none'];

  const admin = kafka.admin({ retry: { retries: 1, initialRetryTime: 200, maxRetryTime: 1_000 } });
  const producer = kafka.producer({ allowAutoTopicCreation: true, retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1_000 } });
  const batches = batchSender({
    send: (messages) => producer.sendBatch({ acks, compression, topicMessages: byTopic(messages, producerConfig!.topic) }),
    refused: (error) => brokerRefusal(error) !== undefined,
    fail: (error) => {
      const refused = brokerRefusal(error);
      if (refused) return refused;
      brokerFailed(error);
      return errors.endpointUnavailable('Kafka did not acknowledge the message');
    },
  });
  let health: EndpointHealth = { healthy: false, detail: 'not started' };
  let started = false;
  let stopped = false;
  let probeTimer: NodeJS.Timeout | undefined;
  let probing: Promise<void> | undefined;
  let failures = 0;
  // Per channel key: its shared consumers, one after the other (shared-turns.ts).
  const sharedTurns = new SharedTurns(logger);
  const stopping = new AbortController();

  const setHealth = (next: EndpointHealth) => {
    if (next.healthy !== health.healthy) {
      if (next.healthy) logger.info('kafka endpoint healthy');
      else logger.error({ detail: next.detail }, 'kafka endpoint unhealthy'); // the one error line of an outage
    }
    health = next;
  };

  const probe = (): Promise<void> =>
    (probing ??= (async () => {
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        if (cluster.brokers.length === 0) throw new Error('no broker in the cluster metadata');
        if (producerConfig) await producer.connect();
        failures = 0;
        setHealth({ healthy: true });
      } catch (error) {
        failures++;
        // One slow probe of a healthy endpoint is not an outage (a busy broker or host): re-probe at
        // once and report unhealthy on the second failure. Real failures of publishes and consumers
        // mark it unhealthy immediately (brokerFailed).
        if (health.healthy && failures === 1) {
          logger.debug({ err: describe(error) }, 'kafka health probe failed once');
        } else {
          setHealth({ healthy: false, detail: `Kafka ${config.bootstrapServers.join(',')} unreachable: ${describe(error)}` });
        }
      } finally {
        probing = undefined;
        schedule(health.healthy && failures === 1 ? MIN_BACKOFF_MS : undefined);
      }
    })());

  const schedule = (delay?: number) => {
    if (stopped) return;
    clearTimeout(probeTimer);
    const wait = delay ?? (health.healthy ? HEALTHY_PROBE_MS : Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** Math.max(0, failures - 1)));
    probeTimer = setTimeout(() => void probe(), wait);
    probeTimer.unref();
  };

  /** A broker failure seen by a publish or a consumer: unhealthy now, probe soon. */
  const brokerFailed = (error: unknown) => {
    if (stopped) return;
    setHealth({ healthy: false, detail: `Kafka ${config.bootstrapServers.join(',')} unreachable: ${describe(error)}` });
    if (!probing) schedule(MIN_BACKOFF_MS);
  };

  const resolveTopics = async (params: SubscribeOptions['params']): Promise<string[]> => {
    if (!topicPattern) return templates.consumerTopics(params);
    const topics = (await admin.listTopics()).filter((t) => !t.startsWith('__') && topicPattern.test(t)).sort();
    if (topics.length === 0) throw errors.endpointUnavailable('no Kafka topic matches the topic pattern yet');
    return topics;
  };

  /** A cursor may only name topics of this endpoint; one that shares none is another API's. */
  const ours = (topic: string) => (topicPattern ? topicPattern.test(topic) : templates.ours(topic));
  const checkCursor = (cursor: Positions) => {
    if (![...cursor.keys()].some(ours)) throw errors.badRequest('INVALID_CURSOR', 'The cursor is not a Kafka cursor of this API.');
  };
  const partitionsOf = partitionCounter(admin);
  const resumeStart = (cursor: Positions, topics: readonly string[], since: number) => resumePositions(admin, partitionsOf, cursor, topics, replayBound, since);

  /**
   * Where a subscription without a cursor starts: per partition, the first record stamped at or
   * after `since` (latest; the partition's end when there is none yet) or the partition's start (earliest).
   */
  const startPositions = async (topics: readonly string[], since: number): Promise<Positions> => {
    const positions: Positions = new Map();
    for (const topic of topics) {
      try {
        const offsets = earliest
          ? (await admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, offset: o.low }))
          : await admin.fetchTopicOffsetsByTimestamp(topic, since);
        positions.set(topic, new Map(offsets.map((o) => [o.partition, BigInt(o.offset) - 1n])));
      } catch (error) {
        if (!isUnknownTopic(error)) throw error; // a topic created later is read from its beginning
      }
    }
    return positions;
  };

  async function* subscription(options: SubscribeOptions, since: number): AsyncGenerator<Message> {
    if (!consumerConfig) throw new GatewayError('ENDPOINT_NOT_SUBSCRIBING', 405, 'This API does not subscribe to Kafka.', 1008);
    const cursor = options.cursor !== undefined ? decodeCursor(options.cursor) : undefined;
    if (cursor) checkCursor(cursor);
    if (!health.healthy) throw errors.endpointUnavailable('Kafka is unreachable');
    const channelKey = templates.perChannel ? templates.consumerTopics(options.params).join(',') : '';
    // Without a cursor: the channel's shared consumer, once the previous one left the group (no rebalance with a ghost).
    const turn = cursor === undefined ? sharedTurns.take(channelKey) : undefined;
    const shared = turn !== undefined;
    try {
      if (turn && !(await turn.ready(options.signal))) return;
      let topics: string[];
      let start: Positions;
      try {
        topics = await resolveTopics(options.params);
        start = cursor ? await resumeStart(cursor, topics, since) : await startPositions(topics, since);
      } catch (error) {
        if (error instanceof GatewayError) throw error;
        brokerFailed(error);
        throw errors.endpointUnavailable('Kafka is unreachable');
      }
      if (options.signal.aborted) return;
      const groupId = shared ? (channelKey ? `${sharedGroup}-${channelKey}` : sharedGroup) : `${sharedGroup}-resume-${randomUUID().slice(0, 8)}`;
      const telemetry = context.telemetry;
      const onLag = shared && telemetry ? (topic: string, partition: number, lag: number | undefined) => telemetry.emit({ kind: 'consumer-lag', api: context.apiId, topic, partition, lag }) : undefined;
      yield* consume({ kafka, apiId: context.apiId, telemetry: context.telemetry, groupId, topics, start, signal: options.signal, onBrokerFailure: brokerFailed, onLag });
    } finally {
      turn?.release();
    }
  }

  return {
    ...kafkaGroup(kafka, config, context),
    type: 'kafka',
    publishes: producerConfig !== undefined,
    ...(producerConfig ? { publishDestination: producerConfig.topic } : {}),
    subscribes: consumerConfig !== undefined,
    shared: true,
    resumable: true,
    cursorOrder: kafkaCursorOrder,

    async start() {
      if (started || stopped) return;
      started = true;
      await probe();
    },

    health: () => (started ? health : { healthy: false, detail: stopped ? 'stopped' : 'not started' }),

    // `since` is taken now, when the client subscribes, not when the consumer gets to ask the broker.
    subscribe: (options) => subscription({ ...options, signal: AbortSignal.any([options.signal, stopping.signal]) }, Date.now()),

    async checkCursor(cursor) {
      const positions = decodeCursor(cursor);
      checkCursor(positions);
      if (consumerConfig && health.healthy) await checkCursorPartitions(partitionsOf, positions, [...positions.keys()].filter(ours));
    },

    channel: (params) => kafkaChannel(consumerConfig?.match, params),
    channelKeyOf: recordKeyOf,
    ...(templates.perChannel ? { channelUpstream: (params: Readonly<Record<string, string>>) => templates.consumerTopics(params).join(',') } : {}),
    channelForbidden: [],

    async publish(message: PublishMessage, params) {
      if (!producerConfig) throw new GatewayError('ENDPOINT_NOT_PUBLISHING', 405, 'This API does not publish to Kafka.', 1008);
      if (!started || !health.healthy) throw errors.endpointUnavailable('Kafka is unreachable');
      const key = params && keyWithParameters ? keyWithParameters(message, params) : recordKey(message);
      const topic = templates.producerTopic(params);
      return batches.publish({ topic, key, value: message.content, headers: channelHeaders(consumerConfig?.match, params, message.headers) }, message.content.length);
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      stopping.abort();
      clearTimeout(probeTimer);
      await probing;
      await settled(batches.idle(), 5_000); // acknowledged or failed, not cut
      // The shared consumer leaves its group once its reader sees the abort; bounded for a reader that went away.
      await sharedTurns.released();
      await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
    },
  };
};
