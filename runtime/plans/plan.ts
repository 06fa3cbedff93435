import type { IncomingHttpHeaders } from 'node:http';

/** What a plan sees of a request or WebSocket handshake. */
export interface RequestView {
  readonly headers: IncomingHttpHeaders;
  readonly query: URLSearchParams;
  readonly remoteAddress: string;
  /** Channel parameters of a context path template (`/sensors/{deviceId}`), decoded; absent: none. */
  readonly params?: Readonly<Record<string, string>>;
}

/** Who is calling, once a plan accepted the request. */
export interface Caller {
  readonly planKey: string;
  readonly planType: import('../../schemas/types.ts').Plan['type'];
  /** Subscription (application) name; absent for keyless. */
  readonly subscription?: string;
  /** Epoch ms at which the credential expires: streams end then (WebSocket 1008). */
  readonly expiresAt?: number;
  /** Key rate limits and quotas count against (subscription, or client address for keyless). */
  readonly rateKey: string;
  /** The client id the credential names (JWT). */
  readonly clientId?: string;
  /** The verified token claims (JWT): conditions read them as `caller.claims`, plans `bind` parameters to them. */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** The channel the caller asked for (set by the exchange once admitted): what conditions see as `request`/`caller`. */
  readonly channel?: import('../../core/message.ts').FlowContext;
}

/**
 * One plan of an API, built once per bundle. Plans are tried in the order jwt, api-key, keyless;
 * a plan whose credential is present decides: a bad credential is a 401 GatewayError, never a fallback.
 */
export interface RuntimePlan {
  readonly key: string;
  readonly type: Caller['planType'];
  /** Is this plan's credential present in the request? (keyless: always.) */
  presents(request: RequestView): boolean;
  /** Accept (a Caller) or reject (throws a GatewayError 401). */
  authenticate(request: RequestView): Promise<Caller>;
}

/** What a plan factory gets besides its own config (built once per bundle). */
export interface PlanContext {
  readonly apiId: string;
  /** The API's subscriptions of this plan, by application name, every status (the plan filters `accepted` and the time window). */
  readonly subscriptions: Readonly<Record<string, import('../../schemas/types.ts').Subscription>>;
  resolveSecret(ref: import('../../schemas/types.ts').SecretRef): string;
  /** The gateway's rate-limit counter store (default: one of the plan's own, in memory). */
  readonly rateLimits?: import('../rate-limit/store.ts').RateLimitStore;
}

/**
 * Optional rate limiting, hooked into the exchange: called once per new request/connection
 * (`connect`) and once per message a client publishes (`publish`), after authentication.
 * Resolves with headers to add to the response (e.g. X-Rate-Limit-*), or throws a 429 GatewayError
 * (with Retry-After and X-Rate-Limit-* in its `headers`).
 */
export interface RateLimiter {
  admit(caller: Caller, kind: 'connect' | 'publish'): Promise<Readonly<Record<string, string>> | void>;
}

export type PlanFactory<Config> = (key: string, config: Config, context: PlanContext) => RuntimePlan & Partial<RateLimiter>;

/** One factory per plan type of the schema: a type without one fails to compile. */
export type PlanFactories = { readonly [K in import('../../schemas/types.ts').Plan['type']]: PlanFactory<Extract<import('../../schemas/types.ts').Plan, { type: K }>> };
