/**
 * The two ways the nats endpoint subscribes, both ended by the signal or a lost connection (then
 * with ENDPOINT_UNAVAILABLE 503: the client reconnects, with its cursor on a stream):
 *
 * - core: one NATS subscription on the (wildcard) subject; messages wait in a bounded buffer
 *   (count and bytes) while the reader is busy; beyond it the subscription fails with SLOW_CONSUMER.
 *   Ids are a per-endpoint counter: nothing to resume from.
 * - stream: one ordered consumer (ephemeral, memory, recreated by nats.js after a gap) on the
 *   JetStream stream filtered by the subject, starting at a sequence (resume) or at a time (new
 *   messages since the client subscribed). Pulls are bounded in bytes (`PULL_BYTES`); the
 *   reader's pace is the backpressure. Ids are stream sequences. The consumer is deleted when the
 *   subscription ends (else the server keeps it for its inactive threshold).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { DeliverPolicy, jetstream, jetstreamManager, type OrderedConsumerOptions } from '@nats-io/jetstream';
import type { Message } from '../../../core/message.ts';
import { GatewayError, errors } from '../../../core/errors.ts';
import type { NatsConnectionHolder } from './connection.ts';
import { coreMessage, streamMessage } from './message.ts';
import { PushedMessages } from '../pushed-messages.ts';

const PULL_BYTES = 8 * 1024 * 1024;

/** Where a stream subscription starts: after a sequence, or at the first message stored at or after a time. */
export type StreamStart = { readonly sequence: number } | { readonly time: number };

export async function* coreSubscription(holder: NatsConnectionHolder, subject: string, signal: AbortSignal, nextId: () => string): AsyncGenerator<Message> {
  const nc = connected(holder);
  const pushed = new PushedMessages('NATS');
  const sub = nc.subscribe(subject, {
    callback: (error, msg) => {
      if (pushed.failed) return;
      if (error) return pushed.fail(errors.endpointUnavailable(`the NATS subscription failed: ${error.message}`));
      pushed.push(coreMessage(nextId(), msg.subject, msg.data, msg.headers));
    },
  });
  const offLost = holder.onDisconnect(() => pushed.fail(errors.endpointUnavailable('the NATS connection was lost')));
  try {
    yield* pushed.drain(signal);
  } finally {
    offLost();
    if (!nc.isClosed()) sub.unsubscribe();
  }
}

export async function* streamSubscription(holder: NatsConnectionHolder, stream: string, subject: string, start: StreamStart, signal: AbortSignal): AsyncGenerator<Message> {
  const nc = connected(holder);
  const options: Partial<OrderedConsumerOptions> = {
    filter_subjects: subject,
    ...('sequence' in start
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Math.max(1, start.sequence) }
      : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(start.time).toISOString() }),
  };
  let messages;
  let consumer;
  try {
    consumer = await jetstream(nc).consumers.get(stream, options);
    messages = await consumer.consume({ max_bytes: PULL_BYTES });
  } catch (error) {
    throw streamFailure(error, stream);
  }
  let lost = false;
  const end = () => void messages.stop();
  const offLost = holder.onDisconnect(() => {
    lost = true;
    end();
  });
  signal.addEventListener('abort', end, { once: true });
  try {
    if (signal.aborted) return;
    for await (const m of messages) {
      if (signal.aborted) return;
      yield streamMessage(stream, m.seq, m.subject, m.data, m.headers, m.info.timestampNanos);
    }
    if (lost) throw errors.endpointUnavailable('the NATS connection was lost');
  } finally {
    signal.removeEventListener('abort', end);
    offLost();
    end();
    // The ephemeral consumer would linger on the server for minutes (inactive threshold): delete it now.
    if (!nc.isClosed()) await consumer.delete().catch(() => {});
  }
}

/** The stream's first and last sequence now. */
export async function streamBounds(holder: NatsConnectionHolder, stream: string): Promise<{ first: number; last: number }> {
  const nc = connected(holder);
  try {
    const info = await (await jetstreamManager(nc)).streams.info(stream);
    return { first: info.state.first_seq, last: info.state.last_seq };
  } catch (error) {
    throw streamFailure(error, stream);
  }
}

function connected(holder: NatsConnectionHolder): NatsConnection {
  const nc = holder.current();
  if (!nc) throw errors.endpointUnavailable('NATS is unreachable');
  return nc;
}

/** A stream that does not exist is a configuration problem the operator must fix; anything else an outage. */
export function streamFailure(error: unknown, stream: string): GatewayError {
  if (error instanceof GatewayError) return error;
  const name = (error as Error)?.name ?? '';
  const message = (error as Error)?.message ?? String(error);
  if (name === 'StreamNotFoundError' || /stream not found/i.test(message)) {
    return new GatewayError('STREAM_NOT_FOUND', 502, `The JetStream stream "${stream}" does not exist on the NATS server: create it (nats stream add) or fix "stream".`, 1011);
  }
  return errors.endpointUnavailable(`JetStream did not answer: ${message}`);
}
