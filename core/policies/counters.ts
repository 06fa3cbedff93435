export type Direction = 'publish' | 'subscribe';

/**
 * What happened to a message at a policy step, beyond "passed":
 * - `dropped`: removed from the stream (message-filter false; json-validate or max-size on subscribe);
 * - `refused`: a publish answered with an error (json-validate 400, max-size 413);
 * - `not-json`: a JSON policy met content that is not JSON (transform leaves it as is);
 * - `condition-error`: an expression could not be evaluated (e.g. `$` on non-JSON content) and counted as false.
 */
export type PolicyOutcome = 'dropped' | 'refused' | 'not-json' | 'condition-error';

/**
 * Counters of policy outcomes, handed to compileFlow when a bundle is built (one per API, so the
 * implementation binds the API label; the exchange gets it from its gateway's Telemetry
 * `policyCountersFor`, which counts on that gateway's Metrics). `count` runs on the message path:
 * it must be cheap and must never throw.
 */
export interface PolicyCounters {
  count(policy: string, direction: Direction, step: number, outcome: PolicyOutcome): void;
}

/** Counts nothing. */
export const noPolicyCounters: PolicyCounters = { count() {} };

/** In-memory counters (tests, /readyz-style snapshots). Keys are `direction/step/policy/outcome`. */
export class MemoryPolicyCounters implements PolicyCounters {
  readonly #counts = new Map<string, number>();

  count(policy: string, direction: Direction, step: number, outcome: PolicyOutcome): void {
    const key = `${direction}/${step}/${policy}/${outcome}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  /** Sum over steps, optionally for one policy and/or direction. */
  total(outcome: PolicyOutcome, filter: { policy?: string; direction?: Direction } = {}): number {
    let sum = 0;
    for (const [key, n] of this.#counts) {
      const [direction, , policy, out] = key.split('/');
      if (out !== outcome) continue;
      if (filter.policy !== undefined && policy !== filter.policy) continue;
      if (filter.direction !== undefined && direction !== filter.direction) continue;
      sum += n;
    }
    return sum;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }
}
