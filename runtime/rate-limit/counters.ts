/**
 * Where rate-limit and quota counters live: in this process (memory.ts) or shared by every runtime
 * instance through Redis (redis.ts).
 */
export interface Counters {
  readonly kind: 'memory' | 'redis';
  /**
   * Adds one to the counter `key`, which belongs to a fixed window ending at `resetAt` (epoch ms), and
   * resolves with the count including this call. Rejects with CountersUnavailable, quickly, when the
   * store cannot answer: the caller applies the error strategy.
   */
  increment(key: string, resetAt: number): Promise<number>;
  /** Releases connections and timers. Called once. */
  close(): Promise<void>;
}

export class CountersUnavailable extends Error {
  readonly code = 'RATE_LIMIT_STORE_UNAVAILABLE';
  constructor(detail: string) {
    super(`rate-limit counters unavailable: ${detail}`);
    this.name = 'CountersUnavailable';
  }
}
