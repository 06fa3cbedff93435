/**
 * The admission of one API version: what reads its plans and subscriptions, the plan resolution
 * and the entrypoints (built with the bundle API: webhook subscriptions, credential headers never
 * copied to messages). An exchange swaps it whole when a deploy changes only plans or
 * subscriptions, so the endpoints, flows, fanout and the unconcerned connections stay.
 */
import type { BundleApi, Endpoint as EndpointConfig } from '../schemas/types.ts';
import type { Entrypoint } from './entrypoints/entrypoint.ts';
import type { Caller } from './plans/plan.ts';
import { createEntrypoint } from './entrypoints/registry.ts';
import type { Registry } from './registry.ts';
import type { GatewayState } from './gateway-state.ts';
import { PlanResolution } from './plans/resolution.ts';
import { resolveSecret } from './secrets.ts';
import type { ApiFingerprint } from '../core/canonical-json.ts';
import { log } from './log.ts';

export interface Admission {
  readonly api: BundleApi;
  /** The bundle API's fingerprint (definition, plans, subscriptions): equal means unchanged. */
  readonly fingerprint: ApiFingerprint;
  readonly plans: PlanResolution;
  /** By descending specificity. */
  readonly entrypoints: readonly Entrypoint[];
}

/**
 * Builds (configure once); throws when a plan or entrypoint cannot be built (a missing secret).
 * `subscribeEndpoint`: the config of the endpoint the exchange subscribes with.
 */
export function buildAdmission(api: BundleApi, fingerprint: ApiFingerprint, instanceId: string, subscribeEndpoint: EndpointConfig | undefined, registry: Registry, state: GatewayState): Admission {
  const plans = new PlanResolution(api, registry.plans, state);
  const context = { apiId: api.id, api, instanceId, resolveSecret, state, ...(subscribeEndpoint ? { subscribeEndpoint } : {}) };
  const entrypoints = api.definition.entrypoints
    .map((config) => createEntrypoint(config, context, registry.entrypoints))
    .sort((a, b) => b.specificity - a.specificity);
  return { api, fingerprint, plans, entrypoints };
}

/**
 * The callers a switch from `previous` to `next` concerns: those whose plan or subscription was
 * added, changed or removed (they must reconnect under the new rules).
 */
export function concerned(previous: Admission, next: Admission): (caller: Caller) => boolean {
  const plans = changedKeys(previous.fingerprint.plans, next.fingerprint.plans);
  const subscriptions = changedKeys(previous.fingerprint.subscriptions, next.fingerprint.subscriptions);
  return (caller) => plans.has(caller.planKey) || (caller.subscription !== undefined && subscriptions.has(caller.subscription));
}

/** Keys added, removed or with another fingerprint. */
function changedKeys(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): Set<string> {
  const same = (key: string) => Object.hasOwn(a, key) && Object.hasOwn(b, key) && a[key] === b[key];
  return new Set([...Object.keys(a), ...Object.keys(b)].filter((key) => !same(key)));
}

/** Stops background entrypoints (webhook) one by one; a failure is logged, the others still stop. */
export async function stopEntrypoints(apiId: string, entrypoints: readonly Entrypoint[]): Promise<void> {
  for (const entrypoint of entrypoints) {
    try {
      await entrypoint.stop?.();
    } catch (error) {
      log.error({ api: apiId, entrypoint: entrypoint.type, err: error }, 'entrypoint stop failed');
    }
  }
}
