/**
 * The plans part of the admin port's /status: per plan its status, whether it is served, its limits
 * and counters; per subscription its status, window, whether it is active now, and what this
 * instance counted (requests, messages, rejected). Never key material: API keys appear only as a
 * count with their expiry, never as hashes; secrets only as references are not listed at all.
 */
import type { BundleApi, RateLimit } from '../../schemas/types.ts';
import type { AdmissionStats, SubscriptionCounters } from '../rate-limit/stats.ts';
import { isActive, subscriptionWindow } from './subscription-window.ts';
import { isOpen } from '../../core/plans.ts';

export interface PlanStatus {
  readonly type: string;
  readonly status: string;
  /** Only published and deprecated plans are served. */
  readonly served: boolean;
  readonly rateLimit?: RateLimit;
  readonly quota?: RateLimit;
  /** Keyless callers (no subscription) counted on this instance. */
  readonly counters?: SubscriptionCounters;
  readonly subscriptions: Record<string, SubscriptionStatus>;
}

export interface SubscriptionStatus {
  readonly status: string;
  readonly active: boolean;
  readonly startingAt?: string;
  readonly endingAt?: string;
  readonly clientId?: string;
  readonly apiKeys?: { readonly count: number; readonly expired: number; readonly nextExpireAt?: string };
  readonly rateLimit?: RateLimit;
  readonly quota?: RateLimit;
  readonly counters: SubscriptionCounters;
}

/** `stats`: the gateway's (its RateLimitStore's). */
export function plansStatus(api: BundleApi, stats: AdmissionStats, now: number = Date.now()): Record<string, PlanStatus> {
  const plans: Record<string, PlanStatus> = {};
  for (const [key, plan] of Object.entries(api.plans)) {
    const status = plan.status ?? 'staging';
    const subscriptions: Record<string, SubscriptionStatus> = {};
    for (const [name, subscription] of Object.entries(api.subscriptions)) {
      if (subscription.plan !== key) continue;
      const keys = subscription.apiKeys ?? [];
      const expiries = keys.map((k) => (k.expireAt ? Date.parse(k.expireAt) : Infinity));
      const upcoming = expiries.filter((t) => t > now && Number.isFinite(t)).sort((a, b) => a - b)[0];
      subscriptions[name] = {
        status: subscription.status ?? 'accepted',
        active: isActive(subscriptionWindow(name, subscription), now),
        ...(subscription.startingAt ? { startingAt: subscription.startingAt } : {}),
        ...(subscription.endingAt ? { endingAt: subscription.endingAt } : {}),
        ...(subscription.clientId ? { clientId: subscription.clientId } : {}),
        ...(keys.length
          ? { apiKeys: { count: keys.length, expired: expiries.filter((t) => t <= now).length, ...(upcoming ? { nextExpireAt: new Date(upcoming).toISOString() } : {}) } }
          : {}),
        ...(subscription.rateLimit ? { rateLimit: subscription.rateLimit } : {}),
        ...(subscription.quota ? { quota: subscription.quota } : {}),
        counters: stats.read(api.id, key, name),
      };
    }
    plans[key] = {
      type: plan.type,
      status,
      served: status === 'published' || status === 'deprecated',
      ...(plan.rateLimit ? { rateLimit: plan.rateLimit } : {}),
      ...(plan.quota ? { quota: plan.quota } : {}),
      ...(isOpen(plan.type) ? { counters: stats.read(api.id, key) } : {}),
      subscriptions,
    };
  }
  return plans;
}
