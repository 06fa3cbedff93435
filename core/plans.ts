/**
 * Plan-type capabilities, declared once: what each plan type of the schema means for requests,
 * subscriptions and webhooks. The table is total over the schema's plan `type` union, so a new plan
 * type without an entry fails to compile; the compiler's checks and the runtime (plan resolution,
 * /status, the webhook and http-post entrypoints) read it instead of naming plan types.
 */
import type { JwtPlan, Plan } from '../schemas/types.ts';
import type { ConfigProblem } from './connectors.ts';

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
  /** Settings a schema cannot check (a jwt plan's key for its algorithm); `at` is a JSON pointer into the plan file. */
  problems(config: Config): ConfigProblem[];
  /** How a caller presents this plan's credential on a request (the developer catalog shows it); null: none is presented. */
  credential(config: Config): CredentialPresentation | null;
}

/** Where a request carries a plan's credential, for the developer catalog's examples and try-it panel. */
export interface CredentialPresentation {
  /** What the caller holds, e.g. "API key". */
  readonly name: string;
  /** The request header carrying it, and what precedes the credential in its value ("Bearer "). */
  readonly header: string;
  readonly prefix: string;
  /** The query parameter carrying it when the header is absent (browsers' EventSource and WebSocket cannot set headers). */
  readonly queryParam: string;
  /** How an application gets one. */
  readonly howToGet: string;
}

export type SubscriptionCredential = 'apiKeys' | 'clientId' | 'webhook';

const none = (): readonly string[] => [];
const fine = (): ConfigProblem[] => [];
const nothing = (): null => null;

export const PLAN_CAPABILITIES: { readonly [K in Plan['type']]: PlanCapabilities<Extract<Plan, { type: K }>> } = {
  keyless: { open: true, pushes: false, subscriptionCredential: null, credentialHeaders: none, problems: fine, credential: nothing },
  'api-key': {
    open: false,
    pushes: false,
    subscriptionCredential: 'apiKeys',
    credentialHeaders: (config) => (config.header ? [config.header.toLowerCase()] : []),
    problems: fine,
    credential: (config) => ({
      name: 'API key',
      header: config.header ?? 'X-Api-Key',
      prefix: '',
      queryParam: config.queryParam ?? 'api-key',
      howToGet: 'Ask the API owner for a subscription to this plan: they run `sluice keygen`, give you the key and add its hash to a subscription file.',
    }),
  },
  jwt: {
    open: false,
    pushes: false,
    subscriptionCredential: 'clientId',
    credentialHeaders: none,
    problems: jwtProblems,
    credential: () => ({
      name: 'JWT',
      header: 'Authorization',
      prefix: 'Bearer ',
      queryParam: 'access_token',
      howToGet: "Get a token from the plan's identity provider for a client id the API owner has subscribed to this plan.",
    }),
  },
  push: { open: false, pushes: true, subscriptionCredential: 'webhook', credentialHeaders: none, problems: fine, credential: nothing },
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
/** How a caller presents the plan's credential (null: keyless and push plans take none on a request). */
export const credentialOf = (plan: Plan): CredentialPresentation | null => planCapabilities(plan.type)?.credential(plan) ?? null;
/** Settings of a plan a schema cannot check. */
export const planProblems = (plan: Plan): ConfigProblem[] => planCapabilities(plan.type)?.problems(plan) ?? [];

/** A jwt plan has the key its algorithm needs, and only that one. */
function jwtProblems(plan: JwtPlan): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const hmac = plan.signature.startsWith('HS');
  const asymmetricKeys = [plan.publicKey !== undefined && 'publicKey', plan.jwksUrl !== undefined && 'jwksUrl'].filter(Boolean);
  if (hmac && plan.secret === undefined) {
    out.push({ at: '/signature', code: 'JWT_KEY_MISSING', message: `${plan.signature} needs "secret": {"env": "NAME"} (the shared HMAC key, by reference)` });
  }
  if (!hmac && asymmetricKeys.length === 0) {
    out.push({ at: '/signature', code: 'JWT_KEY_MISSING', message: `${plan.signature} needs "publicKey" (PEM) or "jwksUrl"` });
  }
  if (hmac && asymmetricKeys.length > 0) {
    out.push({ at: `/${asymmetricKeys[0]}`, code: 'JWT_KEY_CONFLICT', message: `${plan.signature} is verified with "secret"; ${asymmetricKeys.join(' and ')} belong to RS/ES/PS algorithms` });
  }
  if (!hmac && plan.secret !== undefined) {
    out.push({ at: '/secret', code: 'JWT_KEY_CONFLICT', message: `${plan.signature} is verified with "publicKey" or "jwksUrl"; "secret" belongs to HS algorithms` });
  }
  if (!hmac && asymmetricKeys.length === 2) {
    out.push({ at: '/jwksUrl', code: 'JWT_KEY_CONFLICT', message: 'give "publicKey" or "jwksUrl", not both' });
  }
  return out;
}
