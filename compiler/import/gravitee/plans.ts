/**
 * Gravitee `plans` -> Sluice plans/<key>.json. Security KEY_LESS / API_KEY / JWT and mode PUSH map to
 * keyless / api-key / jwt / push; the rate-limit and quota policies of a plan's flows become the
 * plan's `rateLimit` and `quota`. A JWT plan's HMAC secret is never written (an env reference is).
 */
import type { Plan } from '../../../schemas/types.ts';
import { asArray, envName, isEmpty, isObject, slugOf, token, type Warnings } from './warnings.ts';

type Obj = Record<string, unknown>;
type SecurityConverter = (config: Obj, at: string, warnings: Warnings, planKey: string, apiName: string) => Obj;

const JWT_SIGNATURES = new Set(['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512']);

/** By Gravitee plan security type (lowercase, dashes). */
const SECURITY: Record<string, SecurityConverter> = {
  'key-less': () => ({ type: 'keyless' }),
  'api-key': (config, at, warnings) => {
    warnings.rest(`${at}.configuration`, config, [], 'api-key plan');
    return { type: 'api-key' };
  },
  jwt: (config, at, warnings, planKey, apiName) => {
    // Gravitee: "RSA_RS256", "HMAC_HS256" ...; Sluice: "RS256", "HS256".
    const signature = String(config.signature ?? 'RS256').toUpperCase().split('_').at(-1)!;
    const out: Obj = { type: 'jwt', signature: JWT_SIGNATURES.has(signature) ? signature : 'RS256' };
    if (!JWT_SIGNATURES.has(signature)) warnings.notCarried(`${at}.configuration.signature`, `signature "${String(config.signature)}" is unknown; RS256 assumed`);
    const resolver = token(config.publicKeyResolver ?? 'given-key');
    const parameter = typeof config.resolverParameter === 'string' ? config.resolverParameter : undefined;
    if (signature.startsWith('HS')) {
      const variable = envName(apiName, planKey, 'jwt', 'secret');
      out.secret = { env: variable };
      warnings.secret(`${at}.configuration.resolverParameter`, `the HMAC key is not copied: set it in the environment variable ${variable} where the gateway runs`);
    } else if (resolver === 'jwks-url' && parameter) {
      out.jwksUrl = parameter;
    } else if (resolver === 'given-key' && parameter) {
      out.publicKey = parameter;
    } else {
      warnings.notCarried(`${at}.configuration.publicKeyResolver`, `key resolver "${String(config.publicKeyResolver)}" is not supported: give "publicKey" (PEM) or "jwksUrl" in the plan`);
    }
    if (typeof config.clientIdClaim === 'string' && config.clientIdClaim) out.clientIdClaim = config.clientIdClaim;
    const confirm = obj(config.confirmMethodValidation);
    if (!isEmpty(confirm) && (confirm.ignoreMissing === false || obj(confirm.certificateBoundThumbprint).enabled === true)) {
      warnings.notCarried(`${at}.configuration.confirmMethodValidation`, 'certificate-bound tokens are not checked by Sluice; left out');
    }
    warnings.rest(`${at}.configuration`, config, ['signature', 'publicKeyResolver', 'resolverParameter', 'clientIdClaim', 'userClaim', 'connectTimeout', 'requestTimeout', 'followRedirects', 'useSystemProxy', 'confirmMethodValidation', 'tokenTypValidation', 'propagateAuthHeader', 'extractClaims'], 'jwt plan');
    if (config.propagateAuthHeader === true) warnings.notCarried(`${at}.configuration.propagateAuthHeader`, 'Sluice never copies the Authorization header into messages');
    if (config.extractClaims === true) warnings.notCarried(`${at}.configuration.extractClaims`, 'claims are not extracted into the message; left out');
    return out;
  },
};

const obj = (value: unknown): Obj => (isObject(value) ? value : {});

const STATUS: Record<string, Plan['status']> = { staging: 'staging', published: 'published', deprecated: 'deprecated', closed: 'closed' };
const UNITS = new Set(['SECONDS', 'MINUTES', 'HOURS', 'DAYS', 'MONTHS']);

export interface PlanFile {
  readonly key: string;
  readonly plan: Plan;
}

export function convertPlans(plans: unknown, at: string, apiName: string, warnings: Warnings): PlanFile[] {
  const out: PlanFile[] = [];
  const keys = new Set<string>();
  asArray(plans).forEach((plan, p) => {
    const here = `${at}[${p}]`;
    if (!isObject(plan)) return;
    const name = typeof plan.name === 'string' && plan.name ? plan.name : `plan ${p + 1}`;
    let key = slugOf(name, `plan-${p + 1}`);
    for (let n = 2; keys.has(key); n++) key = `${slugOf(name, 'plan')}-${n}`;
    const security = obj(plan.security);
    let converted: Obj;
    if (token(plan.mode) === 'push') {
      converted = { type: 'push' };
    } else {
      const type = token(security.type);
      const converter = SECURITY[type];
      if (!converter) {
        warnings.notCarried(`${here}.security.type`, `plan "${name}": security "${String(security.type)}" is not supported (Sluice has keyless, api-key, jwt and push plans); plan left out`);
        return;
      }
      converted = converter(obj(security.configuration), `${here}.security`, warnings, key, apiName);
    }
    keys.add(key);
    const result: Obj = { type: converted.type, name, ...(typeof plan.description === 'string' && plan.description ? { description: plan.description } : {}), ...converted };
    const status = STATUS[token(plan.status)];
    if (status) result.status = status;
    limitsFromFlows(plan.flows, `${here}.flows`, result, warnings);
    if (!isEmpty(plan.selectionRule)) warnings.expression(`${here}.selectionRule`, `plan "${name}": selection rule ${String(plan.selectionRule)} is not converted; the plan applies to every request`);
    if (!isEmpty(plan.excludedGroups)) warnings.notCarried(`${here}.excludedGroups`, `plan "${name}": excluded groups have no Sluice equivalent (the catalog has no user groups)`);
    if (token(plan.validation) === 'manual') warnings.notCarried(`${here}.validation`, `plan "${name}": manual validation has no equivalent: a subscription exists once its file is merged (review the pull request instead)`);
    if (plan.commentRequired === true) warnings.notCarried(`${here}.commentRequired`, `plan "${name}": subscription comments have no Sluice equivalent`);
    if (!isEmpty(plan.tags)) warnings.notCarried(`${here}.tags`, `plan "${name}": sharding tags have no Sluice equivalent`);
    out.push({ key, plan: result as unknown as Plan });
  });
  return out;
}

/** rate-limit -> rateLimit, quota -> quota; every other policy of a plan flow is reported. */
function limitsFromFlows(flows: unknown, at: string, plan: Obj, warnings: Warnings): void {
  asArray(flows).forEach((flow, f) => {
    if (!isObject(flow)) return;
    for (const phase of ['request', 'response', 'publish', 'subscribe', 'connect', 'interact']) {
      asArray(flow[phase]).forEach((step, s) => {
        const here = `${at}[${f}].${phase}[${s}]`;
        if (!isObject(step)) return;
        const config = obj(step.configuration);
        const limit = step.policy === 'rate-limit' ? obj(config.rate) : step.policy === 'quota' ? obj(config.quota) : undefined;
        if (!limit || step.enabled === false) {
          warnings.notCarried(here, `policy "${String(step.policy)}" in a plan flow: Sluice plans carry only rate limits and quotas; put message policies in the API's flows`);
          return;
        }
        const unit = String(limit.periodTimeUnit ?? 'MINUTES').toUpperCase();
        if (typeof limit.limit !== 'number' || limit.limit < 1 || !UNITS.has(unit)) {
          warnings.notCarried(here, `policy "${String(step.policy)}": limit ${String(limit.limit)} per ${String(limit.periodTime)} ${unit} cannot be expressed; left out`);
          return;
        }
        plan[step.policy === 'rate-limit' ? 'rateLimit' : 'quota'] = { limit: limit.limit, periodTime: typeof limit.periodTime === 'number' ? limit.periodTime : 1, periodTimeUnit: unit };
        if (!isEmpty(limit.key) || limit.dynamicLimit !== undefined) warnings.expression(`${here}.configuration`, 'a custom or dynamic rate-limit key is not converted: Sluice counts per subscription (per client address on keyless plans)');
        if (!isEmpty(step.condition)) warnings.expression(`${here}.condition`, 'the condition is not converted: the limit applies to every request of the plan');
      });
    }
  });
}
