/**
 * What the catalog shows of a bundle's APIs, and to whom. Pure: the runtime route and
 * `sluice catalog` (static export) both build pages from it.
 *
 * Listed: started APIs whose lifecycle is `published` or `deprecated` (shown as such, with the API
 * that replaces it when `replacedBy` names one that is listed too). `unpublished` and `archived`:
 * never. `public`: to everyone; `private` (the schema's default): only to a caller presenting a
 * credential one of the API's plans accepts (`opens`).
 */
import type { BundleApi, Entrypoint, Plan } from '../../schemas/types.ts';
import { credentialOf, isOpen, pushes, type CredentialPresentation } from '../../core/plans.ts';

export interface CatalogPlan {
  readonly key: string;
  readonly name: string;
  readonly description?: string;
  readonly status: 'published' | 'deprecated';
  /** Anyone may call it (no credential). */
  readonly open: boolean;
  /** It delivers to webhook callbacks (a subscription file names the callback). */
  readonly pushes: boolean;
  /** How a caller presents its credential; null: none. */
  readonly credential: CredentialPresentation | null;
}

export interface MessageSchema {
  /** publish: what clients send; subscribe: what clients receive. */
  readonly flow: 'publish' | 'subscribe';
  readonly description?: string;
  readonly schema: object;
}

export interface CatalogApi {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly version: string;
  readonly labels: readonly string[];
  readonly contextPaths: readonly string[];
  readonly visibility: 'public' | 'private';
  readonly deprecated: boolean;
  /** The listed API that replaces this deprecated one. */
  readonly replacedBy?: { readonly id: string; readonly name: string };
  readonly entrypoints: readonly Entrypoint[];
  readonly plans: readonly CatalogPlan[];
  readonly messageSchemas: readonly MessageSchema[];
}

/** Lifecycles the catalog lists. */
const LISTED = new Set(['published', 'deprecated']);

/** Is this started API in the catalog at all (before visibility)? */
export function listed(api: BundleApi): boolean {
  return LISTED.has(api.definition.lifecycle ?? 'unpublished') && (api.definition.state ?? 'started') === 'started';
}

export function isPublic(api: BundleApi): boolean {
  return (api.definition.visibility ?? 'private') === 'public';
}

/**
 * The catalog one caller sees, sorted by name then id. `started`: the APIs the gateway serves
 * (its router's exchanges; the static export: the started ones of the bundle). `opens(api)`: does
 * the caller's credential open this private API.
 */
export function visibleApis(started: readonly BundleApi[], opens: (api: BundleApi) => boolean): CatalogApi[] {
  const shown = started.filter((api) => listed(api) && (isPublic(api) || opens(api)));
  const names = new Map(shown.map((api) => [api.id, api.definition.name]));
  return shown.map((api) => catalogApi(api, names)).sort((a, b) => a.name.localeCompare(b.name) || (a.id < b.id ? -1 : 1));
}

/** `shown`: the names of the APIs this caller sees (a replacement is linked only when it is one of them). */
function catalogApi(api: BundleApi, shown: ReadonlyMap<string, string>): CatalogApi {
  const d = api.definition;
  const replacement = d.replacedBy;
  return {
    id: api.id,
    name: d.name,
    description: d.description ?? '',
    version: d.version ?? '1.0',
    labels: d.labels ?? [],
    contextPaths: d.contextPaths,
    visibility: isPublic(api) ? 'public' : 'private',
    deprecated: d.lifecycle === 'deprecated',
    ...(d.lifecycle === 'deprecated' && replacement !== undefined && shown.has(replacement) ? { replacedBy: { id: replacement, name: shown.get(replacement)! } } : {}),
    entrypoints: d.entrypoints,
    plans: servedPlans(api),
    messageSchemas: messageSchemas(api),
  };
}

function servedPlans(api: BundleApi): CatalogPlan[] {
  return Object.entries(api.plans)
    .filter(([, plan]) => plan.status === 'published' || plan.status === 'deprecated')
    .map(([key, plan]: [string, Plan]) => ({
      key,
      name: plan.name ?? key,
      ...(plan.description ? { description: plan.description } : {}),
      status: plan.status as 'published' | 'deprecated',
      open: isOpen(plan.type),
      pushes: pushes(plan.type),
      credential: credentialOf(plan),
    }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

/** The schemas of the API's enabled json-validate steps, publish first. */
function messageSchemas(api: BundleApi): MessageSchema[] {
  const out: MessageSchema[] = [];
  for (const flow of ['publish', 'subscribe'] as const) {
    for (const step of api.definition.flows?.[flow] ?? []) {
      if (step.policy !== 'json-validate' || step.enabled === false) continue;
      out.push({ flow, schema: step.schema, ...(step.description ? { description: step.description } : {}) });
    }
  }
  return out;
}

/** The plan the examples and the try-it panel use: an open one if any, else the first taking a credential. */
export function examplePlan(api: CatalogApi): CatalogPlan | undefined {
  return api.plans.find((plan) => plan.open) ?? api.plans.find((plan) => plan.credential !== null);
}
