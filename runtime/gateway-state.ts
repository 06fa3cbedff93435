/**
 * What one gateway owns beyond its routers and is kept across deploys: the rate-limit counter
 * store, the authentication-failure throttle, the hosts webhook callbacks may call, the table of
 * running webhook subscriptions, its telemetry (event listeners, and the meters of its own
 * Metrics) and its tracer (null without OTEL variables). startGateway builds one from its options
 * and threads it the way it threads the Registry (RouterSwitch -> Exchange -> admission, plan
 * resolution, webhook consumers, endpoints, fanout and connections; the server; admin). Two
 * gateways in one process share none of it.
 */
import type { Counters } from './rate-limit/counters.ts';
import { RateLimitStore, type ErrorStrategy } from './rate-limit/store.ts';
import { AuthThrottle, type AuthFailureLimit } from './plans/auth-failures.ts';
import type { AllowedHost } from './entrypoints/webhook/allowed-hosts.ts';
import { WebhookSubscriptions } from './entrypoints/webhook/subscriptions.ts';
import { Telemetry } from './metrics/telemetry.ts';
import type { Tracing } from './tracing/tracing.ts';

export interface GatewayState {
  readonly rateLimits: RateLimitStore;
  readonly authThrottle: AuthThrottle;
  /** undefined: webhook callbacks may call any host. */
  readonly webhookAllowedHosts: readonly AllowedHost[] | undefined;
  readonly webhooks: WebhookSubscriptions;
  /** Where this gateway emits events and counts traffic (startGateway binds it to the gateway's Metrics). */
  readonly telemetry: Telemetry;
  /** Spans (runtime/tracing/); null when tracing is off: every traced place checks this once. */
  readonly tracing: Tracing | null;
  /** `--tags`: the sharding tags this gateway serves (runtime/routing/tags.ts); undefined: untagged APIs only. */
  readonly tags: readonly string[] | undefined;
}

export interface GatewayStateOptions {
  /** Rate-limit counters (default: in memory, closed with the gateway) and what to do when they cannot answer (default allow). */
  readonly rateLimits?: { readonly counters?: Counters; readonly errorStrategy?: ErrorStrategy };
  /** Failed authentications per client address and API (default: off; `sluice serve` passes 20/10). */
  readonly authFailureLimit?: AuthFailureLimit | null;
  /** `--webhook-allowed-hosts` (default: any host). */
  readonly webhookAllowedHosts?: readonly AllowedHost[];
  /** From `tracingFromEnv` (default: none). The caller owns it and shuts it down after the gateway closed. */
  readonly tracing?: Tracing | null;
  /** `--tags edge,internal`: serve only APIs carrying one of these tags (default: only untagged APIs). */
  readonly tags?: readonly string[];
}

/** `telemetry`: the gateway's (default: one with no metrics, which counts nothing). */
export function createGatewayState(options: GatewayStateOptions = {}, telemetry: Telemetry = new Telemetry()): GatewayState {
  return {
    rateLimits: new RateLimitStore(options.rateLimits?.counters, options.rateLimits?.errorStrategy ?? 'allow'),
    authThrottle: new AuthThrottle(options.authFailureLimit ?? null),
    webhookAllowedHosts: options.webhookAllowedHosts,
    webhooks: new WebhookSubscriptions(),
    telemetry,
    tracing: options.tracing ?? null,
    tags: options.tags,
  };
}
