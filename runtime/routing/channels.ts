/**
 * Channel admission: a caller on a context path template (`/sensors/{deviceId}`) gets its channel
 * checked and recorded once, when it is authenticated:
 *
 *   each value: not empty, none of the endpoints' forbidden characters (MQTT + # /), the API's
 *   `parameters.<name>.pattern` -> else 400 INVALID_CHANNEL;
 *   the plan's `bind` ({"deviceId": "claims.device"}): the value equals that claim -> else 403 CHANNEL_FORBIDDEN;
 *   the caller carries `channel` (what conditions read as `request` and `caller`).
 *
 * Built once per exchange (patterns compiled once); the per-message path never comes here.
 */
import type { BundleApi } from '../../schemas/types.ts';
import type { Endpoint } from '../endpoints/endpoint.ts';
import type { Caller, RequestView } from '../plans/plan.ts';
import type { FlowContext } from '../../core/message.ts';
import { compileParameterRules, parameterProblem } from '../../core/channel.ts';
import { errors } from '../../core/errors.ts';

export type ChannelAdmission = (api: BundleApi, caller: Caller, request: RequestView) => Caller;

/** No parameters, no query: shared by every such caller (it lives as long as each stream does). */
const NONE: Readonly<Record<string, string>> = Object.freeze({});
const NO_REQUEST: FlowContext['request'] = Object.freeze({ params: NONE, query: NONE });

export function channelAdmission(api: BundleApi, endpoints: readonly Endpoint[]): ChannelAdmission {
  const rules = compileParameterRules(api.definition.parameters);
  const forbidden = [...new Set(endpoints.flatMap((endpoint) => endpoint.channelForbidden ?? []))];
  // The channel of a caller with no parameters, query, client id, claims or application, per plan
  // (as many as the API has plans): one object for all of them.
  const plain = new Map<string, FlowContext>();
  return (current, caller, request) => {
    const params = request.params ?? {};
    for (const [name, value] of Object.entries(params)) {
      const problem = parameterProblem(name, value, rules.get(name), forbidden);
      if (problem) throw errors.invalidChannel(problem);
    }
    const plan = current.plans[caller.planKey] as { bind?: Record<string, string> } | undefined;
    for (const [name, path] of Object.entries(plan?.bind ?? {})) {
      if (!Object.hasOwn(params, name)) continue;
      const claim = claimAt(caller.claims, path);
      if (claim === undefined || String(claim) !== params[name]) throw errors.channelForbidden(name);
    }
    const noRequest = Object.keys(params).length === 0 && request.query.size === 0;
    if (noRequest && caller.clientId === undefined && !caller.claims && caller.subscription === undefined) {
      let channel = plain.get(caller.planKey);
      if (!channel) plain.set(caller.planKey, (channel = Object.freeze({ request: NO_REQUEST, caller: Object.freeze({ plan: caller.planKey }) })));
      return withChannel(caller, channel);
    }
    const channel: FlowContext = Object.freeze({
      request: noRequest ? NO_REQUEST : Object.freeze({ params: Object.freeze({ ...params }), query: Object.freeze(Object.fromEntries(request.query)) }),
      caller: Object.freeze({
        plan: caller.planKey,
        ...(caller.clientId !== undefined ? { clientId: caller.clientId } : {}),
        ...(caller.claims ? { claims: caller.claims } : {}),
        ...(caller.subscription !== undefined ? { application: caller.subscription } : {}),
      }),
    });
    return withChannel(caller, channel);
  };
}

/**
 * The caller with its channel, as an object literal of one shape for every caller: `{ ...caller,
 * channel }` gives each copy a hidden class of its own (about 0.2 KB per connection).
 */
function withChannel(caller: Caller, channel: FlowContext): Caller {
  const { planKey, planType, subscription, expiresAt, rateKey, clientId, claims } = caller;
  return { planKey, planType, subscription, expiresAt, rateKey, clientId, claims, channel };
}

/** `claims.a.b` read from the token claims (own data only); undefined when absent or not a scalar. */
function claimAt(claims: Readonly<Record<string, unknown>> | undefined, path: string): string | number | boolean | undefined {
  let value: unknown = claims;
  for (const key of path.split('.').slice(1)) {
    if (!value || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : undefined;
}
