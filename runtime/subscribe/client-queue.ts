/**
 * One client's bounded queue behind a shared (fanout) subscription. `push` never blocks: when the
 * queue is full (`queueSize` messages, or `maxQueuedBytes` bytes counting what the sink has written
 * but not yet flushed, whichever comes first) the API's slow-consumer policy applies (`disconnect`: the client fails with
 * SLOW_CONSUMER, WebSocket 1013, and it is logged; `drop-oldest`: its oldest message is dropped
 * and counted). The entrypoint either iterates the queue or pipes it into a synchronous sink.
 */
import { DeliveryBatch, type Delivery } from './delivery.ts';
import { errors } from '../../core/errors.ts';
import { asGatewayError } from '../entrypoints/entrypoint.ts';
import { noTrafficMeter, type Tally, type Telemetry } from '../metrics/telemetry.ts';
import { log } from '../log.ts';
import type { Abortable } from '../abortable.ts';
import { BATCH_BYTES, BATCH_MESSAGES, heldBytes, type DeliverySink, type FanoutSettings, type QueuedBytes } from './sink.ts';

export { BATCH_BYTES, BATCH_MESSAGES, heldBytes, type DeliverySink, type FanoutSettings, type QueuedBytes } from './sink.ts';

/** The client queue behind a subscription, when the exchange gave a fanout client (pipe it instead of iterating). */
export function pipeable(source: AsyncIterable<Delivery>): ClientQueue | undefined {
  return source instanceof ClientQueue ? source : undefined;
}

/** One client's bounded queue; iterate it once, or `pipe` it into a sink. */
export class ClientQueue implements AsyncIterableIterator<Delivery> {
  #items: Delivery[] = [];
  /** heldBytes of each queued item, parallel to #items. */
  #weights: number[] = [];
  #head = 0;
  /** Sum of the queued items' weights. */
  #bytes = 0;
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
  /** The signal this queue listens to (Fanout.attach), until it is done. */
  abortedBy: Abortable | undefined = undefined;

  constructor(
    readonly settings: FanoutSettings,
    private readonly onDone: (queue: ClientQueue) => void,
    readonly apiId: string,
    /** The gateway's telemetry (drop-oldest events). */
    private readonly telemetry: Telemetry,
    private readonly onFailure?: (reason: unknown) => void,
    /** Counts what this client gets (delivered when handed to its consumer), loses and fails with. */
    readonly tally: Tally = noTrafficMeter,
    /** The fanout's shared total, where each delivery counts once however many queues hold it. */
    private readonly ledger: QueuedBytes = { bytes: 0 },
  ) {}

  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Bytes held for this client now: the queued deliveries plus the sink's unflushed bytes. */
  get bytes(): number {
    return this.#bytes + (this.#sink?.buffered?.() ?? 0);
  }

  /** Takes the oldest queued delivery off (its weight too). */
  #shift(): Delivery {
    const value = this.#items[this.#head]!;
    this.#bytes -= this.#weights[this.#head]!;
    this.ledger.bytes -= value.release();
    this.#items[this.#head] = undefined as unknown as Delivery;
    this.#weights[this.#head++] = 0;
    return value;
  }

  #clear(): void {
    for (let i = this.#head; i < this.#items.length; i++) this.ledger.bytes -= this.#items[i]!.release();
    this.#items = [];
    this.#weights = [];
    this.#head = 0;
    this.#bytes = 0;
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
    const weight = heldBytes(delivery);
    const { queueSize, maxQueuedBytes } = this.settings;
    // Nothing held for this client: one delivery is admitted whatever its size (a reading client gets any message).
    const over = () => this.size >= queueSize || (this.bytes > 0 && this.bytes + weight > maxQueuedBytes);
    if (over()) {
      if (this.settings.slowConsumerPolicy === 'disconnect') {
        const bytes = this.bytes + weight;
        log.warn({ api: this.apiId, queueSize, maxQueuedBytes, queued: this.size, bytes }, 'slow consumer disconnected');
        this.tally.dropped('slow-consumer', this.size + 1);
        this.fail(this.size >= queueSize ? errors.slowConsumer(queueSize) : errors.slowConsumerBytes(maxQueuedBytes));
        return;
      }
      let count = 0;
      while (this.size > 0 && over()) {
        this.#shift();
        count++;
      }
      this.dropped += count;
      this.tally.dropped('slow-consumer', count);
      this.telemetry.emit({ kind: 'dropped', api: this.apiId, reason: 'slow-consumer', count });
    }
    this.#items.push(delivery);
    this.#weights.push(weight);
    this.#bytes += weight;
    this.ledger.bytes += delivery.hold(weight);
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#weights = this.#weights.slice(this.#head);
      this.#head = 0;
    }
    if (this.size > this.highWater) this.highWater = this.size;
  }

  /**
   * Several deliveries at once (one turn's, from the fanout): a piped sink that is not paused gets
   * them with one writeMany (one write to the client); else each is pushed as above (queued, policy).
   */
  pushMany(batch: DeliveryBatch): void {
    if (this.#ended) return;
    const sink = this.#sink;
    if (sink !== undefined && !this.#paused && sink.writeMany !== undefined) {
      for (const delivery of batch.deliveries) this.tally.delivered(delivery.message.content.length);
      if (!this.#writeMany(batch)) this.#paused = true;
      return;
    }
    for (const delivery of batch.deliveries) {
      if (this.#ended) return;
      this.push(delivery);
    }
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
    const many = this.#sink.writeMany !== undefined;
    while (this.size > 0) {
      if (many && this.size > 1) {
        // A client that fell behind catches up with one write per batch, not one per message.
        const taken: Delivery[] = [];
        let bytes = 0;
        while (this.size > 0 && taken.length < BATCH_MESSAGES && bytes < BATCH_BYTES) {
          const value = this.#shift();
          bytes += value.message.content.length;
          this.tally.delivered(value.message.content.length);
          taken.push(value);
        }
        if (!this.#writeMany(new DeliveryBatch(taken))) {
          this.#paused = true;
          break;
        }
        continue;
      }
      const value = this.#shift();
      this.tally.delivered(value.message.content.length);
      if (!this.#write(value)) {
        this.#paused = true;
        break;
      }
    }
    if (this.size === 0) {
      this.#clear();
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

  #writeMany(batch: DeliveryBatch): boolean {
    try {
      return this.#sink!.writeMany!(batch);
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
    this.#clear();
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
      const value = this.#shift();
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

  /** Its client's connection aborted (the queue is that signal's listener, see Fanout.attach): it ends. */
  handleEvent(): void {
    void this.return();
  }

  return(): Promise<IteratorResult<Delivery>> {
    this.#failure = undefined;
    this.#clear();
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Delivery> {
    return this;
  }
}
