/**
 * The hand-over from a broker that pushes (an MQTT or NATS subscription callback, an AMQP consumer)
 * to a subscription's reader, which pulls: messages wait here while the reader is busy, bounded in
 * count and bytes (content and headers). Such a broker does not wait for us, so past either bound the subscription fails
 * with SLOW_CONSUMER (503 / 1013) rather than grow; a failure reaches the reader after the messages
 * that came before it. One per subscription; used by the mqtt, nats (core subjects) and rabbitmq
 * endpoints. (Kafka pulls, so its subscription pauses the fetch instead: kafka/subscription.ts.)
 */
import type { Message } from '../../core/message.ts';
import { GatewayError } from '../../core/errors.ts';

/** At most this many messages, and bytes (content plus header names and values), wait for one reader. */
export const PUSHED_MAX_MESSAGES = 10_000;
export const PUSHED_MAX_BYTES = 64 * 1024 * 1024;

export class PushedMessages {
  #buffer: Message[] = [];
  #bytes = 0;
  #failure: GatewayError | undefined;
  #wakeReader: (() => void) | undefined;

  constructor(
    /** The broker's name, for the SLOW_CONSUMER message ("MQTT", "NATS", "RabbitMQ"). */
    private readonly broker: string,
    private readonly maxMessages = PUSHED_MAX_MESSAGES,
    private readonly maxBytes = PUSHED_MAX_BYTES,
  ) {}

  /** It failed (slow reader, lost connection): what is pushed now is dropped. */
  get failed(): boolean {
    return this.#failure !== undefined;
  }

  push(message: Message): void {
    if (this.#failure) return;
    const bytes = weight(message);
    if (this.#buffer.length >= this.maxMessages || this.#bytes + bytes > this.maxBytes) {
      this.#failure = new GatewayError('SLOW_CONSUMER', 503,
        `More than ${this.maxMessages} ${this.broker} messages or ${this.maxBytes} bytes were waiting: the subscription ended.`, 1013);
    } else {
      this.#buffer.push(message);
      this.#bytes += bytes;
    }
    this.#wake();
  }

  /** Ends the subscription with `error` once the messages before it were read (the first failure wins). */
  fail(error: GatewayError): void {
    this.#failure ??= error;
    this.#wake();
  }

  /** Yields the messages in arrival order until `signal` aborts; throws the failure when the buffer is empty. */
  async *drain(signal: AbortSignal): AsyncGenerator<Message> {
    signal.addEventListener('abort', this.#wake, { once: true });
    try {
      while (!signal.aborted) {
        const next = this.#buffer.shift();
        if (next) {
          this.#bytes -= weight(next);
          yield next;
          continue;
        }
        if (this.#failure) throw this.#failure;
        await new Promise<void>((resolve) => (this.#wakeReader = resolve));
      }
    } finally {
      signal.removeEventListener('abort', this.#wake);
    }
  }

  readonly #wake = (): void => {
    const reader = this.#wakeReader;
    this.#wakeReader = undefined;
    reader?.();
  };
}

/** What a waiting message holds: its content and its headers (a broker may send large header tables). */
function weight(message: Message): number {
  let bytes = message.content.length;
  for (const name in message.headers) bytes += name.length + (message.headers[name]?.length ?? 0);
  return bytes;
}
