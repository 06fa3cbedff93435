import type { KeylessPlan } from '../../schemas/types.ts';
import type { PlanFactory } from './plan.ts';

/** Anyone may call; rate limits count per client address. */
export const createKeylessPlan: PlanFactory<KeylessPlan> = (key) => ({
  key,
  type: 'keyless',
  presents: () => true,
  authenticate: async (request) => ({ planKey: key, planType: 'keyless', rateKey: `addr:${request.remoteAddress}` }),
});
