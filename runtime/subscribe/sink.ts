/**
 * What a client queue (client-queue.ts) is bounded by and writes into: the fanout settings, the
 * bytes a queued delivery pins, the synchronous sink an entrypoint pipes a queue into, and that
 * sink's write with backpressure (writeTo).
 */
import type { Delivery, DeliveryBatch } from './delivery.ts';

export interface FanoutSettings {
  readonly queueSize: number;
  readonly slowConsumerPolicy: 'disconnect' | 'drop-oldest';
  /** Bytes held for one client (queued deliveries plus the sink's unflushed bytes) before the policy applies. */
  readonly maxQueuedBytes: number;
}

/**
 * The bytes a queued delivery pins: its content and every encoding built so far (a frame shared by
 * many clients is one Buffer, but each queue holding it pins it, so each counts it).
 */
export function heldBytes(delivery: Delivery): number {
  return delivery.message.content.length + delivery.encodedBytes();
}

/** Bytes held by every client queue of one fanout, a delivery held by several counted once (metrics). */
export interface QueuedBytes {
  bytes: number;
}

/**
 * The push side of a client queue, for entrypoints that write synchronously: the fast path, with
 * no promise per message per client. `write` takes one delivery and returns false when the
 * client's send buffer is full; the queue then holds what follows (bounded, slow-consumer policy)
 * until the entrypoint calls `resume()`. `write` must not throw. `end` runs exactly once when the
 * stream is over: with the failure (slow consumer, upstream error), or undefined when the upstream
 * ended (after every queued delivery was written) or the client left.
 */
export interface DeliverySink {
  write(delivery: Delivery): boolean;
  /**
   * Optional: several deliveries in order with one write to the client (frames back to back, events
   * in one chunk), false when the send buffer is full afterwards. Without it they go to `write` one by one.
   */
  writeMany?(batch: DeliveryBatch): boolean;
  end(error?: unknown): void;
  /** Bytes written to the client but not yet flushed (socket.writableLength); counts toward maxQueuedBytes. */
  buffered?(): number;
}

/** Bytes a client's socket (or response) buffers before its queue waits for the client to read. */
export const HIGH_WATER = 256 * 1024;

/**
 * A sink's one write of a delivery's (or a batch's) bytes to its client, `buffered` bytes being
 * unflushed there: true while those were under HIGH_WATER; else false (the queue holds what follows)
 * and the queue resumes once these bytes are flushed (a closure only then).
 */
export function writeTo(target: { write(bytes: Buffer, flushed?: () => void): unknown }, buffered: number, bytes: Buffer, queue: { resume(): void }): boolean {
  if (buffered < HIGH_WATER) {
    target.write(bytes);
    return true;
  }
  target.write(bytes, () => queue.resume());
  return false;
}

/** Most deliveries (and bytes) one writeMany takes when a client catches up on its queue. */
export const BATCH_MESSAGES = 64;
export const BATCH_BYTES = 64 * 1024;

