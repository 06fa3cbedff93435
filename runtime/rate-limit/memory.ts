/**
 * Counters in this process: a Map of fixed-window counters, bounded (`maxKeys`) and swept of expired
 * windows by an unref'd timer, so a flood of distinct client addresses cannot grow it without end.
 */
import type { Counters } from './counters.ts';

export interface MemoryCountersOptions {
  /** Most counters held at once; when full, expired ones are swept, then the oldest dropped. */
  readonly maxKeys?: number;
  /** How often expired windows are swept (ms). */
  readonly sweepIntervalMs?: number;
  readonly now?: () => number;
}

export function createMemoryCounters(options: MemoryCountersOptions = {}): Counters & { readonly size: number } {
  const maxKeys = options.maxKeys ?? 100_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, { count: number; resetAt: number }>();

  const sweep = (): void => {
    const t = now();
    for (const [key, entry] of entries) if (entry.resetAt <= t) entries.delete(key);
  };
  const timer = setInterval(sweep, options.sweepIntervalMs ?? 30_000);
  timer.unref();

  return {
    kind: 'memory',
    get size() {
      return entries.size;
    },
    async increment(key, resetAt) {
      const entry = entries.get(key);
      if (entry && entry.resetAt > now()) {
        entry.count += 1;
        return entry.count;
      }
      if (entry) entries.delete(key);
      else if (entries.size >= maxKeys) {
        sweep();
        // Still full of live windows: drop the oldest (Map keeps insertion order).
        while (entries.size >= maxKeys) entries.delete(entries.keys().next().value as string);
      }
      entries.set(key, { count: 1, resetAt });
      return 1;
    },
    async close() {
      clearInterval(timer);
      entries.clear();
    },
  };
}
