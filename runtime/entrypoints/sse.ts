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
 * Errors: a client error (bad cursor, 4xx) is answered with its HTTP status before the stream
 * starts. An endpoint failure (broker unavailable) or the stream ending for a reason (API
 * redeployed, gateway stopping, slow consumer) is sent as `event: error` with
 * `data: {"code","message"}`, then the response ends: EventSource reconnects after `retry` ms with
 * its Last-Event-ID, so a client resumes by itself once the broker is back.
 */
import { isUtf8 } from 'node:buffer';
import type { ServerResponse } from 'node:http';
import type { SseEntrypoint } from '../../schemas/types.ts';
import type { Message } from '../message.ts';
import type { Delivery } from '../delivery.ts';
import type { EntrypointFactory } from './entrypoint.ts';
import { SPECIFICITY, asGatewayError } from './entrypoint.ts';
import { GatewayError } from '../errors.ts';
import { pipeable, type ClientQueue } from '../fanout.ts';
import { emit } from '../telemetry.ts';

/** Bytes buffered on a response before the loop waits for the client to read. */
const HIGH_WATER = 256 * 1024;
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
 * Pipes a fanout client queue into the response: each event is written synchronously as it comes;
 * over HIGH_WATER the queue pauses until that write is flushed. Resolves with the queue's failure
 * (slow consumer, upstream error) or undefined when it ended.
 */
function piped(queue: ClientQueue, res: ServerResponse, connection: { messages: number }, event: (delivery: Delivery) => Buffer): Promise<unknown> {
  return new Promise((resolve) => {
    queue.pipe({
      write(delivery) {
        if (res.writableEnded || res.destroyed) return true;
        connection.messages++;
        if (res.writableLength < HIGH_WATER) {
          res.write(event(delivery));
          return true;
        }
        res.write(event(delivery), () => queue.resume());
        return false;
      },
      end: resolve,
    });
  });
}

/**
 * `promise`'s value, or undefined as soon as `signal` aborted. Attaches nothing that outlives the
 * call: racing each message against one promise that lives as long as the connection would keep
 * every race's reaction alive until the connection ends (hundreds of bytes per message).
 */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
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
async function write(res: ServerResponse, chunk: Buffer | string, signal: AbortSignal): Promise<void> {
  if (res.writableLength < HIGH_WATER) {
    res.write(chunk);
    return;
  }
  await unlessAborted(new Promise<void>((resolve) => res.write(chunk, () => resolve())), signal);
}

export const createSseEntrypoint: EntrypointFactory<SseEntrypoint> = (config) => {
  const heartbeatMs = Math.max(2000, config.heartbeatIntervalInMs ?? 5000);
  const retryMs = config.retryMs ?? 3000;
  const options: EventOptions = { headers: config.headersAsComment ?? false, metadata: config.metadataAsComment ?? false };
  const memoKey = `sse:${options.headers ? 'h' : ''}${options.metadata ? 'm' : ''}`;
  const encode = (message: Message) => encodeEvent(message, options);

  return {
    type: 'sse',
    specificity: SPECIFICITY.eventStream,
    accepts: (req, upgrade) => !upgrade && req.method === 'GET' && acceptsEventStream(req.headers.accept),
    async handle({ exchange, caller, url, req, res, connection }) {
      const lastEventId = req.headers['last-event-id'];
      const cursor = (typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : url.searchParams.get('cursor')) || undefined;
      if (cursor !== undefined && cursor.length > MAX_EVENT_ID) throw new GatewayError('INVALID_CURSOR', 400, 'Last-Event-ID is too long.', 1008);
      const onFailure = (reason: unknown) => connection.abort(reason);
      const source = exchange.subscribe(caller, { cursor, signal: connection.signal, onFailure });
      // Shared subscriptions: the fanout writes each event synchronously (no promise per message per client).
      const queue = pipeable(source);
      const iterator: AsyncIterator<Delivery> | undefined = queue ? undefined : source[Symbol.asyncIterator]();

      // A client error surfaces at once (bad cursor): answer it with its status before streaming.
      let first: IteratorResult<Delivery> | undefined;
      let failure: unknown;
      const pending = iterator?.next().then((result) => (first = result), (error) => (failure = error));
      if (iterator) await new Promise((resolve) => setImmediate(resolve));
      if (failure !== undefined && asGatewayError(failure).status < 500) throw failure;

      res.statusCode = 200;
      res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
      res.setHeader('Cache-Control', 'no-cache');
      res.setHeader('Connection', 'keep-alive');
      res.setHeader('X-Accel-Buffering', 'no');
      res.flushHeaders();
      res.write(`retry: ${retryMs}\n\n`);
      const heartbeat = setInterval(() => {
        if (res.writableLength < HIGH_WATER) res.write(': heartbeat\n\n');
      }, heartbeatMs);

      let reason: unknown;
      try {
        if (queue) {
          // The queue also ends when the connection aborts (the fanout listens to its signal).
          const error = await piped(queue, res, connection, (delivery) => delivery.encoded(memoKey, encode));
          reason = error ?? (connection.signal.aborted ? connection.signal.reason : undefined);
        } else {
          await unlessAborted(pending!, connection.signal);
          let next = first;
          if (failure !== undefined) throw failure;
          while (next && !next.done && !connection.signal.aborted) {
            connection.messages++;
            await write(res, next.value.encoded(memoKey, encode), connection.signal);
            if (connection.signal.aborted) break;
            next = await unlessAborted(iterator!.next(), connection.signal);
          }
          if (connection.signal.aborted) reason = connection.signal.reason;
        }
      } catch (error) {
        reason = error;
      } finally {
        clearInterval(heartbeat);
        if (queue) void queue.return();
        else void iterator?.return?.().catch(() => {});
      }
      const gatewayError = reason === undefined ? undefined : asGatewayError(reason);
      if (gatewayError?.code === 'SLOW_CONSUMER') emit({ kind: 'slow-consumer', api: exchange.id, entrypoint: 'sse' });
      if (!res.writableEnded && !res.destroyed) {
        if (gatewayError && gatewayError.code !== 'CLIENT_GONE') res.write(errorEvent(gatewayError));
        res.end();
      }
    },
  };
};
