/**
 * Plan implementations by schema `type`. Adding a plan: one file exporting a PlanFactory, one line
 * here (and its rank), and its capabilities in core/plans.ts.
 */
import type { Plan } from '../../schemas/types.ts';
import type { PlanContext, PlanFactories, PlanFactory, RateLimiter, RuntimePlan } from './plan.ts';
import { createKeylessPlan } from './keyless.ts';
import { createApiKeyPlan } from './api-key.ts';
import { createJwtPlan } from './jwt.ts';
import { createPushPlan } from './push.ts';
import { createRateLimiter } from '../rate-limit/limiter.ts';

export const planFactories: PlanFactories = {
  keyless: createKeylessPlan,
  'api-key': createApiKeyPlan,
  jwt: createJwtPlan,
  push: createPushPlan,
};

/** Resolution rank of each plan type (total: a type without one fails to compile): a present credential of an earlier type decides. */
const PLAN_RANK: { readonly [K in Plan['type']]: number } = { jwt: 0, 'api-key': 1, keyless: 2, push: 3 };

/** Plan types in resolution order. */
export const PLAN_ORDER: readonly Plan['type'][] = (Object.keys(PLAN_RANK) as Plan['type'][]).sort((a, b) => PLAN_RANK[a] - PLAN_RANK[b]);

/** Builds one plan; an unknown type throws (the bundle fails to build, the last good keeps serving). */
export function createPlan(key: string, config: Plan, context: PlanContext, factories: PlanFactories = planFactories): RuntimePlan & Partial<RateLimiter> {
  const factory = factories[config.type] as PlanFactory<Plan> | undefined;
  if (!factory) throw new Error(`plan "${key}": type "${config.type}" is not available in this runtime`);
  const plan = factory(key, config, context);
  // Every plan counts (for /status) and applies its rateLimit/quota, unless it brings its own limiter.
  if (plan.admit) return plan;
  const limiter = createRateLimiter({ apiId: context.apiId, planKey: key, plan: config, subscriptions: context.subscriptions }, context.rateLimits ? { store: context.rateLimits } : {});
  return Object.assign(plan, { admit: limiter.admit });
}
