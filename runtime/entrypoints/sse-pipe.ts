/**
 * sse (see sse.ts): how a shared subscription's events reach a client, and the streams' heartbeats. Each event is written
 * synchronously as it comes; several at once (one turn of the event loop, or a client catching up
 * on its queue) go out as consecutive chunks in one write, their bytes joined once for every client
 * that gets the same batch (DeliveryBatch).
 */
import type { ServerResponse } from 'node:http';
import { bytesOf, type Delivery, type DeliveryBatch } from '../subscribe/delivery.ts';
import type { ClientQueue, DeliverySink } from '../subscribe/fanout.ts';
import { HIGH_WATER, writeTo } from '../subscribe/sink.ts';
import type { HttpContext } from './entrypoint.ts';
import type { Connection } from '../connections.ts';

/** Bytes buffered on a response before the loop waits for the client to read (the sinks' own, sink.ts). */
export { HIGH_WATER };

const CRLF = Buffer.from('\r\n');

/**
 * An event as one HTTP/1.1 chunk: the bytes `res.write(event)` puts on a chunked response (size in
 * lowercase hex, CRLF, the event, CRLF), built once per message for every client of a fanout.
 */
export function chunkOf(event: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${event.length.toString(16)}\r\n`, 'latin1'), event, CRLF]);
}

/** A delivery's event and pre-framed chunk (memoized on it), with their memo keys (also DeliveryBatch.joined's). */
export interface Encodings {
  readonly eventKey: string;
  readonly event: (delivery: Delivery) => Buffer;
  readonly chunkKey: string;
  readonly chunk: (delivery: Delivery) => Buffer;
}

/**
 * How a piped stream ends, with why (the queue's failure, the connection's abort reason, or
 * undefined when the upstream ended): one function per entrypoint, given the stream's context.
 */
export type StreamEnd = (context: HttpContext, queue: ClientQueue, reason: unknown) => void;

/**
 * Pipes a fanout client queue into the response: each event is written synchronously as it comes;
 * over HIGH_WATER the queue pauses until that write is flushed. When the queue is over (slow
 * consumer, upstream error, the connection aborted, the upstream ended) `end` runs, once.
 *
 * While the response is chunked and holds nothing of its own (its writableLength is its socket's),
 * the event goes to the socket as one pre-framed chunk (`chunk`, shared by every client) in one
 * write: the same bytes in the same order as res.write, without its per-client chunk framing
 * (three writes, a cork and a nextTick uncork each). Otherwise (HTTP/1.0, a response still
 * buffering) res.write.
 */
export function pipe(queue: ClientQueue, context: HttpContext, encodings: Encodings, end: StreamEnd): void {
  queue.pipe(new ResponseSink(queue, context, encodings, end));
}

/**
 * The sink of one stream: an object with the methods on its prototype, and nothing else per
 * subscriber (no closure, no promise).
 */
class ResponseSink implements DeliverySink {
  private readonly res: ServerResponse;
  private readonly connection: Connection;

  constructor(
    private readonly queue: ClientQueue,
    private readonly context: HttpContext,
    private readonly encodings: Encodings,
    private readonly onEnd: StreamEnd,
  ) {
    this.res = context.res;
    this.connection = context.connection;
  }

  end(error?: unknown): void {
    const { connection } = this;
    this.onEnd(this.context, this.queue, error ?? (connection.aborted ? connection.reason : undefined));
  }

  write(delivery: Delivery): boolean {
    return this.#send(delivery, 1);
  }

  writeMany(batch: DeliveryBatch): boolean {
    return this.#send(batch, batch.deliveries.length);
  }

  /** One delivery, or several (one turn's, or a client catching up) as consecutive chunks, in one write. */
  #send(item: Delivery | DeliveryBatch, count: number): boolean {
    const { res, encodings } = this;
    if (res.writableEnded || res.destroyed) return true;
    this.connection.messages += count;
    const socket = res.socket;
    const length = res.writableLength;
    return socket !== null && res.chunkedEncoding && length === socket.writableLength
      ? writeTo(socket, length, bytesOf(item, encodings.chunkKey, encodings.chunk), this.queue)
      : writeTo(res, length, bytesOf(item, encodings.eventKey, encodings.event), this.queue);
  }

  /** Written but not flushed (the response's own buffer and its socket's): counts toward fanout.maxQueuedBytes. */
  buffered(): number {
    return Math.max(this.res.writableLength, this.res.socket?.writableLength ?? 0);
  }
}

/**
 * The heartbeat comments of one entrypoint's streams: one timer for all of them (not one per
 * subscriber), running while any stream is open. A stream whose client is not reading (over
 * HIGH_WATER) is skipped.
 */
export class Heartbeats {
  readonly #streams = new Set<ServerResponse>();
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs: number) {}

  add(res: ServerResponse): void {
    this.#streams.add(res);
    this.#timer ??= setInterval(() => {
      for (const stream of this.#streams) if (stream.writableLength < HIGH_WATER && !stream.writableEnded && !stream.destroyed) stream.write(': heartbeat\n\n');
    }, this.intervalMs);
  }

  delete(res: ServerResponse): void {
    this.#streams.delete(res);
    if (this.#streams.size > 0 || this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
