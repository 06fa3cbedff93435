/** Bundles for the catalog tests: every lifecycle and visibility, a private API with an API key, a deprecated one with its replacement. */
import type { Plan } from '../../schemas/types.ts';
import { makeBundle, type ApiSpec } from '../support/bundles.ts';
import { newApiKey } from '../plans/fixtures.ts';

export const key = newApiKey();
export const otherKey = newApiKey();

const open: Record<string, Plan> = { open: { type: 'keyless', name: 'Open', description: 'Anyone may call.', status: 'published' } };
const gold: Record<string, Plan> = { gold: { type: 'api-key', name: 'Gold', status: 'published' } };

export const XSS = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">';

export const apis: Record<string, ApiSpec> = {
  'public-api': { definition: { name: 'Public API', description: `Readable by all ${XSS}`, lifecycle: 'published', visibility: 'public', labels: ['demo', '<b>bold</b>'] }, plans: open },
  'private-api': {
    definition: { name: 'Private API', lifecycle: 'published', visibility: 'private', entrypoints: [{ type: 'sse' }, { type: 'http-get' }] },
    plans: gold,
    subscriptions: { acme: { plan: 'gold', apiKeys: [{ hash: key.hash }] } },
  },
  'old-api': { definition: { name: 'Old API', lifecycle: 'deprecated', visibility: 'public', replacedBy: 'public-api' }, plans: open },
  'draft-api': { definition: { name: 'Draft API', lifecycle: 'unpublished', visibility: 'public' }, plans: open },
  'gone-api': { definition: { name: 'Gone API', lifecycle: 'archived', visibility: 'public', state: 'stopped' }, plans: open },
  'stopped-api': { definition: { name: 'Stopped API', lifecycle: 'published', visibility: 'public', state: 'stopped' }, plans: open },
};

export const catalogBundle = (changes: Record<string, ApiSpec> = {}) => makeBundle({ ...apis, ...changes });
