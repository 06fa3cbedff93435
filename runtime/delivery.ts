/**
 * One message on its way to clients, with a memo of its encodings: an entrypoint builds its
 * frame (WebSocket) or event (SSE) once per message and every client of a shared subscription
 * reuses it. Keys are the entrypoint's encoding name plus any option that changes the bytes
 * (e.g. `sse:headers`).
 */
import type { Message } from './message.ts';

export class Delivery {
  #memoKey: string | undefined;
  #memoValue: unknown;
  #more: Map<string, unknown> | undefined;

  constructor(readonly message: Message) {}

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
