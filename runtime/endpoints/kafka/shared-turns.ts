/**
 * The shared consumer of each channel of a Kafka endpoint ('' without topic templates), one at a time.
 *
 * A subscription without a cursor is always its channel's shared consumer: the API's group, its
 * lag series. The fanout opens one upstream per channel at a time, but when the last client leaves
 * and a new one arrives at once (a load balancer bouncing, a deploy), the new subscription starts
 * while the old consumer is still leaving the group. Per channel key:
 *
 *   idle      no turn: a new subscription joins the group at once;
 *   held      a turn: its promise resolves once its subscription left the group (release()) and
 *             its own wait (below) ended;
 *   handover  a new subscription takes the turn at once (synchronously: a third one queues
 *             behind it, never beside it) and waits for the previous turn before it joins (ready()),
 *             so this instance never has two members in the shared group and the old consumer's
 *             lag series are gone before the new one reports.
 *
 * The wait is bounded: it ends when the new subscription's signal aborts (ready() is false: it
 * does not join) and after RELEASE_WAIT_MS at most (a consumer stuck leaving: the new one joins
 * anyway; the broker drops the ghost member after its session timeout and the rebalance keeps each
 * partition's position). A turn given up by an aborted subscription still lasts until the previous
 * one left (bounded the same way), so a later one never overtakes a consumer still leaving, and
 * each step of a chain is bounded, so a chain never grows.
 * Nothing is lost meanwhile: a subscription starts at the records stamped since its client subscribed.
 */
import type { Logger } from '../../log.ts';

/** How long a new shared consumer waits for the previous one to leave its group, and stop() for the last ones. */
export const RELEASE_WAIT_MS = 5_000;

export interface SharedTurn {
  /** True once the channel's previous shared consumer left its group (at once without one) or RELEASE_WAIT_MS passed; false when `signal` aborted first. */
  ready(signal: AbortSignal): Promise<boolean>;
  /** This subscription's consumer left its group (or never joined it): call once, in a finally. */
  release(): void;
}

export class SharedTurns {
  readonly #turns = new Map<string, Promise<void>>();

  constructor(private readonly logger: Logger) {}

  take(channelKey: string): SharedTurn {
    const previous = this.#turns.get(channelKey);
    const waited = previous === undefined ? Promise.resolve() : settled(previous, RELEASE_WAIT_MS).then((left) => {
      if (!left) this.logger.warn({ channel: channelKey || undefined, waitedMs: RELEASE_WAIT_MS }, 'the previous shared Kafka consumer has not left its group yet: joining it anyway');
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const turn: Promise<void> = Promise.all([waited, released]).then(() => {
      if (this.#turns.get(channelKey) === turn) this.#turns.delete(channelKey);
    });
    this.#turns.set(channelKey, turn);
    return { ready: (signal) => settled(waited, undefined, signal), release };
  }

  /** Resolves once every shared consumer left its group, or after RELEASE_WAIT_MS. */
  async released(): Promise<void> {
    await settled(Promise.all(this.#turns.values()), RELEASE_WAIT_MS);
  }
}

/** True once `promise` resolved; false after `ms` (if given) or when `signal` aborted (if given), whichever comes first. */
export function settled(promise: Promise<unknown>, ms?: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (value: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', aborted);
      resolve(value);
    };
    const aborted = () => done(false);
    const timer = ms === undefined ? undefined : setTimeout(() => done(false), ms).unref();
    signal?.addEventListener('abort', aborted, { once: true });
    void promise.then(() => done(true), () => done(true));
  });
}
