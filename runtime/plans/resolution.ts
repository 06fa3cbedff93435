/**
 * Plan resolution for one API: its served plans (published and deprecated), built once from the
 * bundle API's plans and subscriptions, tried in order jwt, api-key, keyless. Immutable: a deploy
 * that changes plans or subscriptions builds a new one and the exchange swaps it whole.
 */
import type { BundleApi, Plan } from '../../schemas/types.ts';
import type { Caller, RateLimiter, RequestView, RuntimePlan } from './plan.ts';
import { createPlan, PLAN_ORDER } from './registry.ts';
import type { PlanFactories } from './plan.ts';
import { errors, GatewayError } from '../../core/errors.ts';
import { isOpen, pushes } from '../../core/plans.ts';
import { resolveSecret } from '../secrets.ts';
import { AuthThrottle } from './auth-failures.ts';
import { RateLimitStore } from '../rate-limit/store.ts';

/** The gateway's throttle and counter store (runtime/gateway-state.ts); default: off, and counters of its own. */
export interface ResolutionState {
  readonly authThrottle: AuthThrottle;
  readonly rateLimits: RateLimitStore;
}

type ServedPlan = RuntimePlan & Partial<RateLimiter>;

/** Refusals meaning "not a credential of this plan" (another plan of the same type may know it). */
const UNRECOGNISED = new Set(['API_KEY_INVALID', 'JWT_INVALID_SIGNATURE', 'JWT_MALFORMED', 'JWT_UNKNOWN_CLIENT']);

export class PlanResolution {
  /** Served plans grouped by type, in resolution order. */
  readonly #groups: ServedPlan[][];
  readonly #byKey: Map<string, ServedPlan>;
  readonly #apiId: string;
  readonly #throttle: AuthThrottle;

  /** Throws when a plan cannot be built (a missing secret, a plan type this runtime lacks). */
  constructor(api: BundleApi, factories?: PlanFactories, state: ResolutionState = { authThrottle: new AuthThrottle(), rateLimits: new RateLimitStore() }) {
    const served = Object.entries(api.plans).filter(([, plan]) => plan.status === 'published' || plan.status === 'deprecated');
    const plans = served.map(([key, config]) => createPlan(key, config, {
      apiId: api.id,
      subscriptions: Object.fromEntries(Object.entries(api.subscriptions).filter(([, s]) => s.plan === key)),
      resolveSecret,
      rateLimits: state.rateLimits,
    }, factories));
    this.#throttle = state.authThrottle;
    this.#apiId = api.id;
    this.#byKey = new Map(plans.map((plan) => [plan.key, plan]));
    this.#groups = PLAN_ORDER.map((type: Plan['type']) => plans.filter((plan) => plan.type === type)).filter((g) => g.length > 0);
  }

  /**
   * Who is calling. Plan types are tried in order jwt, api-key, keyless; the first type with a
   * plan whose credential is present decides: one of its plans must accept, else its most telling
   * error is thrown (never a fallback to a later type): a plan that recognised the credential
   * (SUBSCRIPTION_NOT_ACTIVE, JWT_EXPIRED, ...) says more than one that did not (UNRECOGNISED).
   * No plan applies: 401 PLAN_UNRESOLVABLE. Every 401/403 counts against the API and client
   * address; an address with too many is refused first (429 AUTH_THROTTLED, see auth-failures.ts),
   * unless the request needs no credential (the plan deciding is open: keyless, core/plans.ts).
   */
  async authenticate(request: RequestView): Promise<Caller> {
    const presenting = this.#presenting(request);
    if (presenting && isOpen(presenting[0]!.type)) return presenting[0]!.authenticate(request);
    this.#throttle.check(this.#apiId, request.remoteAddress);
    try {
      return await this.#resolve(request, presenting);
    } catch (error) {
      const status = (error as Partial<GatewayError>).status;
      if (status === 401 || status === 403) this.#throttle.record(this.#apiId, request.remoteAddress);
      throw error;
    }
  }

  /** The plans of the first type (in resolution order) whose credential the request presents. */
  #presenting(request: RequestView): ServedPlan[] | undefined {
    for (const group of this.#groups) {
      const presenting = group.filter((plan) => plan.presents(request));
      if (presenting.length > 0) return presenting;
    }
    return undefined;
  }

  async #resolve(request: RequestView, presenting: ServedPlan[] | undefined): Promise<Caller> {
    if (presenting) {
      let first: unknown;
      for (const plan of presenting) {
        try {
          return await plan.authenticate(request);
        } catch (error) {
          if (first === undefined || UNRECOGNISED.has((first as GatewayError).code)) first = error;
        }
      }
      throw first instanceof GatewayError ? first : errors.unauthorized('INVALID_CREDENTIAL', 'The credential was refused.');
    }
    // No credential at all and one plan asking for one (api-key, jwt) is the only way in: its own *_MISSING 401 says what to send.
    const candidates = this.#groups.flat().filter((plan) => !pushes(plan.type));
    if (candidates.length === 1 && !isOpen(candidates[0]!.type)) {
      await candidates[0]!.authenticate(request);
    }
    throw errors.planUnresolvable();
  }

  /**
   * The developer catalog's question (runtime/catalog): does the request present a credential
   * (API key, JWT) that one of this API's plans taking subscriptions accepts? 'absent': no such
   * plan sees a credential in it, or the address is throttled on this API. Never throws and records
   * nothing: the catalog counts a refused credential itself. Open (keyless) and push plans never
   * count: a private API is shown only to its subscribers.
   */
  async recognises(request: RequestView): Promise<'accepted' | 'refused' | 'absent'> {
    try {
      this.#throttle.check(this.#apiId, request.remoteAddress);
    } catch {
      return 'absent';
    }
    let presented = false;
    for (const plan of this.#groups.flat()) {
      if (isOpen(plan.type) || pushes(plan.type) || !plan.presents(request)) continue;
      presented = true;
      try {
        await plan.authenticate(request);
        return 'accepted';
      } catch {
        // another plan may know it
      }
    }
    return presented ? 'refused' : 'absent';
  }

  /** Counts one refused credential of `remoteAddress` on this API (the catalog's, see `recognises`). */
  refused(remoteAddress: string): void {
    this.#throttle.record(this.#apiId, remoteAddress);
  }

  /** Rate limits of the caller's plan: headers to add, or a 429 GatewayError. */
  async admit(caller: Caller, kind: 'connect' | 'publish'): Promise<Readonly<Record<string, string>>> {
    const plan = this.#byKey.get(caller.planKey);
    return (await plan?.admit?.(caller, kind)) ?? {};
  }
}
