import type { IncomingHttpHeaders } from 'node:http';

/** What a plan sees of a request or WebSocket handshake. */
export interface RequestView {
  readonly headers: IncomingHttpHeaders;
  readonly query: URLSearchParams;
  readonly remoteAddress: string;
}

/** Who is calling, once a plan accepted the request. */
export interface Caller {
  readonly planKey: string;
  readonly planType: 'keyless' | 'api-key' | 'jwt' | 'push';
  /** Subscription (application) name; absent for keyless. */
  readonly subscription?: string;
  /** Epoch ms at which the credential expires: streams end then (WebSocket 1008). */
  readonly expiresAt?: number;
  /** Key rate limits and quotas count against (subscription, or client address for keyless). */
  readonly rateKey: string;
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
