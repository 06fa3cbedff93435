/**
 * One gateway's counter store and error strategy (`--redis URL`, `--rate-limit-error-strategy
 * allow|deny`), owned by its GatewayState (runtime/gateway-state.ts) and kept across deploys.
 * Limiters read it on every call, so a store swapped with `use` applies to limiters built before.
 */
import type { Counters } from './counters.ts';
import { createMemoryCounters } from './memory.ts';
import { AdmissionStats } from './stats.ts';

export type ErrorStrategy = 'allow' | 'deny';

export class RateLimitStore {
  #counters: Counters;
  #errorStrategy: ErrorStrategy;
  /** What this gateway admitted and refused per API, plan and subscription (/status). */
  readonly stats = new AdmissionStats();

  /** In memory unless `counters` is given. */
  constructor(counters?: Counters, errorStrategy: ErrorStrategy = 'allow') {
    this.#counters = counters ?? createMemoryCounters();
    this.#errorStrategy = errorStrategy;
  }

  get counters(): Counters {
    return this.#counters;
  }

  get errorStrategy(): ErrorStrategy {
    return this.#errorStrategy;
  }

  /** Replaces the store (the previous one is closed) and the strategy for when it cannot answer. */
  async use(next: Counters, strategy: ErrorStrategy = 'allow'): Promise<void> {
    const previous = this.#counters;
    this.#counters = next;
    this.#errorStrategy = strategy;
    if (previous !== next) await previous.close();
  }

  close(): Promise<void> {
    return this.#counters.close();
  }
}

export function parseErrorStrategy(value: string | undefined): ErrorStrategy | undefined {
  return value === 'allow' || value === 'deny' ? value : undefined;
}
