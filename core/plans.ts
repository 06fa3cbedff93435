/**
 * Plan-type capabilities, declared once: what each plan type of the schema means for requests,
 * subscriptions and webhooks. The table is total over the schema's plan `type` union, so a new plan
 * type without an entry fails to compile; the compiler's checks and the runtime (plan resolution,
 * /status, the webhook and http-post entrypoints) read it instead of naming plan types.
 */
import type { Plan } from '../schemas/types.ts';

export interface PlanCapabilities<Config> {
  /**
   * Anyone may call: a request needs no credential (keyless). Refused by `--profile production`,
   * never throttled for failed authentications, counted per client address on the plan itself
   * (it takes no subscriptions).
   */
  readonly open: boolean;
  /** Its subscriptions receive messages at a webhook callback (a webhook entrypoint delivers them); it admits no request. */
  readonly pushes: boolean;
  /** The field a subscription of this plan must hold, and no other credential field; null: it takes no subscriptions. */
  readonly subscriptionCredential: SubscriptionCredential | null;
  /** Request headers carrying its credential beyond the usual ones (never copied into a message), lowercase. */
  credentialHeaders(config: Config): readonly string[];
}

export type SubscriptionCredential = 'apiKeys' | 'clientId' | 'webhook';

const none = (): readonly string[] => [];

export const PLAN_CAPABILITIES: { readonly [K in Plan['type']]: PlanCapabilities<Extract<Plan, { type: K }>> } = {
  keyless: { open: true, pushes: false, subscriptionCredential: null, credentialHeaders: none },
  'api-key': { open: false, pushes: false, subscriptionCredential: 'apiKeys', credentialHeaders: (config) => (config.header ? [config.header.toLowerCase()] : []) },
  jwt: { open: false, pushes: false, subscriptionCredential: 'clientId', credentialHeaders: none },
  push: { open: false, pushes: true, subscriptionCredential: 'webhook', credentialHeaders: none },
};

/** Every subscription credential field some plan type asks for. */
export const SUBSCRIPTION_CREDENTIALS: readonly SubscriptionCredential[] = [
  ...new Set(Object.values(PLAN_CAPABILITIES).flatMap((c) => (c.subscriptionCredential ? [c.subscriptionCredential] : []))),
];

/** The capabilities of a plan type (a type this build does not know: undefined). */
export const planCapabilities = (type: Plan['type']): PlanCapabilities<Plan> | undefined => PLAN_CAPABILITIES[type] as PlanCapabilities<Plan> | undefined;

/** Anyone may call a plan of this type (see PlanCapabilities.open). */
export const isOpen = (type: Plan['type']): boolean => planCapabilities(type)?.open ?? false;
/** A plan of this type delivers to webhook callbacks and admits no request. */
export const pushes = (type: Plan['type']): boolean => planCapabilities(type)?.pushes ?? false;
/** Request headers carrying the plan's credential (never copied into a message). */
export const credentialHeaders = (plan: Plan): readonly string[] => planCapabilities(plan.type)?.credentialHeaders(plan) ?? [];
