/**
 * The `nats` endpoint (nats.js: @nats-io/transport-node, @nats-io/jetstream).
 *
 * One connection per endpoint build (connection name `<name|sluice-api>-<instance>`), connected at
 * `start()` in the background and kept connected (connection.ts). `shared: true`: the runtime's
 * fanout makes one upstream subscription per API and instance, shared by all its clients.
 *
 * Without `stream` (core NATS): subscribe is one subscription on `consumer.subject` (wildcards
 * `*`, `>`; channel parameters as `*`), ids are a per-endpoint counter, a cursor is ignored
 * (`resumable: false`; the compiler refuses qos at-least-once and webhooks). Publish is a core
 * publish followed by a round trip to the server (flush): it resolves once the server has the
 * message, which says nothing about any subscriber receiving it (core NATS keeps nothing).
 *
 * With `stream` (JetStream): subscribe is an ordered consumer on the stream filtered by the subject
 * (subscription.ts), ids are stream sequences and cursors (cursor.ts, `resumable: true`); publish
 * waits for the JetStream acknowledgement from that stream (a 202 means stored), within
 * `producer.timeoutMs`; webhooks consume through a durable pull consumer (group.ts).
 *
 * Metadata: subject (+ stream, sequence); NATS headers are message headers and back. While the
 * connection is down, publish and new subscriptions fail with ENDPOINT_UNAVAILABLE (503) and running
 * subscriptions end with it; nats.js reconnects and health() reports it, no restart needed.
 */
import { type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import type { NatsEndpoint as NatsEndpointConfig } from '../../../schemas/types.ts';
import type { EndpointFactory, SubscribeOptions } from '../endpoint.ts';
import type { Message, PublishMessage } from '../../../core/message.ts';
import { GatewayError, errors } from '../../../core/errors.ts';
import { log } from '../../log.ts';
import { connectionOptions, natsConnection } from './connection.ts';
import { coreSubscription, streamBounds, streamSubscription } from './subscription.ts';
import { decodeSequence, natsCursorOrder, resumeSequence } from './cursor.ts';
import { NATS_FORBIDDEN, natsChannel, publishSubject } from './subject.ts';
import { wildcardReferences } from '../../../core/channel.ts';
import { toHeaders } from './message.ts';
import { natsGroup } from './group.ts';
import { withDeadline } from '../deadline.ts';

const DEFAULT_PUBLISH_TIMEOUT_MS = 5_000;

export const createNatsEndpoint: EndpointFactory<NatsEndpointConfig> = (config, context) => {
  const logger = log.child({ endpoint: 'nats', api: context.apiId });
  const consumer = config.consumer && config.consumer.enabled !== false ? config.consumer : undefined;
  const producer = config.producer && config.producer.enabled !== false ? config.producer : undefined;
  const stream = config.stream;
  const subject = consumer ? wildcardReferences(consumer.subject, '*') : '';
  const timeout = producer?.timeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
  const holder = natsConnection(connectionOptions(config, context, `${config.name ?? `sluice-${context.apiId}`}-${context.instanceId}`), logger);
  let started = false;
  let stopped = false;
  let nextId = 0;
  const stopping = new AbortController();
  /** Running subscriptions, settled once each has released its subscription or consumer. */
  const running = new Set<Promise<void>>();

  async function* subscription(options: SubscribeOptions, since: number): AsyncGenerator<Message> {
    if (!consumer) throw new GatewayError('ENDPOINT_NOT_SUBSCRIBING', 405, 'This API does not subscribe to NATS.', 1008);
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    running.add(released);
    try {
      if (!stream) return yield* coreSubscription(holder, subject, options.signal, () => String(nextId++));
      const cursor = options.cursor !== undefined ? decodeSequence(options.cursor) : undefined;
      const start = cursor === undefined ? { time: since } : { sequence: resumeSequence(cursor, await streamBounds(holder, stream), consumer.maxReplay) };
      yield* streamSubscription(holder, stream, subject, start, options.signal);
    } finally {
      running.delete(released);
      release();
    }
  }

  const publishCore = async (nc: NatsConnection, to: string, message: PublishMessage) => {
    nc.publish(to, message.content, { headers: toHeaders(message.headers) });
    await nc.flush();
  };
  const publishStream = async (nc: NatsConnection, to: string, message: PublishMessage) => {
    await jetstream(nc).publish(to, message.content, { headers: toHeaders(message.headers), expect: { streamName: stream! }, timeout });
  };

  return {
    ...natsGroup(config, context),
    type: 'nats',
    publishes: producer !== undefined,
    ...(producer ? { publishDestination: producer.subject } : {}),
    subscribes: consumer !== undefined,
    shared: true,
    resumable: stream !== undefined,
    ...(stream !== undefined ? { cursorOrder: natsCursorOrder, checkCursor: async (cursor: string) => void decodeSequence(cursor) } : {}),
    channelForbidden: NATS_FORBIDDEN,
    channel: (params) => natsChannel(consumer?.subject ?? '', params),

    async start() {
      if (started || stopped) return;
      started = true;
      await holder.start();
    },

    health: () => (started ? holder.health() : { healthy: false, detail: stopped ? 'stopped' : 'not started' }),

    // `since` is taken now, when the client subscribes: a message stored after that is never missed.
    subscribe: (options) => subscription({ ...options, signal: AbortSignal.any([options.signal, stopping.signal]) }, Date.now()),

    async publish(message: PublishMessage, params) {
      if (!producer) throw new GatewayError('ENDPOINT_NOT_PUBLISHING', 405, 'This API does not publish to NATS.', 1008);
      const nc = holder.current();
      if (!nc) throw errors.endpointUnavailable('NATS is unreachable');
      const to = publishSubject(producer.subject, params);
      try {
        await withDeadline(stream ? publishStream(nc, to, message) : publishCore(nc, to, message), timeout,
          () => errors.endpointUnavailable(`NATS did not acknowledge within ${timeout} ms`));
      } catch (error) {
        throw publishFailure(error, to, stream);
      }
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      stopping.abort();
      // Subscriptions release what they hold on the server once their reader sees the abort; bounded for a reader that went away.
      await Promise.race([Promise.all(running), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
      await holder.close();
    },
  };
};

/** Why a publish failed, as the client should see it. */
function publishFailure(error: unknown, subject: string, stream: string | undefined): GatewayError {
  if (error instanceof GatewayError) return error;
  const name = (error as Error)?.name ?? '';
  const message = (error as Error)?.message ?? String(error);
  if (/max_payload/i.test(message)) return new GatewayError('PAYLOAD_TOO_LARGE', 413, 'NATS refused the message: it is larger than the server\'s max_payload.', 1009);
  if (stream && name === 'NoRespondersError') {
    return new GatewayError('BROKER_REFUSED', 502, `NATS refused the message: no JetStream stream stores subject "${subject}" (expected stream "${stream}").`, 1011);
  }
  if (name === 'JetStreamApiError') return new GatewayError('BROKER_REFUSED', 502, `NATS refused the message: ${message}.`, 1011);
  return errors.endpointUnavailable(`the NATS publish failed: ${message}`);
}
