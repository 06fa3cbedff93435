/**
 * websocket (see websocket.ts): how a shared subscription's frames reach a client. Each frame's
 * bytes (header and payload) are built once per message for every client and written straight to
 * the client's socket; several at once (one turn of the event loop, or a client catching up on its
 * queue) go back to back in one write, joined once for every client that gets the same batch.
 * ws never queues a frame of its own on this server (no permessage-deflate, no Blob data), so a
 * whole frame written in one call cannot interleave with ws's pings and close frames.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { bytesOf, type Delivery, type DeliveryBatch } from '../subscribe/delivery.ts';
import type { ClientQueue, DeliverySink } from '../subscribe/fanout.ts';
import { HIGH_WATER, writeTo } from '../subscribe/sink.ts';
import { asGatewayError } from './entrypoint.ts';

/** Bytes buffered on a socket before the send loop waits for the client (the sinks' own, sink.ts). */
export { HIGH_WATER };

/** A delivery's wire frame (memoized on it) and its memo key (also DeliveryBatch.joined's). */
export interface WireEncoding {
  readonly key: string;
  readonly of: (delivery: Delivery) => Buffer;
}

/** The sink of one client: an object with the methods on its prototype (no closures per subscriber). */
export class SocketSink implements DeliverySink {
  constructor(
    private readonly queue: ClientQueue,
    private readonly ws: WebSocket,
    private readonly socket: Duplex,
    private readonly connection: { messages: number; readonly aborted: boolean; abort(reason: unknown): void },
    private readonly encoding: WireEncoding,
    /** Closes the WebSocket (1000 when the stream ended). */
    private readonly close: (code: number, reason: string) => void,
  ) {}

  write(delivery: Delivery): boolean {
    return this.#send(delivery, 1);
  }

  writeMany(batch: DeliveryBatch): boolean {
    return this.#send(batch, batch.deliveries.length);
  }

  end(error?: unknown): void {
    if (error !== undefined) this.connection.abort(asGatewayError(error));
    else if (!this.connection.aborted) this.close(1000, 'The stream ended.');
  }

  /** Written but not flushed: counts toward fanout.maxQueuedBytes with the queue. */
  buffered(): number {
    return this.socket.writableLength;
  }

  /** One frame, or several (one turn's, or a client catching up) back to back, in one write. */
  #send(item: Delivery | DeliveryBatch, count: number): boolean {
    // Closing (our close frame is on its way) or closed: nothing more goes out.
    if (this.ws.readyState !== this.ws.OPEN) return true;
    this.connection.messages += count;
    // Over HIGH_WATER the queue holds what follows until the client read this.
    return writeTo(this.socket, this.socket.writableLength, bytesOf(item, this.encoding.key, this.encoding.of), this.queue);
  }
}
