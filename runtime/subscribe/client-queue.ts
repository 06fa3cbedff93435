/**
 * One client's bounded queue behind a shared (fanout) subscription. `push` never blocks: when the
 * queue is full the API's slow-consumer policy applies (`disconnect`: the client fails with
 * SLOW_CONSUMER, WebSocket 1013, and it is logged; `drop-oldest`: its oldest message is dropped
 * and counted). The entrypoint either iterates the queue or pipes it into a synchronous sink.
 */
import type { Delivery } from './delivery.ts';
import { errors } from '../../core/errors.ts';
import { asGatewayError } from '../entrypoints/entrypoint.ts';
import { emit, noTrafficMeter, type Tally } from '../metrics/telemetry.ts';
import { log } from '../log.ts';

export interface FanoutSettings {
  readonly queueSize: number;
  readonly slowConsumerPolicy: 'disconnect' | 'drop-oldest';
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
  end(error?: unknown): void;
}

/** The client queue behind a subscription, when the exchange gave a fanout client (pipe it instead of iterating). */
export function pipeable(source: AsyncIterable<Delivery>): ClientQueue | undefined {
  return source instanceof ClientQueue ? source : undefined;
}

/** One client's bounded queue; iterate it once, or `pipe` it into a sink. */
export class ClientQueue implements AsyncIterableIterator<Delivery> {
  #items: Delivery[] = [];
  #head = 0;
  #waiter: ((result: IteratorResult<Delivery>) => void) | undefined;
  #failWaiter: ((error: unknown) => void) | undefined;
  #failure: unknown;
  #ended = false;
  #sink: DeliverySink | undefined;
  /** Piped and the sink's buffer is full: deliveries queue until `resume()`. */
  #paused = false;
  #finished = false;
  /** Messages dropped by drop-oldest. */
  dropped = 0;
  /** Most messages ever queued at once (<= queueSize). */
  highWater = 0;

  constructor(
    readonly settings: FanoutSettings,
    private readonly onDone: (queue: ClientQueue) => void,
    readonly apiId: string,
    private readonly onFailure?: (reason: unknown) => void,
    /** Counts what this client gets (delivered when handed to its consumer), loses and fails with. */
    readonly tally: Tally = noTrafficMeter,
  ) {}

  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Called by the fanout for every message; never blocks. */
  push(delivery: Delivery): void {
    if (this.#ended) return;
    if (this.#sink !== undefined && !this.#paused) {
      // Not paused means nothing is queued: straight to the client.
      this.tally.delivered(delivery.message.content.length);
      if (!this.#write(delivery)) this.#paused = true;
      return;
    }
    if (this.#waiter) {
      const wake = this.#waiter;
      this.#waiter = this.#failWaiter = undefined;
      this.tally.delivered(delivery.message.content.length);
      wake({ value: delivery, done: false });
      return;
    }
    if (this.size >= this.settings.queueSize) {
      if (this.settings.slowConsumerPolicy === 'disconnect') {
        log.warn({ api: this.apiId, queueSize: this.settings.queueSize }, 'slow consumer disconnected');
        this.tally.dropped('slow-consumer', this.size + 1);
        this.fail(errors.slowConsumer(this.settings.queueSize));
        return;
      }
      this.#head++;
      this.dropped++;
      this.tally.dropped('slow-consumer', 1);
      emit({ kind: 'dropped', api: this.apiId, reason: 'slow-consumer', count: 1 });
    }
    this.#items.push(delivery);
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    if (this.size > this.highWater) this.highWater = this.size;
  }

  /**
   * Push mode: every delivery queued so far, and each later one, goes to `sink.write` as it comes
   * (call once, instead of iterating).
   */
  pipe(sink: DeliverySink): void {
    if (this.#sink !== undefined) throw new Error('a client queue is piped once');
    this.#sink = sink;
    this.resume();
  }

  /** The sink can take deliveries again: writes the queued ones until it is full again or none is left. */
  resume(): void {
    if (this.#sink === undefined) return;
    this.#paused = false;
    while (this.size > 0) {
      const value = this.#items[this.#head]!;
      this.#items[this.#head++] = undefined as unknown as Delivery;
      this.tally.delivered(value.message.content.length);
      if (!this.#write(value)) {
        this.#paused = true;
        break;
      }
    }
    if (this.size === 0) {
      this.#items = [];
      this.#head = 0;
      if (this.#ended) this.#finish();
    }
  }

  #write(delivery: Delivery): boolean {
    try {
      return this.#sink!.write(delivery);
    } catch (error) {
      log.error({ api: this.apiId, err: error }, 'a delivery sink threw');
      this.fail(asGatewayError(error));
      return false;
    }
  }

  /** Tells the sink the stream is over (once). */
  #finish(): void {
    if (this.#finished || this.#sink === undefined) return;
    this.#finished = true;
    this.#sink.end(this.#failure);
  }

  /** Ends the iteration after the queued messages (upstream ended). */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#waiter) {
      const wake = this.#waiter;
      this.#waiter = this.#failWaiter = undefined;
      wake({ value: undefined, done: true });
    }
    if (this.size === 0) this.#finish();
    this.onDone(this);
  }

  /** Ends the iteration now with an error (slow consumer, upstream failure); queued messages are dropped. */
  fail(error: unknown): void {
    if (this.#ended) return;
    this.#failure = error;
    this.#items = [];
    this.#head = 0;
    this.#ended = true;
    this.tally.failed(error);
    if (this.#failWaiter) {
      const reject = this.#failWaiter;
      this.#waiter = this.#failWaiter = undefined;
      reject(error);
    }
    this.#finish();
    this.onDone(this);
    // The consumer may be stuck writing to a client that does not read: tell it now.
    this.onFailure?.(error);
  }

  next(): Promise<IteratorResult<Delivery>> {
    if (this.size > 0) {
      const value = this.#items[this.#head]!;
      this.#items[this.#head++] = undefined as unknown as Delivery;
      this.tally.delivered(value.message.content.length);
      return Promise.resolve({ value, done: false });
    }
    if (this.#failure !== undefined) {
      const failure = this.#failure;
      this.#failure = undefined;
      return Promise.reject(failure);
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.#waiter = resolve;
      this.#failWaiter = reject;
    });
  }

  return(): Promise<IteratorResult<Delivery>> {
    this.#failure = undefined;
    this.#items = [];
    this.#head = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Delivery> {
    return this;
  }
}
