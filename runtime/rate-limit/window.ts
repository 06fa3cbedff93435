/**
 * Fixed windows for rate limits and quotas. Windows are aligned to the epoch (MONTHS: to UTC calendar
 * months), so every runtime instance computes the same window for the same instant and a shared
 * counter (Redis) needs no coordination beyond roughly synchronised clocks.
 */
import type { RateLimit } from '../../schemas/types.ts';

export interface Window {
  /** Epoch ms at which the window started (part of the counter key). */
  readonly start: number;
  /** Epoch ms at which the window ends and the counter starts again from zero. */
  readonly resetAt: number;
}

const UNIT_MS = {
  SECONDS: 1_000,
  MINUTES: 60_000,
  HOURS: 3_600_000,
  DAYS: 86_400_000,
} as const;

/** A compiled rule: `limit` calls per window; `windowAt(now)` only does arithmetic. */
export interface LimitRule {
  readonly limit: number;
  readonly periodTime: number;
  readonly periodTimeUnit: NonNullable<RateLimit['periodTimeUnit']>;
  windowAt(now: number): Window;
}

export function compileRule(config: RateLimit): LimitRule {
  const periodTime = Math.max(1, Math.floor(config.periodTime ?? 1));
  const periodTimeUnit = config.periodTimeUnit ?? 'MINUTES';
  const limit = Math.max(1, Math.floor(config.limit));
  if (periodTimeUnit === 'MONTHS') {
    return {
      limit,
      periodTime,
      periodTimeUnit,
      windowAt(now) {
        const date = new Date(now);
        const months = (date.getUTCFullYear() - 1970) * 12 + date.getUTCMonth();
        const first = Math.floor(months / periodTime) * periodTime;
        return { start: Date.UTC(1970, first, 1), resetAt: Date.UTC(1970, first + periodTime, 1) };
      },
    };
  }
  const period = periodTime * UNIT_MS[periodTimeUnit];
  return {
    limit,
    periodTime,
    periodTimeUnit,
    windowAt(now) {
      const start = Math.floor(now / period) * period;
      return { start, resetAt: start + period };
    },
  };
}
