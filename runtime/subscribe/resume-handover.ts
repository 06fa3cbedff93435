/**
 * Hand-over: a client that resumed a shared endpoint from a cursor reads with a consumer of its own
 * only while it catches up, then continues on the shared fanout, without losing or repeating a
 * message. Positions are compared only through the endpoint's `cursorOrder` (Endpoint, endpoint.ts;
 * Kafka's: endpoints/kafka/cursor.ts); an endpoint without one is never handed over.
 *
 * Contract (`resumed`): yields the raw messages of `own` (the catch-up subscription, started at the
 * client's cursor) and, from the switch on, the deliveries of a fanout client; the caller applies
 * the subscribe flow to raw messages, fanout deliveries have had it already.
 *
 *   1. At once (and again after a failed attempt, see below) the client also attaches to the
 *      fanout; what the fanout delivers from then on is kept aside (at most `queueSize` messages
 *      and `maxQueuedBytes` bytes).
 *   2. The id of the first delivery kept aside is the fanout's position right after it (a Kafka id
 *      covers every partition); everything the fanout delivers later comes after that position.
 *   3. Once the catch-up consumer's position covers it (`cursorOrder.covers`: on Kafka, in every
 *      partition, it has passed every record the fanout passed up to there), `own` is closed (its
 *      consumer released, `onSwitch` runs: the resume slot is given back) and the client is served
 *      what was kept aside and then the fanout's deliveries, each skipped when the catch-up
 *      consumer had passed it already (`cursorOrder.passed`: on Kafka, its partition's offset is at
 *      or below where the catch-up consumer stopped).
 *
 * An attempt is given up (fanout client detached, catch-up continues, a new attempt after another
 * `queueSize` own messages) when more than `queueSize` deliveries (or `maxQueuedBytes`) were kept aside, or the fanout
 * upstream ended or failed before the switch. A topic that is quiet while the client catches up
 * gives no delivery to compare with: the client keeps its own consumer (and slot) until one comes.
 * After the switch the client is a fanout client: the API's queue size and slow-consumer policy
 * apply, and upstream failures end it as they end every fanout client.
 */
import type { Abortable } from '../abortable.ts';
import type { Message } from '../../core/message.ts';
import type { Delivery } from './delivery.ts';
import type { ChannelMember, Fanout } from './fanout.ts';
import { heldBytes, type ClientQueue, type FanoutSettings } from './client-queue.ts';
import type { CursorOrder } from '../endpoints/endpoint.ts';
import { asGatewayError } from '../entrypoints/entrypoint.ts';
import { errors } from '../../core/errors.ts';

export type Resumed = { readonly message: Message; readonly delivery?: undefined } | { readonly delivery: Delivery; readonly message?: undefined };

export interface HandoverPlan<Position> {
  /** The client's channel (channels): its fanout attachment is filtered as a fanout client's is. */
  readonly member?: ChannelMember;
  readonly fanout: Fanout;
  /** The endpoint's cursor order (Endpoint.cursorOrder): positions of cursors and message ids. */
  readonly order: CursorOrder<Position>;
  readonly settings: FanoutSettings;
  /** The client's cursor (where `own` started). */
  readonly cursor: string;
  /** The catch-up subscription; aborting `ownController` ends it. */
  readonly own: AsyncIterable<Message>;
  readonly ownController: AbortController;
  readonly signal: Abortable;
  /** The catch-up consumer is released: runs once, at the switch. */
  readonly onSwitch: () => void;
  readonly onFailure?: (reason: unknown) => void;
  /** A delivery dropped by drop-oldest after the switch. */
  readonly onDropped: () => void;
}

/** Kept aside from one attachment to the fanout. */
class Attempt {
  readonly kept: Delivery[] = [];
  /** heldBytes of what is kept aside (each at the time it was kept). */
  #keptBytes = 0;
  readonly #weights: number[] = [];
  /** Why it ended before it was detached by us (upstream failed / ended, too many kept aside). */
  over = false;
  failure: unknown;
  #detaching = false;
  #wake: (() => void) | undefined;
  readonly #queue: ClientQueue;

  constructor(
    fanout: Fanout,
    private readonly settings: FanoutSettings,
    signal: Abortable,
    private readonly switched: () => boolean,
    private readonly onDropped: () => void,
    private readonly onFailure: ((reason: unknown) => void) | undefined,
    member?: ChannelMember,
  ) {
    this.#queue = fanout.attach(signal, undefined, undefined, member);
    this.#queue.pipe({
      write: (delivery) => {
        const weight = heldBytes(delivery);
        const { queueSize, maxQueuedBytes } = this.settings;
        const over = () => this.kept.length >= queueSize || (this.kept.length > 0 && this.#keptBytes + weight > maxQueuedBytes);
        if (over()) {
          if (!this.switched()) this.#end(undefined);
          else if (this.settings.slowConsumerPolicy === 'drop-oldest') {
            while (this.kept.length > 0 && over()) {
              this.take();
              this.onDropped();
            }
          } else this.#end(this.kept.length >= queueSize ? errors.slowConsumer(queueSize) : errors.slowConsumerBytes(maxQueuedBytes));
          if (this.over) return true;
        }
        this.kept.push(delivery);
        this.#weights.push(weight);
        this.#keptBytes += weight;
        this.#notify();
        return true;
      },
      end: (error) => {
        if (this.#detaching) return;
        this.#end(error);
      },
    });
  }

  #end(failure: unknown): void {
    this.over = true;
    this.failure = failure;
    this.detach();
    // Abandoned before the switch (the own subscription goes on; a new attempt may follow): what it
    // kept aside goes now, not when the client's signal aborts.
    if (!this.switched()) this.kept.length = this.#weights.length = this.#keptBytes = 0;
    // Served by the fanout: fail at once, as a fanout client does (the consumer may be stuck writing).
    else if (failure !== undefined) {
      this.kept.length = this.#weights.length = this.#keptBytes = 0;
      this.onFailure?.(failure);
    }
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** The oldest delivery kept aside, taken off. */
  take(): Delivery | undefined {
    this.#keptBytes -= this.#weights.shift() ?? 0;
    return this.kept.shift();
  }

  /** Resolves at the next delivery kept aside or the end. */
  next(): Promise<void> {
    return new Promise((resolve) => (this.#wake = resolve));
  }

  detach(): void {
    this.#detaching = true;
    void this.#queue.return();
  }
}

export async function* resumed<Position>(plan: HandoverPlan<Position>): AsyncGenerator<Resumed> {
  const { fanout, settings, signal, order } = plan;
  let passed: Position = order.decode(plan.cursor);
  let switched = false;
  let attempt: Attempt | undefined;
  let ownSinceAttempt = 0;
  /** The first delivery kept aside, decoded once. */
  let target: { readonly delivery: Delivery; readonly position: Position } | undefined;
  const attach = () => {
    ownSinceAttempt = 0;
    attempt = new Attempt(fanout, settings, signal, () => switched, plan.onDropped, plan.onFailure, plan.member);
  };
  try {
    attach();
    for await (const message of plan.own) {
      if (signal.aborted) return;
      passed = order.decode(message.id);
      yield { message };
      if (attempt?.over) attempt = undefined;
      if (!attempt) {
        if (++ownSinceAttempt >= settings.queueSize) attach();
        continue;
      }
      const first = attempt.kept[0];
      if (first && first !== target?.delivery) target = { delivery: first, position: order.decode(first.message.id) };
      if (target && first && order.covers(passed, target.position)) {
        switched = true;
        break;
      }
    }
    if (!switched || signal.aborted) return;
    plan.ownController.abort();
  } finally {
    if (!switched || signal.aborted) attempt?.detach();
  }

  // Served by the fanout from here on (`own` was closed by the for-await's break).
  plan.onSwitch();
  const current = attempt!;
  const floor = passed;
  try {
    while (!signal.aborted) {
      const delivery = current.take();
      if (delivery) {
        if (order.passed(floor, delivery.message)) continue;
        yield { delivery };
        continue;
      }
      if (current.over) {
        if (current.failure !== undefined) throw asGatewayError(current.failure);
        return;
      }
      await current.next();
    }
  } finally {
    current.detach();
  }
}

/** A subscription without hand-over, in the same shape. */
export async function* messagesOf(own: AsyncIterable<Message>): AsyncGenerator<Resumed> {
  for await (const message of own) yield { message };
}
