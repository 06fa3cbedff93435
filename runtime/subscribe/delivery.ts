/**
 * One message on its way to clients, with a memo of its encodings: an entrypoint builds its
 * frame (WebSocket) or event (SSE) once per message and every client of a shared subscription
 * reuses it. Keys are the entrypoint's encoding name plus any option that changes the bytes
 * (e.g. `sse:headers`).
 */
import type { Message } from '../../core/message.ts';

export class Delivery {
  #memoKey: string | undefined;
  #memoValue: unknown;
  #more: Map<string, unknown> | undefined;
  /** Client queues holding it now, and its bytes when the first of them took it (see hold). */
  #holders = 0;
  #heldBytes = 0;

  constructor(readonly message: Message) {}

  /**
   * One more client queue holds it: returns `bytes` when it was held by none (count it once in a
   * shared total), else 0. `release` returns what `hold` counted once the last holder let go.
   */
  hold(bytes: number): number {
    if (this.#holders++ > 0) return 0;
    this.#heldBytes = bytes;
    return bytes;
  }

  release(): number {
    if (this.#holders === 0 || --this.#holders > 0) return 0;
    return this.#heldBytes;
  }

  /** Bytes of the Buffer encodings built so far (frames, events); what this delivery pins besides its content. */
  encodedBytes(): number {
    let bytes = Buffer.isBuffer(this.#memoValue) ? this.#memoValue.length : 0;
    if (this.#more) for (const value of this.#more.values()) if (Buffer.isBuffer(value)) bytes += value.length;
    return bytes;
  }

  encoded<T>(key: string, encode: (message: Message) => T): T {
    if (this.#memoKey === key) return this.#memoValue as T;
    if (this.#memoKey === undefined) {
      this.#memoKey = key;
      this.#memoValue = encode(this.message);
      return this.#memoValue as T;
    }
    this.#more ??= new Map();
    if (this.#more.has(key)) return this.#more.get(key) as T;
    const value = encode(this.message);
    this.#more.set(key, value);
    return value;
  }
}

/**
 * Deliveries handed to a client together: what one turn of the event loop brought (a Kafka fetch,
 * several MQTT packets from one TCP read, a burst), or what a client that fell behind has queued.
 * The fanout hands the same batch to every client of a channel, so the entrypoint's joined bytes
 * (frames back to back, events in one chunk) are built once for all of them: one write per client.
 */
export class DeliveryBatch {
  /**
   * The joined bytes per key, made when a second delivery is joined: one entry per entrypoint
   * encoding its clients use (a WebSocket frame, an SSE chunk or event), a handful at most.
   */
  #joined: Map<string, Buffer> | undefined;

  constructor(readonly deliveries: readonly Delivery[]) {}

  /** The deliveries' encodings (each from `encode`, itself memoized per delivery) back to back, built once per key. */
  joined(key: string, encode: (delivery: Delivery) => Buffer): Buffer {
    if (this.deliveries.length === 1) return encode(this.deliveries[0]!);
    this.#joined ??= new Map();
    let joined = this.#joined.get(key);
    if (joined === undefined) {
      joined = Buffer.concat(this.deliveries.map(encode));
      this.#joined.set(key, joined);
    }
    return joined;
  }
}

/** A delivery's encoding (memoized on it), or a batch's joined (once per key): what a sink writes, with one write. */
export function bytesOf(item: Delivery | DeliveryBatch, key: string, encode: (delivery: Delivery) => Buffer): Buffer {
  return item instanceof DeliveryBatch ? item.joined(key, encode) : encode(item);
}
