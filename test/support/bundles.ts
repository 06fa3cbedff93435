/**
 * Bundles built by hand for runtime tests (the compiler is not needed): defaults are filled by
 * the runtime's validation, the id is the real content address.
 */
import type { Api, Bundle, BundleApi, Plan, Subscription } from '../../schemas/types.ts';
import { bundleId } from '../../core/canonical-json.ts';

export interface ApiSpec {
  readonly definition?: Partial<Api>;
  readonly plans?: Record<string, Plan>;
  readonly subscriptions?: Record<string, Subscription>;
}

export const keyless: Record<string, Plan> = { open: { type: 'keyless', name: 'Open', status: 'published' } };

export function bundleApi(id: string, spec: ApiSpec = {}): BundleApi {
  return {
    id,
    definition: {
      name: id,
      contextPaths: [`/${id}/`],
      entrypoints: [{ type: 'http-get' }, { type: 'websocket' }],
      endpoints: [{ type: 'mock', messageInterval: 50 }],
      ...spec.definition,
    } as Api,
    plans: spec.plans ?? keyless,
    subscriptions: spec.subscriptions ?? {},
  };
}

export function makeBundle(apis: Record<string, ApiSpec>): Bundle {
  const content = {
    formatVersion: 1 as const,
    apis: Object.fromEntries(Object.entries(apis).map(([id, spec]) => [id, bundleApi(id, spec)])),
  };
  return { ...content, id: bundleId(content), createdAt: new Date().toISOString(), source: { kind: 'folder', compilerVersion: 'test' } };
}
