/**
 * sse (see sse.ts): how a shared subscription's events reach a client. Each event is written
 * synchronously as it comes; several at once (one turn of the event loop, or a client catching up
 * on its queue) go out as consecutive chunks in one write, their bytes joined once for every client
 * that gets the same batch (DeliveryBatch).
 */
import type { ServerResponse } from 'node:http';
import { DeliveryBatch, type Delivery } from '../subscribe/delivery.ts';
import type { ClientQueue } from '../subscribe/fanout.ts';

/** Bytes buffered on a response before the loop waits for the client to read. */
export const HIGH_WATER = 256 * 1024;

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
 * Pipes a fanout client queue into the response: each event is written synchronously as it comes;
 * over HIGH_WATER the queue pauses until that write is flushed. Resolves with the queue's failure
 * (slow consumer, upstream error) or undefined when it ended.
 *
 * While the response is chunked and holds nothing of its own (its writableLength is its socket's),
 * the event goes to the socket as one pre-framed chunk (`chunk`, shared by every client) in one
 * write: the same bytes in the same order as res.write, without its per-client chunk framing
 * (three writes, a cork and a nextTick uncork each). Otherwise (HTTP/1.0, a response still
 * buffering) res.write.
 */
export function piped(
  queue: ClientQueue,
  res: ServerResponse,
  connection: { messages: number },
  encodings: Encodings,
): Promise<unknown> {
  return new Promise((resolve) => {
    // One delivery, or several (one turn's, or a client catching up) as consecutive chunks in one write.
    const send = (batch: DeliveryBatch): boolean => {
      if (res.writableEnded || res.destroyed) return true;
      connection.messages += batch.deliveries.length;
      const socket = res.socket;
      const length = res.writableLength;
      const [target, bytes] = socket !== null && res.chunkedEncoding && length === socket.writableLength
        ? [socket, batch.joined(encodings.chunkKey, encodings.chunk)]
        : [res, batch.joined(encodings.eventKey, encodings.event)];
      if (length < HIGH_WATER) {
        target.write(bytes);
        return true;
      }
      target.write(bytes, () => queue.resume());
      return false;
    };
    queue.pipe({
      write: (delivery) => send(new DeliveryBatch([delivery])),
      writeMany: send,
      end: resolve,
      // Written but not flushed (the response's own buffer and its socket's): counts toward fanout.maxQueuedBytes.
      buffered: () => Math.max(res.writableLength, res.socket?.writableLength ?? 0),
    });
  });
}

