/**
 * Per API, plan and subscription, what this gateway admitted and refused since it started,
 * for the admin port's /status. Survives bundle swaps (keyed by ids, not by objects). Holds counts only.
 */
export interface SubscriptionCounters {
  /** New requests and connections admitted. */
  requests: number;
  /** Messages published by clients and admitted. */
  messages: number;
  /** Calls refused with 429 (rate limit or quota) or 503 (store down, deny strategy). */
  rejected: number;
}

/** Stats key for callers without a subscription (keyless plans). */
export const NO_SUBSCRIPTION = '';

const MAX_ROWS = 10_000;

function key(apiId: string, planKey: string, subscription: string): string {
  return `${apiId}\u0000${planKey}\u0000${subscription}`;
}

/** One gateway's table (its RateLimitStore holds it), bounded to MAX_ROWS rows (the oldest goes first). */
export class AdmissionStats {
  readonly #table = new Map<string, SubscriptionCounters>();

  /** The live counters row (created on first use). */
  countersOf(apiId: string, planKey: string, subscription: string = NO_SUBSCRIPTION): SubscriptionCounters {
    const k = key(apiId, planKey, subscription);
    let row = this.#table.get(k);
    if (!row) {
      if (this.#table.size >= MAX_ROWS) this.#table.delete(this.#table.keys().next().value as string);
      row = { requests: 0, messages: 0, rejected: 0 };
      this.#table.set(k, row);
    }
    return row;
  }

  /** A copy of the counters, zeros when nothing was counted yet. */
  read(apiId: string, planKey: string, subscription: string = NO_SUBSCRIPTION): SubscriptionCounters {
    const row = this.#table.get(key(apiId, planKey, subscription));
    return row ? { ...row } : { requests: 0, messages: 0, rejected: 0 };
  }
}
