/**
 * The `mqtt` endpoint (mqtt.js, MQTT 5).
 *
 * One client per API per runtime instance (client id `<clientId|sluice-api>-<instance>-<build>`,
 * unique per endpoint build so a redeploy never takes over the draining build's session),
 * connected at `start()`, with a persistent session (`sessionExpiryInterval`, clean start off) so a
 * reconnect resumes its subscriptions and the broker keeps QoS 1/2 messages meanwhile. `stop()`
 * disconnects with session expiry 0, so no session outlives the endpoint.
 *
 * Subscribe (`shared: true`, `resumable: false`: a cursor is ignored): the consumer topic filter at
 * `consumer.qos`, subscribed while at least one subscription iterates and unsubscribed when the
 * last one ends. Messages arrive in broker order; ids are a per-endpoint counter. A subscription
 * holds at most 10,000 messages / 64 MiB while its reader is busy (../pushed-messages.ts), then
 * ends with SLOW_CONSUMER. Metadata: topic,
 * qos, retain; MQTT 5 user properties become message headers and back. A lost connection keeps
 * subscriptions open: mqtt.js reconnects (backoff 250 ms doubling to 5 s) and the session resumes.
 *
 * Publish: `producer.topic`, `producer.qos`, `producer.retained`; resolves when the broker
 * acknowledged (QoS 1/2) or the packet was written (QoS 0), within 10 s. While disconnected, or on
 * timeout, it rejects with ENDPOINT_UNAVAILABLE (503).
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { MqttEndpoint as MqttEndpointConfig } from '../../../schemas/types.ts';
import type { EndpointFactory, EndpointHealth, SubscribeOptions } from '../endpoint.ts';
import type { Message, PublishMessage } from '../../../core/message.ts';
import { GatewayError, errors } from '../../../core/errors.ts';
import { log } from '../../log.ts';
import { mqttGroup } from './group.ts';
import { PushedMessages } from '../pushed-messages.ts';
import { withDeadline } from '../deadline.ts';
import { MQTT_FORBIDDEN, mqttChannel, publishTopic, topicOf } from './channel.ts';
import { wildcardReferences } from '../../../core/channel.ts';

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5_000;
const START_WAIT_MS = 5_000;
const PUBLISH_TIMEOUT_MS = 10_000;

export const createMqttEndpoint: EndpointFactory<MqttEndpointConfig> = (config, context) => {
  const logger = log.child({ endpoint: 'mqtt', api: context.apiId });
  const consumer = config.consumer && config.consumer.enabled !== false ? config.consumer : undefined;
  const producer = config.producer && config.producer.enabled !== false ? config.producer : undefined;
  const tls = config.security?.ssl?.enabled === true;
  const auth = config.security?.auth;
  const options: IClientOptions = {
    protocol: tls ? 'mqtts' : 'mqtt',
    host: config.serverHost,
    port: config.serverPort ?? 1883,
    protocolVersion: 5,
    // Unique per endpoint build: a redeployed API's new client never takes over the old one's session.
    clientId: `${config.clientId ?? `sluice-${context.apiId}`}-${context.instanceId}-${randomUUID().slice(0, 6)}`,
    clean: false,
    properties: { sessionExpiryInterval: config.sessionExpiryInterval ?? 86_400 },
    reconnectPeriod: MIN_BACKOFF_MS,
    connectTimeout: 5_000,
    keepalive: 30,
    queueQoSZero: false,
    manualConnect: true,
    ...(auth ? { username: auth.username, ...(auth.password ? { password: context.resolveSecret(auth.password) } : {}) } : {}),
    ...(tls ? { rejectUnauthorized: config.security?.ssl?.rejectUnauthorized ?? true, ...(config.security?.ssl?.ca ? { ca: config.security.ssl.ca } : {}) } : {}),
  };
  const address = `${options.host}:${options.port}`;
  /** The one upstream filter: a consumer topic template's parameters subscribed as `+`. */
  const filter = consumer ? wildcardReferences(consumer.topic, '+') : '';
  const client: MqttClient = mqtt.connect(options);
  let health: EndpointHealth = { healthy: false, detail: 'not started' };
  let lastError = 'not connected yet';
  let started = false;
  let stopped = false;
  let nextId = 0;
  let subscribers = 0;
  let subscribed: Promise<void> | undefined;
  const stopping = new AbortController();

  client.on('connect', () => {
    client.options.reconnectPeriod = MIN_BACKOFF_MS;
    health = { healthy: true };
    logger.info({ broker: address }, 'mqtt endpoint connected');
  });
  client.on('error', (error) => {
    lastError = error.message;
    logger.debug({ err: error.message }, 'mqtt client error');
  });
  client.on('close', () => {
    if (stopped) return;
    if (health.healthy) logger.warn({ broker: address }, 'mqtt endpoint disconnected');
    health = { healthy: false, detail: `MQTT broker ${address} unreachable: ${lastError}` };
    client.options.reconnectPeriod = Math.min(MAX_BACKOFF_MS, (client.options.reconnectPeriod ?? MIN_BACKOFF_MS) * 2);
  });
  client.on('disconnect', (packet) => {
    lastError = `broker disconnected us (reason ${packet.reasonCode ?? 0})`;
  });

  /** The consumer filter is subscribed while anyone iterates; the first acquire subscribes. */
  const acquire = (): Promise<void> => {
    subscribers++;
    subscribed ??= client.subscribeAsync(filter, { qos: consumer!.qos ?? 0 }).then((grants) => {
      const refused = grants.find((grant) => grant.qos === 128);
      if (refused) throw new GatewayError('SUBSCRIPTION_REFUSED', 502, `The MQTT broker refused the subscription to ${filter}.`, 1011);
    });
    return subscribed.catch((error) => {
      subscribed = undefined;
      throw error instanceof GatewayError ? error : errors.endpointUnavailable('the MQTT subscription failed');
    });
  };
  const release = () => {
    if (--subscribers > 0 || !subscribed) return;
    subscribed = undefined;
    if (client.connected) client.unsubscribeAsync(filter).catch(() => {});
  };

  async function* subscription(signal: AbortSignal): AsyncGenerator<Message> {
    if (!consumer) throw new GatewayError('ENDPOINT_NOT_SUBSCRIBING', 405, 'This API does not subscribe to MQTT.', 1008);
    if (!client.connected) throw errors.endpointUnavailable('the MQTT broker is unreachable');
    const pushed = new PushedMessages('MQTT');
    const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket) => {
      if (!pushed.failed) pushed.push(toMessage(String(nextId++), topic, payload, packet));
    };
    client.on('message', onMessage);
    try {
      await acquire();
      yield* pushed.drain(signal);
    } finally {
      client.off('message', onMessage);
      release();
    }
  }

  return {
    ...mqttGroup(options, config, context),
    type: 'mqtt',
    publishes: producer !== undefined,
    ...(producer ? { publishDestination: producer.topic } : {}),
    subscribes: consumer !== undefined,
    shared: true,
    resumable: false,
    channelForbidden: MQTT_FORBIDDEN,
    channel: (params) => mqttChannel(consumer?.topic ?? '', params),
    channelKeyOf: topicOf,

    async start() {
      if (started || stopped) return;
      started = true;
      const first = new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          client.off('connect', done);
          client.off('close', done);
          resolve();
        };
        const timer = setTimeout(done, START_WAIT_MS);
        client.on('connect', done);
        client.on('close', done);
      });
      client.connect();
      await first;
    },

    health: () => (started ? health : { healthy: false, detail: stopped ? 'stopped' : 'not started' }),

    subscribe: (options: SubscribeOptions) => subscription(AbortSignal.any([options.signal, stopping.signal])),

    async publish(message: PublishMessage, params) {
      if (!producer) throw new GatewayError('ENDPOINT_NOT_PUBLISHING', 405, 'This API does not publish to MQTT.', 1008);
      if (!client.connected) throw errors.endpointUnavailable('the MQTT broker is unreachable');
      const sent = client.publishAsync(publishTopic(producer.topic, params), message.content, {
        qos: producer.qos ?? 0,
        retain: producer.retained ?? false,
        properties: Object.keys(message.headers).length > 0 ? { userProperties: { ...message.headers } } : {},
      });
      try {
        await withDeadline(sent, PUBLISH_TIMEOUT_MS, () => errors.endpointUnavailable(`the MQTT broker did not acknowledge within ${PUBLISH_TIMEOUT_MS} ms`));
      } catch (error) {
        if (error instanceof GatewayError) throw error;
        throw errors.endpointUnavailable('the MQTT publish failed');
      }
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      stopping.abort();
      health = { healthy: false, detail: 'stopped' };
      if (client.connected) await client.endAsync(false, { properties: { sessionExpiryInterval: 0 } }).catch(() => {});
      else await client.endAsync(true).catch(() => {});
    },
  };
};

function toMessage(id: string, topic: string, payload: Buffer, packet: IPublishPacket): Message {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(packet.properties?.userProperties ?? {})) {
    headers[name] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return Object.freeze({
    id,
    content: payload,
    headers: Object.freeze(headers),
    metadata: Object.freeze({ topic, qos: packet.qos, retain: packet.retain }),
    timestamp: Date.now(),
  });
}
