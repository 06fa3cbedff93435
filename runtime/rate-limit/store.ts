/**
 * The process-wide counter store and error strategy, chosen once at start-up by `sluice serve`/`dev`
 * (`--redis URL`, `--rate-limit-error-strategy allow|deny`). Limiters read it on every call, so
 * limiters built before start-up finished (or by tests) still count in the configured store.
 */
import type { Counters } from './counters.ts';
import { createMemoryCounters } from './memory.ts';

export type ErrorStrategy = 'allow' | 'deny';

let counters: Counters | undefined;
let errorStrategy: ErrorStrategy = 'allow';

/** The configured counters; in memory until `useCounters` is called. */
export function currentCounters(): Counters {
  counters ??= createMemoryCounters();
  return counters;
}

export function currentErrorStrategy(): ErrorStrategy {
  return errorStrategy;
}

/** Replaces the store (the previous one is closed) and the strategy for when it cannot answer. */
export async function useCounters(next: Counters, strategy: ErrorStrategy = 'allow'): Promise<void> {
  const previous = counters;
  counters = next;
  errorStrategy = strategy;
  if (previous && previous !== next) await previous.close();
}

export function parseErrorStrategy(value: string | undefined): ErrorStrategy | undefined {
  return value === 'allow' || value === 'deny' ? value : undefined;
}
