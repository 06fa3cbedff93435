/**
 * Holds keyless authentication until released, like a JWKS fetch or a Redis round trip in flight,
 * so a test can land a deploy while a request or handshake is being admitted. The hold is a
 * switch consulted by the keyless plan factory of a Registry passed to the gateway (no global
 * table is rewired): keyless plans built while a hold is on (deploy after `hold()`) wait for it.
 */
import { builtInRegistry, type Registry } from '../../runtime/registry.ts';

export interface HeldPlans {
  /** Authentications waiting now. */
  readonly waiting: () => number;
  /** Lets every waiting (and later) authentication go on. */
  release(): void;
  /** Turns the switch off: keyless plans built afterwards do not hold (those built meanwhile keep holding until released). */
  restore(): void;
}

export interface HoldableKeyless {
  /** `base` with its keyless factory consulting the switch; pass it as `gatewayWith(bundle, { registry })`. */
  readonly registry: Registry;
  /** Turns the switch on. */
  hold(): HeldPlans;
}

export function holdableKeyless(base: Registry = builtInRegistry): HoldableKeyless {
  const keyless = base.plans.keyless;
  let current: { held: Promise<void>; waiting: number } | undefined;
  const registry: Registry = {
    ...base,
    plans: {
      ...base.plans,
      keyless: (key, config, context) => {
        const plan = keyless(key, config, context);
        const hold = current;
        if (!hold) return plan;
        return { ...plan, authenticate: async (request) => (hold.waiting++, await hold.held, plan.authenticate(request)) };
      },
    },
  };
  return {
    registry,
    hold() {
      let release!: () => void;
      const hold = { held: new Promise<void>((resolve) => (release = resolve)), waiting: 0 };
      current = hold;
      return {
        waiting: () => hold.waiting,
        release,
        restore: () => void (current === hold && (current = undefined)),
      };
    },
  };
}
