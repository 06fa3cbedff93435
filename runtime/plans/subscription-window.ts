/**
 * When a subscription (and one of its API keys) may be used: status `accepted` and inside
 * [startingAt, endingAt). Shared by the api-key and jwt plans; parsed once per bundle.
 */
import type { Subscription } from '../../schemas/types.ts';

export interface SubscriptionWindow {
  readonly name: string;
  readonly accepted: boolean;
  /** Epoch ms; -Infinity when unbounded. */
  readonly startingAt: number;
  /** Epoch ms; +Infinity when unbounded. */
  readonly endingAt: number;
}

export function subscriptionWindow(name: string, subscription: Subscription): SubscriptionWindow {
  return {
    name,
    accepted: (subscription.status ?? 'accepted') === 'accepted',
    startingAt: instant(subscription.startingAt, -Infinity),
    endingAt: instant(subscription.endingAt, Infinity),
  };
}

/** Is the subscription usable at `now`? */
export function isActive(window: SubscriptionWindow, now: number): boolean {
  return window.accepted && window.startingAt <= now && now < window.endingAt;
}

/** An ISO date-time as epoch ms; a missing or unparsable value means `fallback` (unbounded). */
export function instant(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? fallback : ms;
}
