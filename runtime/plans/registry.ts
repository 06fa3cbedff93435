/**
 * Plan implementations by schema `type`. Adding a plan: one file exporting a PlanFactory, one line here.
 */
import type { Plan } from '../../schemas/types.ts';
import type { PlanContext, PlanFactory, RateLimiter, RuntimePlan } from './plan.ts';
import { createKeylessPlan } from './keyless.ts';

type PlanFactories = { [K in Plan['type']]?: PlanFactory<Extract<Plan, { type: K }>> };

export const planFactories: PlanFactories = {
  keyless: createKeylessPlan,
};

/** Resolution order of plan types: a present credential of an earlier type decides. */
export const PLAN_ORDER: readonly Plan['type'][] = ['jwt', 'api-key', 'keyless', 'push'];

/** Builds one plan; an unknown type throws (the bundle fails to build, the last good keeps serving). */
export function createPlan(key: string, config: Plan, context: PlanContext): RuntimePlan & Partial<RateLimiter> {
  const factory = planFactories[config.type] as PlanFactory<Plan> | undefined;
  if (!factory) throw new Error(`plan "${key}": type "${config.type}" is not available in this runtime`);
  return factory(key, config, context);
}
