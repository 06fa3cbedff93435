/**
 * Holds keyless authentication until released, like a JWKS fetch or a Redis round trip in flight,
 * so a test can land a deploy while a request or handshake is being admitted.
 */
import { planFactories } from '../../runtime/plans/registry.ts';
import type { PlanFactory } from '../../runtime/plans/plan.ts';

export interface HeldPlans {
  /** Authentications waiting now. */
  readonly waiting: () => number;
  /** Lets every waiting (and later) authentication go on. */
  release(): void;
  /** Restores the real keyless plan (plans built meanwhile keep holding until released). */
  restore(): void;
}

export function holdKeylessAuthentication(): HeldPlans {
  const keyless = planFactories.keyless! as PlanFactory<never>;
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let waiting = 0;
  const holding: PlanFactory<never> = (key, config, context) => {
    const plan = keyless(key, config, context);
    return { ...plan, authenticate: async (request) => (waiting++, await held, plan.authenticate(request)) };
  };
  // Still rewires the built-in table (readonly in its type) under a gateway already running.
  const table = planFactories as { keyless: PlanFactory<never> };
  table.keyless = holding;
  return { waiting: () => waiting, release, restore: () => void (table.keyless = keyless) };
}
