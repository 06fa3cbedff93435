/**
 * Rate limit and quota of one plan, built once per bundle. A subscription's own `rateLimit`/`quota`
 * replaces the plan's. Every new request/connection (`connect`) and every published message
 * (`publish`) counts once against the key plan + caller.rateKey (the subscription, or the client
 * address for keyless plans), in a fixed window. Over the limit: a 429 GatewayError (close 1008)
 * with Retry-After and the X-Rate-Limit-* (rate limit) or X-Quota-* (quota) headers; admitted calls
 * get the same headers to add to their response. When the plan has only a quota, X-Rate-Limit-*
 * describe the quota. Reset headers are epoch milliseconds; Retry-After is seconds.
 */
import type { RateLimit, Subscription } from '../../schemas/types.ts';
import { GatewayError } from '../../core/errors.ts';
import type { Caller, RateLimiter } from '../plans/plan.ts';
import { CountersUnavailable, type Counters } from './counters.ts';
import { AdmissionStats, NO_SUBSCRIPTION } from './stats.ts';
import { RateLimitStore, type ErrorStrategy } from './store.ts';
import { compileRule, type LimitRule } from './window.ts';

export interface RateLimitScope {
  readonly apiId: string;
  readonly planKey: string;
  readonly plan: { readonly rateLimit?: RateLimit; readonly quota?: RateLimit };
  /** The plan's subscriptions by name (their own limits override the plan's). */
  readonly subscriptions?: Readonly<Record<string, Subscription>>;
}

export interface RateLimiterOptions {
  /** The gateway's store (default: one of its own, in memory). */
  readonly store?: RateLimitStore;
  readonly counters?: () => Counters;
  /** Where admitted and refused calls are counted for /status (default: the store's). */
  readonly stats?: AdmissionStats;
  readonly errorStrategy?: () => ErrorStrategy;
  readonly now?: () => number;
}

type Headers = Record<string, string>;

interface Rules {
  readonly rateLimit?: LimitRule;
  readonly quota?: LimitRule;
}

const compile = (config: RateLimit | undefined): LimitRule | undefined => (config ? compileRule(config) : undefined);

export function createRateLimiter(scope: RateLimitScope, options: RateLimiterOptions = {}): RateLimiter {
  const store = options.store ?? (options.counters && options.errorStrategy ? undefined : new RateLimitStore());
  const counters = options.counters ?? (() => store!.counters);
  const errorStrategy = options.errorStrategy ?? (() => store!.errorStrategy);
  const stats = options.stats ?? store?.stats ?? new AdmissionStats();
  const now = options.now ?? Date.now;
  const planRules: Rules = { rateLimit: compile(scope.plan.rateLimit), quota: compile(scope.plan.quota) };
  const subscriptionRules = new Map<string, Rules>();
  for (const [name, subscription] of Object.entries(scope.subscriptions ?? {})) {
    if (!subscription.rateLimit && !subscription.quota) continue;
    subscriptionRules.set(name, {
      rateLimit: compile(subscription.rateLimit) ?? planRules.rateLimit,
      quota: compile(subscription.quota) ?? planRules.quota,
    });
  }
  const prefix = `${scope.apiId}:${scope.planKey}`;

  /** Counts one call against a rule; returns the rule's headers, or throws 429/503. */
  async function hit(rule: LimitRule, kind: 'rl' | 'quota', rateKey: string, t: number): Promise<Headers | undefined> {
    const window = rule.windowAt(t);
    let count: number;
    try {
      count = await counters().increment(`${kind}:${prefix}:${rateKey}:${window.start}`, window.resetAt);
    } catch (error) {
      if (!(error instanceof CountersUnavailable) || errorStrategy() === 'allow') return undefined;
      throw new GatewayError('RATE_LIMIT_UNAVAILABLE', 503, 'Rate limits cannot be checked right now. Retry later.', 1013, {
        'Retry-After': '1',
      });
    }
    const name = kind === 'rl' ? 'X-Rate-Limit' : 'X-Quota';
    const headers: Headers = {
      [`${name}-Limit`]: String(rule.limit),
      [`${name}-Remaining`]: String(Math.max(0, rule.limit - count)),
      [`${name}-Reset`]: String(window.resetAt),
    };
    if (count <= rule.limit) return headers;
    const retryAfter = String(Math.max(1, Math.ceil((window.resetAt - t) / 1000)));
    throw kind === 'rl'
      ? new GatewayError('RATE_LIMIT_EXCEEDED', 429, `Rate limit exceeded: ${rule.limit} calls per ${period(rule)}. Retry after ${retryAfter} s.`, 1008, { ...headers, 'Retry-After': retryAfter })
      : new GatewayError('QUOTA_EXCEEDED', 429, `Quota exceeded: ${rule.limit} calls per ${period(rule)}. Retry after ${retryAfter} s.`, 1008, { ...headers, 'Retry-After': retryAfter });
  }

  return {
    async admit(caller: Caller, kind: 'connect' | 'publish') {
      const rules = (caller.subscription && subscriptionRules.get(caller.subscription)) || planRules;
      const row = stats.countersOf(scope.apiId, scope.planKey, caller.subscription ?? NO_SUBSCRIPTION);
      const headers: Headers = {};
      try {
        const t = now();
        if (rules.rateLimit) Object.assign(headers, await hit(rules.rateLimit, 'rl', caller.rateKey, t));
        if (rules.quota) {
          const quota = await hit(rules.quota, 'quota', caller.rateKey, t);
          if (quota && !rules.rateLimit) {
            for (const [name, value] of Object.entries(quota)) headers[name.replace('X-Quota', 'X-Rate-Limit')] = value;
          }
          Object.assign(headers, quota);
        }
      } catch (error) {
        row.rejected += 1;
        if (error instanceof GatewayError && error.code === 'QUOTA_EXCEEDED' && !rules.rateLimit) {
          throw mirrorQuota(error);
        }
        throw error;
      }
      if (kind === 'connect') row.requests += 1;
      else row.messages += 1;
      return headers;
    },
  };
}

function period(rule: LimitRule): string {
  const unit = rule.periodTimeUnit.toLowerCase();
  return rule.periodTime === 1 ? unit.replace(/s$/, '') : `${rule.periodTime} ${unit}`;
}

/** A quota-only plan: the 429 carries X-Rate-Limit-* too, describing the quota. */
function mirrorQuota(error: GatewayError): GatewayError {
  const headers: Headers = { ...error.headers };
  for (const [name, value] of Object.entries(error.headers)) {
    if (name.startsWith('X-Quota-')) headers[name.replace('X-Quota', 'X-Rate-Limit')] = value;
  }
  return new GatewayError(error.code, error.status, error.message, error.closeCode, headers);
}
