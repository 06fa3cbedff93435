import type { PushPlan } from '../../schemas/types.ts';
import type { PlanFactory } from './plan.ts';
import { errors } from '../../core/errors.ts';

/**
 * Push plans authenticate no request: their subscriptions receive messages at their callback
 * (the webhook entrypoint, runtime/entrypoints/webhook.ts). A request never presents a push
 * credential, so resolution goes on to the other plans.
 */
export const createPushPlan: PlanFactory<PushPlan> = (key) => ({
  key,
  type: 'push',
  presents: () => false,
  authenticate: async () => {
    throw errors.unauthorized('PUSH_PLAN', `Plan "${key}" delivers to webhook callbacks; it accepts no requests.`);
  },
});
