/**
 * Resume capacity: how many clients of one API may resume from a cursor at once on this runtime
 * instance. A resuming client of a shared endpoint (Kafka) bypasses the fanout and reads with a
 * consumer of its own for its whole connection (see Exchange.subscribe); after an outage or a
 * redeploy every EventSource client reconnects with its Last-Event-ID at once, so without a bound
 * N clients would open N consumers. `fanout.maxResumingSubscriptions` bounds them; beyond it a
 * resume is refused with RESUME_CAPACITY (503, Retry-After) and the client retries later.
 *
 * Contract: `acquire` takes a slot synchronously or throws; each slot is given back exactly once,
 * by `release` (the subscription ended, its consumer released) or, for a subscription that was
 * never iterated, when its signal aborts.
 */
import type { Abortable } from '../abortable.ts';
import { errors, type GatewayError } from '../../core/errors.ts';

/** Seconds a refused client is asked to wait (Retry-After; SSE clients get it as their retry, with jitter). */
export const RESUME_RETRY_AFTER_SECONDS = 5;

export class ResumeCapacity {
  #active = 0;

  constructor(readonly limit: number) {}

  /** Slots held now. */
  get active(): number {
    return this.#active;
  }

  /** The refusal a resume would get now (a WebSocket handshake checks before upgrading); reserves nothing. */
  refusal(): GatewayError | undefined {
    return this.#active >= this.limit ? errors.resumeCapacity(this.limit, RESUME_RETRY_AFTER_SECONDS) : undefined;
  }

  /** A slot, or throws RESUME_CAPACITY. */
  acquire(signal: Abortable): ResumeSlot {
    const refusal = this.refusal();
    if (refusal) throw refusal;
    this.#active++;
    return new ResumeSlot(() => this.#active--, signal);
  }
}

/** One held slot. Given back once: by `release`, or on abort while not `started`. */
export class ResumeSlot {
  #give: (() => void) | undefined;
  readonly #signal: Abortable;
  readonly #onAbort = () => this.release();

  constructor(give: () => void, signal: Abortable) {
    this.#give = give;
    this.#signal = signal;
    if (signal.aborted) this.release();
    else signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** The subscription runs: from now on only `release` (when it ended) gives the slot back. */
  started(): void {
    this.#signal.removeEventListener('abort', this.#onAbort);
  }

  release(): void {
    const give = this.#give;
    this.#give = undefined;
    this.#signal.removeEventListener('abort', this.#onAbort);
    give?.();
  }
}
