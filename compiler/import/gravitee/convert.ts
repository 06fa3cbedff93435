/**
 * A Gravitee APIM v4 message API export (`{"api": {...}, "plans": [...], ...}` as the Console's
 * "Export" or the management API v2 `_export/definition` give it) -> a Sluice API folder as files:
 * `{ id, files: {"api.json": …, "plans/<key>.json": …}, warnings }`. Pure: no I/O (cli/import.ts
 * writes the folder). Refuses anything but `definitionVersion: V4` and `type: MESSAGE`.
 */
import type { Api } from '../../../schemas/types.ts';
import { convertEndpointGroups } from './endpoints.ts';
import { convertFlows } from './flows.ts';
import { convertListeners } from './listeners.ts';
import { convertPlans } from './plans.ts';
import { asArray, isEmpty, isObject, slugOf, token, Warnings, type ImportWarning } from './warnings.ts';

export type GraviteeConversion =
  | { readonly ok: true; readonly id: string; readonly files: Record<string, unknown>; readonly warnings: ImportWarning[] }
  | { readonly ok: false; readonly error: string };

const LIFECYCLE: Record<string, Api['lifecycle']> = { created: 'unpublished', unpublished: 'unpublished', published: 'published', deprecated: 'deprecated', archived: 'archived' };

/** Settings of `api` read by the converter, and those that are Gravitee bookkeeping (ids, dates, owners). */
const API_READ = ['definitionVersion', 'type', 'name', 'description', 'apiVersion', 'listeners', 'endpointGroups', 'flows', 'flowExecution', 'lifecycleState', 'visibility', 'labels', 'state', 'plans'];
const API_BOOKKEEPING = ['id', 'crossId', 'hrid', 'createdAt', 'updatedAt', 'deployedAt', 'primaryOwner', 'definitionContext', 'originContext', 'disableMembershipNotifications', 'environmentId', 'workflowState', 'deploymentState', 'apiLifecycleState', 'links', 'analytics'];

export function convertGravitee(document: unknown): GraviteeConversion {
  if (!isObject(document)) return { ok: false, error: 'the file is not a JSON object (expected a Gravitee API export: {"api": {...}, "plans": [...]})' };
  const api = isObject(document.api) ? document.api : document;
  const version = String(api.definitionVersion ?? '');
  if (version !== 'V4' && !version.startsWith('4.')) {
    return { ok: false, error: `definitionVersion is "${version || 'missing'}": only Gravitee v4 API definitions ("definitionVersion": "V4") can be imported (migrate v2 APIs to v4 in Gravitee first)` };
  }
  if (token(api.type) !== 'message') {
    return { ok: false, error: `type is "${String(api.type ?? 'missing')}": only v4 message APIs ("type": "MESSAGE") can be imported; proxy APIs have no Sluice equivalent` };
  }
  const warnings = new Warnings();
  const name = typeof api.name === 'string' && api.name ? api.name : 'Imported API';
  const { contextPaths, entrypoints, cors } = convertListeners(api.listeners, warnings);
  const id = slugOf(name, slugOf(contextPaths[0] ?? '', 'imported-api'));
  const endpoints = convertEndpointGroups(api.endpointGroups, id, warnings);
  const flows = convertFlows(api.flows, api.flowExecution, warnings);
  const definition: Record<string, unknown> = {
    name,
    ...(typeof api.description === 'string' && api.description ? { description: api.description } : {}),
    ...(typeof api.apiVersion === 'string' && api.apiVersion ? { version: api.apiVersion } : {}),
    state: token(api.state) === 'stopped' ? 'stopped' : 'started',
    lifecycle: LIFECYCLE[token(api.lifecycleState)] ?? 'unpublished',
    visibility: token(api.visibility) === 'public' ? 'public' : 'private',
    ...(asArray(api.labels).length ? { labels: asArray(api.labels).map(String) } : {}),
    contextPaths,
    entrypoints,
    endpoints,
    ...(flows ? { flows } : {}),
    ...(cors ? { cors } : {}),
  };
  if (api.lifecycleState !== undefined && !LIFECYCLE[token(api.lifecycleState)]) warnings.notCarried('$.api.lifecycleState', `lifecycle "${String(api.lifecycleState)}" is unknown; unpublished assumed`);
  const analytics = isObject(api.analytics) ? api.analytics : {};
  if (!isEmpty(analytics.logging) || !isEmpty(analytics.sampling) || !isEmpty(analytics.messageSampling)) warnings.notCarried('$.api.analytics', 'analytics logging and sampling have no Sluice equivalent (see docs/reference/metrics.md); left out');
  for (const [key, what] of [
    ['properties', 'API properties (used by expressions)'],
    ['resources', 'resources (caches, auth servers)'],
    ['responseTemplates', 'response templates'],
    ['services', 'API services (dynamic properties, health checks)'],
    ['tags', 'sharding tags'],
    ['categories', 'portal categories (labels are kept)'],
    ['groups', 'user groups'],
    ['failover', 'failover'],
  ] as const) {
    if (!isEmpty(api[key])) warnings.notCarried(`$.api.${key}`, `${what}: no Sluice equivalent; left out`);
  }
  warnings.rest('$.api', api, [...API_READ, ...API_BOOKKEEPING, 'properties', 'resources', 'responseTemplates', 'services', 'tags', 'categories', 'groups', 'failover'], 'API');

  const plans = convertPlans(isObject(document.api) ? document.plans : api.plans, isObject(document.api) ? '$.plans' : '$.api.plans', id, warnings);
  if (isObject(document.api)) exportExtras(document, warnings);

  const files: Record<string, unknown> = { 'api.json': definition };
  for (const { key, plan } of plans) files[`plans/${key}.json`] = plan;
  return { ok: true, id, files, warnings: warnings.list };
}

/** The export's members, pages, metadata and media: reported unless they are Gravitee's defaults. */
function exportExtras(document: Record<string, unknown>, warnings: Warnings): void {
  const members = asArray(document.members).filter(isObject);
  const others = members.filter((m) => !asArray(m.roles).some((r) => isObject(r) && token(r.name) === 'primary-owner'));
  if (others.length) warnings.notCarried('$.members', `${others.length} API member(s) and their roles: use your git host's access control (CODEOWNERS, branch protection) instead`);
  if (asArray(document.pages).length) warnings.notCarried('$.pages', 'documentation pages are not imported: put the text in the API description or your repository');
  const metadata = asArray(document.metadata).filter((m) => isObject(m) && m.value !== undefined && m.value !== m.defaultValue);
  if (metadata.length) warnings.notCarried('$.metadata', `metadata ${metadata.map((m) => (m as Record<string, unknown>).key).join(', ')}: no Sluice equivalent; left out`);
  if (asArray(document.apiMedia).length) warnings.notCarried('$.apiMedia', 'API pictures and media are not imported');
  warnings.rest('$', document, ['export', 'api', 'plans', 'members', 'pages', 'metadata', 'apiMedia'], 'export');
}
