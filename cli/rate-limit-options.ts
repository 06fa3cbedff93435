/**
 * Command-line wiring of the counter store, shared by `sluice serve` and `sluice dev`:
 *   --redis URL                              share counters with other instances through Redis
 *   --redis-key-prefix PREFIX                (default `sluice:rl:`) separate deployments on one Redis
 *   --rate-limit-error-strategy allow|deny   while Redis cannot answer (default allow, logged once)
 * Without --redis, counters live in this process.
 */
import { choice, UsageError } from './args.ts';
import { log } from '../runtime/log.ts';
import { createMemoryCounters } from '../runtime/rate-limit/memory.ts';
import { createRedisCounters, redactRedisUrl } from '../runtime/rate-limit/redis.ts';
import type { ErrorStrategy } from '../runtime/rate-limit/store.ts';
import type { Counters } from '../runtime/rate-limit/counters.ts';

export const RATE_LIMIT_FLAGS = ['--redis', '--redis-key-prefix', '--rate-limit-error-strategy'] as const;

export interface RateLimitSettings {
  readonly redisUrl?: string;
  readonly keyPrefix?: string;
  readonly errorStrategy: ErrorStrategy;
}

/** Reads and checks the flags (UsageError on a bad value). */
export function parseRateLimitFlags(flags: Map<string, string>): RateLimitSettings {
  const redisUrl = flags.get('--redis');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) throw new UsageError('--redis must be a redis:// or rediss:// URL');
  if (redisUrl === undefined && flags.has('--redis-key-prefix')) throw new UsageError('--redis-key-prefix needs --redis');
  return {
    redisUrl,
    keyPrefix: flags.get('--redis-key-prefix'),
    errorStrategy: choice(flags, '--rate-limit-error-strategy', ['allow', 'deny'] as const, 'allow')!,
  };
}

export interface StartedRateLimits {
  readonly counters: Counters;
  readonly errorStrategy: ErrorStrategy;
  close(): Promise<void>;
}

/**
 * Opens the counter store the gateway is given (startGateway's `rateLimits`). With Redis it waits
 * up to 2 s for the connection, then serves anyway (calls follow the error strategy until Redis
 * answers). The caller closes it after the gateway.
 */
export async function startRateLimits(settings: RateLimitSettings): Promise<StartedRateLimits> {
  const started = (counters: Counters): StartedRateLimits => ({ counters, errorStrategy: settings.errorStrategy, close: () => counters.close() });
  if (!settings.redisUrl) return started(createMemoryCounters());
  const counters = createRedisCounters({ url: settings.redisUrl, keyPrefix: settings.keyPrefix, errorStrategy: settings.errorStrategy, log });
  const connected = await counters.ready(2_000);
  log.info({ event: 'rate-limits', store: 'redis', redis: redactRedisUrl(settings.redisUrl), connected, errorStrategy: settings.errorStrategy }, 'rate limits: counters in Redis');
  return started(counters);
}
