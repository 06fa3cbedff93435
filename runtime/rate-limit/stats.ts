/**
 * Per API, plan and subscription, what this runtime instance admitted and refused since it started,
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

const table = new Map<string, SubscriptionCounters>();
const MAX_ROWS = 10_000;

function key(apiId: string, planKey: string, subscription: string): string {
  return `${apiId}\u0000${planKey}\u0000${subscription}`;
}

/** The live counters row (created on first use). */
export function countersOf(apiId: string, planKey: string, subscription: string = NO_SUBSCRIPTION): SubscriptionCounters {
  const k = key(apiId, planKey, subscription);
  let row = table.get(k);
  if (!row) {
    if (table.size >= MAX_ROWS) table.delete(table.keys().next().value as string);
    row = { requests: 0, messages: 0, rejected: 0 };
    table.set(k, row);
  }
  return row;
}

/** A copy of the counters, zeros when nothing was counted yet. */
export function readCounters(apiId: string, planKey: string, subscription: string = NO_SUBSCRIPTION): SubscriptionCounters {
  const row = table.get(key(apiId, planKey, subscription));
  return row ? { ...row } : { requests: 0, messages: 0, rejected: 0 };
}

/** For tests. */
export function resetCounters(): void {
  table.clear();
}
