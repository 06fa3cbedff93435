/**
 * sse: subscribe with Server-Sent Events (GET with `Accept: text/event-stream`).
 *
 * Stream: headers `Content-Type: text/event-stream`, `Cache-Control: no-cache`; first `retry: <ms>`;
 * then per message `id: <message id>`, `event: message`, one `data:` line per content line (LF,
 * CRLF or CR split), a blank line. A heartbeat comment `: heartbeat` every heartbeatIntervalInMs.
 * `headersAsComment` / `metadataAsComment` add `: header <name>: <value>` / `: metadata <name>: <json>`
 * comment lines before the fields. Each event is encoded once per message for all clients (Delivery).
 *
 * Payload encoding: UTF-8 content is sent as is. Content that is not valid UTF-8 is sent base64
 * encoded as `event: message-base64` (listen with `addEventListener('message-base64', ...)`), so a
 * client never receives silently altered text.
 *
 * Resume: `Last-Event-ID` (what EventSource sends when it reconnects), else query `cursor`, resumes
 * strictly after that id where the endpoint can (Kafka, mock); the exchange ignores it on others (MQTT).
 *
 * A Last-Event-ID the API cannot resume from (INVALID_CURSOR: another API's or endpoint's id, after
 * a redeploy changed it) is ignored: the stream starts from now with a `: Last-Event-ID ignored`
 * comment, because EventSource gives up for good on any answer but 200 and would send the same id
 * again on every reconnect. An explicit `?cursor=` that is invalid (also one naming partitions
 * the topic does not have: the endpoint is asked before the stream starts) is a 400.
 *
 * Errors: a client error (bad `?cursor=`, 4xx) is answered with its HTTP status before the stream
 * starts. An endpoint failure (broker unavailable) or the stream ending for a reason (API
 * redeployed, gateway stopping, slow consumer) is sent as `event: error` with
 * `data: {"code","message"}`, then the response ends: EventSource reconnects after `retry` ms with
 * its Last-Event-ID, so a client resumes by itself once the broker is back.
 *
 * Too many clients resuming at once (RESUME_CAPACITY, see resume-capacity.ts) is such an error
 * too, not an HTTP 503: EventSource gives up for good on any status but 200, while after an
 * `event: error` it reconnects with its Last-Event-ID. Before the event the stream sets `retry:`
 * to the error's Retry-After with up to as much again of jitter, so a herd of refused clients
 * comes back spread out; the next stream's first `retry:` restores the configured interval.
 */
import { isUtf8 } from 'node:buffer';
import type { ServerResponse } from 'node:http';
import type { SseEntrypoint } from '../../schemas/types.ts';
import type { Message } from '../../core/message.ts';
import type { Delivery } from '../subscribe/delivery.ts';
import type { EntrypointFactory, HttpContext } from './entrypoint.ts';
import { SPECIFICITY, asGatewayError } from './entrypoint.ts';
import { GatewayError } from '../../core/errors.ts';
import { pipeable, type ClientQueue } from '../subscribe/fanout.ts';
import type { Abortable } from '../abortable.ts';
import { abortsOnFailure } from '../connections.ts';
import { HIGH_WATER, Heartbeats, chunkOf, pipe, type Encodings, type StreamEnd } from './sse-pipe.ts';

export { chunkOf } from './sse-pipe.ts';

/** Longest Last-Event-ID / cursor accepted, in characters. */
const MAX_EVENT_ID = 16_384;

interface EventOptions {
  readonly headers: boolean;
  readonly metadata: boolean;
}

const LINE_BREAK = /\r\n|\r|\n/;
/** Comment and field text must not break the event framing. */
const oneLine = (text: string) => text.replace(/[\r\n]+/g, ' ');

export function encodeEvent(message: Message, options: EventOptions): Buffer {
  const lines: string[] = [];
  if (options.headers) for (const [name, value] of Object.entries(message.headers)) lines.push(`: header ${oneLine(name)}: ${oneLine(value)}`);
  if (options.metadata) for (const [name, value] of Object.entries(message.metadata)) lines.push(`: metadata ${oneLine(name)}: ${oneLine(JSON.stringify(value))}`);
  lines.push(`id: ${oneLine(message.id)}`);
  if (isUtf8(message.content)) {
    lines.push('event: message');
    for (const line of message.content.toString('utf8').split(LINE_BREAK)) lines.push(`data: ${line}`);
  } else {
    lines.push('event: message-base64', `data: ${message.content.toString('base64')}`);
  }
  return Buffer.from(`${lines.join('\n')}\n\n`, 'utf8');
}

function errorEvent(error: GatewayError): string {
  return `event: error\ndata: ${JSON.stringify({ code: error.code, message: oneLine(error.message) })}\n\n`;
}

function acceptsEventStream(accept: string | string[] | undefined): boolean {
  return typeof accept === 'string' && accept.toLowerCase().includes('text/event-stream');
}

/**
 * `promise`'s value, or undefined as soon as `signal` aborted. Attaches nothing that outlives the
 * call: racing each message against one promise that lives as long as the connection would keep
 * every race's reaction alive until the connection ends (hundreds of bytes per message).
 */
function unlessAborted<T>(promise: Promise<T>, signal: Abortable): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Writes, waiting for the client to read while the buffer is over HIGH_WATER (or the connection ends). */
async function write(res: ServerResponse, chunk: Buffer | string, signal: Abortable): Promise<void> {
  if (res.writableLength < HIGH_WATER) {
    res.write(chunk);
    return;
  }
  await unlessAborted(new Promise<void>((resolve) => res.write(chunk, () => resolve())), signal);
}

interface OpenedStream {
  /** Set for a shared subscription: pipe it. */
  readonly queue: ClientQueue | undefined;
  /** Set for a subscription of its own: iterate it (its first step is `pending`). */
  readonly iterator: AsyncIterator<Delivery> | undefined;
  readonly pending: Promise<{ first?: IteratorResult<Delivery>; failure?: unknown }> | undefined;
  /** A client error the subscription failed with at once (bad cursor): answered before streaming. */
  readonly refused: GatewayError | undefined;
}

const refusedWith = (refused: GatewayError): OpenedStream => ({ queue: undefined, iterator: undefined, pending: undefined, refused });
/** A subscription refused at once with a 5xx (RESUME_CAPACITY): the stream starts and ends with its error event. */
const failedWith = (failure: GatewayError): OpenedStream => ({ queue: undefined, iterator: undefined, pending: Promise.resolve({ failure }), refused: undefined });

/** Takes the first step of a subscription of its own, so that a client error surfaces before the stream starts. */
async function opened(source: AsyncIterable<Delivery>): Promise<OpenedStream> {
  // Shared subscriptions: the fanout writes each event synchronously (no promise per message per client).
  const queue = pipeable(source);
  if (queue) return { queue, iterator: undefined, pending: undefined, refused: undefined };
  const iterator = source[Symbol.asyncIterator]();
  let failure: unknown;
  const pending = iterator.next().then((first) => ({ first }), (error: unknown) => ({ failure: (failure = error) }));
  await new Promise((resolve) => setImmediate(resolve));
  if (failure !== undefined && asGatewayError(failure).status < 500) return refusedWith(asGatewayError(failure));
  return { queue: undefined, iterator, pending, refused: undefined };
}

/** Writes a subscription of its own until it ends or the connection aborts: resolves with why it ended (undefined: it ended). */
async function iterated(
  iterator: AsyncIterator<Delivery>,
  pending: NonNullable<OpenedStream['pending']>,
  res: ServerResponse,
  connection: Abortable & { messages: number },
  memoKey: string,
  encode: (message: Message) => Buffer,
): Promise<unknown> {
  const settled = await unlessAborted(pending, connection);
  let next = settled?.first;
  if (settled?.failure !== undefined) throw settled.failure;
  while (next && !next.done && !connection.aborted) {
    connection.messages++;
    await write(res, next.value.encoded(memoKey, encode), connection);
    if (connection.aborted) break;
    next = await unlessAborted(iterator.next(), connection);
  }
  return connection.aborted ? connection.reason : undefined;
}

/** The end of a stream that started: its error event (unless the client left), then the end of the response. */
function ended(exchange: HttpContext['exchange'], res: ServerResponse, reason: unknown): void {
  const gatewayError = reason === undefined ? undefined : asGatewayError(reason);
  if (gatewayError?.code === 'SLOW_CONSUMER') exchange.telemetry.emit({ kind: 'slow-consumer', api: exchange.id, entrypoint: 'sse' });
  if (res.writableEnded || res.destroyed) return;
  const retryAfter = Number(gatewayError?.headers['Retry-After']);
  if (retryAfter > 0) res.write(`retry: ${Math.round(retryAfter * 1000 * (1 + Math.random()))}\n\n`);
  if (gatewayError && gatewayError.code !== 'CLIENT_GONE') res.write(errorEvent(gatewayError));
  res.end();
  // A slow consumer that still does not read is cut after a grace period: what it was not
  // sent stays in memory until then (as a WebSocket that never answers the close handshake).
  if (gatewayError?.code === 'SLOW_CONSUMER') setTimeout(() => res.writableFinished || res.destroy(), 2000).unref();
}

export const createSseEntrypoint: EntrypointFactory<SseEntrypoint> = (config) => {
  const heartbeatMs = Math.max(2000, config.heartbeatIntervalInMs ?? 5000);
  const heartbeats = new Heartbeats(heartbeatMs);
  const retryMs = config.retryMs ?? 3000;
  const options: EventOptions = { headers: config.headersAsComment ?? false, metadata: config.metadataAsComment ?? false };
  const memoKey = `sse:${options.headers ? 'h' : ''}${options.metadata ? 'm' : ''}`;
  const encode = (message: Message) => encodeEvent(message, options);
  const chunkKey = `${memoKey}:chunk`;
  const encodeChunk = (message: Message) => chunkOf(encodeEvent(message, options));
  // Shared by every stream of this entrypoint (no closures per connection).
  const encodings: Encodings = {
    eventKey: memoKey,
    event: (delivery) => delivery.encoded(memoKey, encode),
    chunkKey,
    chunk: (delivery) => delivery.encoded(chunkKey, encodeChunk),
  };

  // How a stream of a shared subscription ends: one function for all of them (see HttpContext.detach).
  const endPiped: StreamEnd = (context, queue, reason) => {
    try {
      heartbeats.delete(context.res);
      void queue.return();
      ended(context.exchange, context.res, reason);
    } finally {
      // Whatever happened above, the request gets its log line and its connection is released.
      context.ended();
    }
  };

  return {
    type: 'sse',
    specificity: SPECIFICITY.eventStream,
    accepts: (req, upgrade) => !upgrade && req.method === 'GET' && acceptsEventStream(req.headers.accept),
    async handle(context) {
      const { exchange, caller, url, req, res, connection } = context;
      const header = req.headers['last-event-id'];
      const lastEventId = typeof header === 'string' && header !== '' ? header : undefined;
      const cursor = lastEventId ?? (url.searchParams.get('cursor') || undefined);
      const subscribe = (from: string | undefined) => {
        const onFailure = abortsOnFailure(connection);
        let source: AsyncIterable<Delivery>;
        try {
          source = exchange.subscribe(caller, { cursor: from, signal: connection, onFailure });
        } catch (error) {
          const refused = asGatewayError(error);
          return Promise.resolve(refused.status < 500 ? refusedWith(refused) : failedWith(refused));
        }
        return opened(source);
      };
      // A cursor the endpoint refuses (partitions the topic does not have) is known before the stream starts.
      const refusal = cursor !== undefined && cursor.length > MAX_EVENT_ID
        ? new GatewayError('INVALID_CURSOR', 400, 'Last-Event-ID is too long.', 1008)
        : await exchange.cursorRefusal(cursor);
      let stream = refusal ? refusedWith(refusal) : await subscribe(cursor);
      let ignored: GatewayError | undefined;
      if (lastEventId !== undefined && stream.refused?.code === 'INVALID_CURSOR') {
        ignored = stream.refused;
        stream = await subscribe(undefined);
      }
      if (stream.refused) throw stream.refused;
      const { queue, iterator, pending } = stream;

      res.statusCode = 200;
      res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
      res.setHeader('Cache-Control', 'no-cache');
      res.setHeader('Connection', 'keep-alive');
      res.setHeader('X-Accel-Buffering', 'no');
      res.flushHeaders();
      res.write(`retry: ${retryMs}\n\n`);
      if (ignored) res.write(`: Last-Event-ID ignored (${ignored.code}: ${oneLine(ignored.message)}): the stream starts now\n\n`);
      heartbeats.add(res);

      if (queue) {
        // Detached: handle resolves now, and the stream's end comes by endPiped (the queue also
        // ends when the connection aborts: the fanout listens to it). No frame, closure or promise
        // of this request lives as long as the stream.
        context.detach();
        pipe(queue, context, encodings, endPiped);
        return;
      }
      // Returned, not awaited: no frame of handle stays suspended for the life of the stream.
      const done = (reason: unknown) => {
        heartbeats.delete(res);
        void iterator?.return?.().catch(() => {});
        ended(exchange, res, reason);
      };
      return iterated(iterator!, pending!, res, connection, memoKey, encode).then(done, done);
    },
  };
};
