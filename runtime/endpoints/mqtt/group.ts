/**
 * MQTT group consumption for background subscribers (webhooks): `Endpoint.consumeGroup`.
 *
 * Its own MQTT 5 client per call (client id `<group>-<instance>`, clean start, session expiry 0,
 * receive maximum 1) with one QoS 1 shared subscription `$share/<group>/<consumer.topic>`: the
 * broker hands each message to one of the runtime instances subscribed with that share name.
 *
 * Guarantees, honestly stated:
 * - order: mqtt.js hands messages over one at a time (`handleMessage`) and the broker keeps at
 *   most one unacknowledged message in flight to us (receive maximum 1), so messages are delivered
 *   one at a time in the order the broker sends them;
 * - `commit: 'after'`: the PUBACK is sent only after `deliver` resolved true; a message given back
 *   is never acknowledged. While the connection lasts, a message that waits (retries, a
 *   subscription in failure) is held by the broker for us, no later message overtakes it;
 * - but an MQTT broker keeps no position for a group: when this client's session ends (the runtime
 *   stops or dies, the connection drops) with a message unacknowledged, MQTT 5 (§4.8.2) lets the
 *   broker drop it, and Mosquitto does. So at most one message can be lost per lost session;
 *   use Kafka where at-least-once across crashes matters;
 * - `commit: 'before'` (at-most-once): acknowledged once `deliver` settled, whatever the outcome;
 * - retained messages are not delivered to shared subscriptions (MQTT 5).
 *
 * A PUBLISH for dead letters cannot share the consuming client (its incoming packets wait behind
 * the message in hand, PUBACKs included): dead letters use a second client, connected on first use.
 */
import { wildcardReferences } from '../../../core/channel.ts';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { MqttEndpoint as MqttEndpointConfig } from '../../../schemas/types.ts';
import type { Endpoint, EndpointContext, GroupConsumeOptions } from '../endpoint.ts';
import type { Message, PublishMessage } from '../../../core/message.ts';
import { GatewayError, errors } from '../../../core/errors.ts';
import { log } from '../../log.ts';
import { withDeadline } from '../deadline.ts';

const PUBLISH_TIMEOUT_MS = 10_000;
const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5_000;
/** MQTT 3.1.1 caps client ids at 23 bytes; MQTT 5 brokers accept longer ones (Mosquitto up to 65535). */
const MAX_CLIENT_ID = 128;

/** The group-consumption part of the mqtt endpoint; spread into the endpoint object. `base` are the endpoint's client options. */
export function mqttGroup(base: IClientOptions, config: MqttEndpointConfig, context: EndpointContext): Pick<Endpoint, 'consumeGroup'> {
  const consumer = config.consumer && config.consumer.enabled !== false ? config.consumer : undefined;
  const logger = log.child({ endpoint: 'mqtt', api: context.apiId, role: 'group' });
  return {
    consumeGroup(options) {
      if (!consumer) return Promise.reject(new GatewayError('ENDPOINT_NOT_SUBSCRIBING', 405, 'This API does not subscribe to MQTT.', 1008));
      const share = options.group.replace(/[/+#]/g, '_');
      const clientId = `${share}-${context.instanceId}`.slice(0, MAX_CLIENT_ID);
      return consume({ ...options, filter: `$share/${share}/${wildcardReferences(consumer.topic, '+')}`, clientId, base, logger });
    },
  };
}

interface ConsumeOptions extends GroupConsumeOptions {
  readonly filter: string;
  readonly clientId: string;
  readonly base: IClientOptions;
  readonly logger: typeof log;
}

async function consume(options: ConsumeOptions): Promise<void> {
  const { signal, filter, logger } = options;
  if (signal.aborted) return;
  const client: MqttClient = mqtt.connect({
    ...options.base,
    clientId: options.clientId,
    clean: true,
    properties: { sessionExpiryInterval: 0, receiveMaximum: 1 },
    reconnectPeriod: MIN_BACKOFF_MS,
    resubscribe: false,
    manualConnect: false,
  });
  let deadLetters: MqttClient | undefined;
  let failure: { error: unknown } | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  let nextId = 0;
  /** Counts connections: a message's PUBACK is only sent on the connection that brought it. */
  let connection = 0;
  let lastError = 'not connected yet';
  let end!: () => void;
  const ended = new Promise<void>((resolve) => (end = resolve));
  const closing = new AbortController();
  const stop = () => {
    closing.abort();
    end();
  };
  signal.addEventListener('abort', stop, { once: true });

  const deadLetter = async (message: PublishMessage): Promise<void> => {
    if (!options.deadLetterTopic) throw new GatewayError('DEAD_LETTER_NOT_CONFIGURED', 500, 'No dead-letter topic is configured.');
    deadLetters ??= mqtt.connect({ ...options.base, clientId: `${options.clientId}-dl`.slice(0, MAX_CLIENT_ID), clean: true, properties: { sessionExpiryInterval: 0 }, manualConnect: false });
    if (!deadLetters.connected) await onceConnected(deadLetters, PUBLISH_TIMEOUT_MS);
    await withTimeout(
      deadLetters.publishAsync(options.deadLetterTopic, message.content, { qos: 1, properties: { userProperties: { ...message.headers } } }),
      PUBLISH_TIMEOUT_MS,
      'the MQTT broker did not acknowledge the dead letter',
    );
  };

  client.on('connect', () => {
    client.options.reconnectPeriod = MIN_BACKOFF_MS;
    client.subscribeAsync(filter, { qos: 1 }).then(
      (grants) => {
        const refused = grants.find((grant) => grant.qos >= 128);
        if (refused) options.onStatus?.({ connected: false, detail: `the MQTT broker refused the shared subscription ${filter}` });
        else options.onStatus?.({ connected: true, assignment: filter });
      },
      (error: Error) => options.onStatus?.({ connected: false, detail: `MQTT subscribe failed: ${error.message}` }),
    );
  });
  client.on('error', (error) => (lastError = error.message));
  client.on('close', () => {
    connection++;
    if (closing.signal.aborted) return;
    options.onStatus?.({ connected: false, detail: `MQTT broker unreachable: ${lastError}` });
    client.options.reconnectPeriod = Math.min(MAX_BACKOFF_MS, (client.options.reconnectPeriod ?? MIN_BACKOFF_MS) * 2);
  });

  // mqtt.js calls this for one packet at a time and sends the PUBACK when `done()` runs without an
  // error; `done(error)` moves on without acknowledging.
  client.handleMessage = (packet: IPublishPacket, done: (error?: Error) => void) => {
    if (closing.signal.aborted) return void done(new Error('stopping'));
    const arrivedOn = connection;
    const previous = inFlight; // after a reconnect, the old connection's message may still be in hand
    // While a message is in hand, incoming PINGRESPs wait behind it too: keep the connection
    // alive by pinging ourselves and holding off mqtt.js's keepalive timeout.
    const half = ((client.options.keepalive ?? 60) * 1000) / 2;
    const pinger = half > 0 ? setInterval(() => {
      if (!client.connected) return;
      client.sendPing();
      client.reschedulePing(true);
    }, half) : undefined;
    const handled = (async () => {
      await previous;
      const message = toMessage(String(nextId++), packet);
      try {
        const delivered = await options.deliver(message, { yielding: closing.signal, deadLetter });
        if (connection !== arrivedOn) done(new Error('the connection that brought it is gone')); // its packet id means nothing now
        else done(delivered || options.commit === 'before' ? undefined : new Error('given back'));
      } catch (error) {
        if (options.commit === 'before') done();
        else done(new Error('delivery failed'));
        failure ??= { error };
        stop();
      } finally {
        clearInterval(pinger);
      }
    })();
    inFlight = handled;
  };

  try {
    await ended;
    await inFlight;
  } finally {
    signal.removeEventListener('abort', stop);
    await Promise.all([
      client.endAsync(!client.connected).catch(() => {}),
      deadLetters?.endAsync(!deadLetters.connected).catch(() => {}),
    ]);
    logger.debug({ filter }, 'webhook MQTT consumer stopped');
  }
  if (failure) throw failure.error;
}

function onceConnected(client: MqttClient, ms: number): Promise<void> {
  return withTimeout(
    new Promise<void>((resolve) => client.once('connect', () => resolve())),
    ms,
    'the MQTT broker is unreachable for dead letters',
  );
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  try {
    return await withDeadline(promise, ms, () => errors.endpointUnavailable(what));
  } catch (error) {
    throw error instanceof GatewayError ? error : errors.endpointUnavailable(`${what}: ${(error as Error).message}`);
  }
}

function toMessage(id: string, packet: IPublishPacket): Message {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(packet.properties?.userProperties ?? {})) {
    headers[name] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return Object.freeze({
    id,
    content: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
    headers: Object.freeze(headers),
    metadata: Object.freeze({ topic: packet.topic, qos: packet.qos, retain: packet.retain }),
    timestamp: Date.now(),
  });
}
