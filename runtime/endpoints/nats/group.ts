/**
 * NATS group consumption for background subscribers (webhooks): `Endpoint.consumeGroup`, JetStream
 * only (the compiler refuses webhooks on a core-subject endpoint: NATS_STREAM_REQUIRED).
 *
 * Its own connection per call, and one durable pull consumer named after `options.group` on the
 * endpoint's stream (filter: the consumer subject with channel parameters as `*`), shared by every
 * runtime instance consuming with that group: JetStream hands each message to one of them.
 * - order: `max_ack_pending` 1, so the stream's messages are handed over one at a time, in stream
 *   order, across all instances (`concurrency` cannot apply: a stream has no partitions);
 * - `commit: 'after'`: a message is acknowledged (and the acknowledgement confirmed by the server)
 *   only once `deliver` resolved true; false naks it (redelivered to whichever instance pulls next;
 *   at stop after GIVE_BACK_DELAY_MS, once this connection is gone); while a delivery lasts (retries) the message is marked in progress every
 *   `ACK_WAIT_MS / 3`, so JetStream does not redeliver it elsewhere; a crash redelivers it after
 *   `ACK_WAIT_MS`. At-least-once across restarts and outages: the position lives on the server;
 * - `commit: 'before'` (at-most-once): acknowledged before `deliver` runs;
 * - a new durable starts with the messages stored from its creation on (DeliverPolicy.New);
 * - dead letters are published with JetStream acknowledgement to `deadLetterTopic` (a subject some
 *   stream must store; none: the dead letter fails with 502 and the subscription halts);
 * - the server down: the consumer reconnects with backoff (250 ms doubling to 5 s), `onStatus`
 *   reports it; a pull holds at most one message (`maxBytes` needs no more bound).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsEndpoint as NatsEndpointConfig } from '../../../schemas/types.ts';
import type { Endpoint, EndpointContext, GroupConsumeOptions, GroupDelivery } from '../endpoint.ts';
import type { PublishMessage } from '../../../core/message.ts';
import { GatewayError, errors } from '../../../core/errors.ts';
import { log } from '../../log.ts';
import { connectionOptions, natsConnection, type NatsConnectionHolder } from './connection.ts';
import { streamMessage, toHeaders } from './message.ts';
import { wildcardReferences } from '../../../core/channel.ts';
import { streamFailure } from './subscription.ts';

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5_000;
const ACK_WAIT_MS = 30_000;
const DEAD_LETTER_TIMEOUT_MS = 10_000;
const GIVE_BACK_DELAY_MS = 500;

/** The group-consumption part of the nats endpoint; spread into the endpoint object. */
export function natsGroup(config: NatsEndpointConfig, context: EndpointContext): Pick<Endpoint, 'consumeGroup'> {
  const consumer = config.consumer && config.consumer.enabled !== false ? config.consumer : undefined;
  const logger = log.child({ endpoint: 'nats', api: context.apiId, role: 'group' });
  return {
    async consumeGroup(options) {
      if (!consumer) throw new GatewayError('ENDPOINT_NOT_SUBSCRIBING', 405, 'This API does not subscribe to NATS.', 1008);
      if (!config.stream) throw new GatewayError('NATS_STREAM_REQUIRED', 500, 'Webhooks on NATS need a JetStream stream ("stream" on the endpoint).');
      const durable = options.group.replace(/[^A-Za-z0-9_-]/g, '_');
      const holder = natsConnection(connectionOptions(config, context, `${config.name ?? `sluice-${context.apiId}`}-${context.instanceId}-webhook`), logger);
      const run = { ...options, holder, stream: config.stream, subject: wildcardReferences(consumer.subject, '*'), durable };
      let failures = 0;
      try {
        await holder.start();
        while (!options.signal.aborted) {
          const problem = await consumeOnce(run, () => (failures = 0));
          if (problem === undefined || options.signal.aborted) break;
          failures++;
          logger[failures === 1 ? 'warn' : 'debug']({ group: options.group, err: problem, attempt: failures }, 'webhook consumer failed; reconnecting');
          options.onStatus?.({ connected: false, detail: `NATS consumer ${durable} on stream ${config.stream}: ${problem}` });
          await sleep(Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** Math.min(10, failures - 1)), undefined, { signal: options.signal }).catch(() => {});
        }
      } finally {
        await holder.close();
      }
    },
  };
}

interface RunOptions extends GroupConsumeOptions {
  readonly holder: NatsConnectionHolder;
  readonly stream: string;
  readonly subject: string;
  readonly durable: string;
}

/** One connection's worth of consuming: undefined when stopped, else why it broke (retried). A rejecting `deliver` rejects. */
async function consumeOnce(options: RunOptions, onConsuming: () => void): Promise<string | undefined> {
  const nc = options.holder.current();
  if (!nc) return options.holder.health().detail ?? 'NATS is unreachable';
  let messages;
  try {
    const jsm = await jetstreamManager(nc);
    const existing = await jsm.consumers.info(options.stream, options.durable).catch(() => undefined);
    if (!existing) {
      await jsm.consumers.add(options.stream, {
        durable_name: options.durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.New,
        filter_subject: options.subject,
        max_ack_pending: 1,
        ack_wait: ACK_WAIT_MS * 1_000_000,
      });
    }
    const consumer = await jetstream(nc).consumers.get(options.stream, options.durable);
    messages = await consumer.consume({ max_messages: 1 });
  } catch (error) {
    return streamFailure(error, options.stream).message;
  }
  options.onStatus?.({ connected: true, assignment: `${options.stream}>${options.durable}` });
  onConsuming();
  const closing = new AbortController();
  let lost = false;
  const end = () => {
    closing.abort();
    void messages.stop();
  };
  const offLost = options.holder.onDisconnect(() => {
    lost = true;
    end();
  });
  options.signal.addEventListener('abort', end, { once: true });
  const deadLetter = async (message: PublishMessage): Promise<void> => {
    if (!options.deadLetterTopic) throw new GatewayError('DEAD_LETTER_NOT_CONFIGURED', 500, 'No dead-letter topic is configured.');
    try {
      await jetstream(nc).publish(options.deadLetterTopic, message.content, { headers: toHeaders(message.headers), timeout: DEAD_LETTER_TIMEOUT_MS });
    } catch (error) {
      if ((error as Error)?.name === 'NoRespondersError') throw new GatewayError('BROKER_REFUSED', 502, `NATS refused the dead letter: no JetStream stream stores subject "${options.deadLetterTopic}".`, 1011);
      throw errors.endpointUnavailable(`NATS did not acknowledge the dead letter: ${(error as Error)?.message}`);
    }
  };
  try {
    for await (const m of messages) {
      if (closing.signal.aborted) break;
      if (await handle(m, options, { yielding: closing.signal, deadLetter })) continue;
      // Given back. When stopping, stop pulling and nak with a short delay: else JetStream may redeliver
      // it at once to this connection's pending pull, which nobody reads any more (it would then wait
      // for ACK_WAIT_MS); after the delay this connection is gone and the next consumer gets it.
      if (closing.signal.aborted) {
        end();
        m.nak(GIVE_BACK_DELAY_MS);
      } else m.nak();
    }
  } finally {
    options.signal.removeEventListener('abort', end);
    offLost();
    end();
    // A nak of the message given back must reach the server before the connection closes (else it waits for ACK_WAIT_MS).
    if (!lost && !nc.isClosed()) await nc.flush().catch(() => {});
  }
  return lost && !options.signal.aborted ? 'the NATS connection was lost' : undefined;
}

/** Delivers one message: true when it is done with (acknowledged), false when the caller must give it back (nak). */
async function handle(m: JsMsg, options: RunOptions, delivery: GroupDelivery): Promise<boolean> {
  const message = streamMessage(options.stream, m.seq, m.subject, m.data, m.headers, m.info.timestampNanos);
  if (options.commit === 'before') {
    await m.ackAck().catch(() => false);
    await options.deliver(message, delivery);
    return true;
  }
  const working = setInterval(() => m.working(), ACK_WAIT_MS / 3);
  let delivered = false;
  try {
    delivered = await options.deliver(message, delivery);
  } catch (error) {
    m.nak();
    throw error;
  } finally {
    clearInterval(working);
  }
  if (delivered) await m.ackAck().catch(() => false);
  return delivered;
}
