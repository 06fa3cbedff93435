/**
 * The bundle the plan tests serve: keys, tokens and secrets generated per run, so the
 * "nothing leaks" checks can search for them.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import type { Api, Entrypoint, Plan, Subscription } from '../../schemas/types.ts';
import { makeBundle } from '../support/bundles.ts';
import { newApiKey } from './fixtures.ts';

export const JWT_SECRET_ENV = 'SLUICE_TEST_PLANS_JWT_SECRET';

export function scenario() {
  const jwtSecret = randomBytes(32).toString('base64url');
  const keys = { acme: newApiKey(), revoked: newApiKey(), paused: newApiKey(), staging: newApiKey(), closed: newApiKey(), chatty: newApiKey(), limited: newApiKey(), perTransport: [newApiKey(), newApiKey(), newApiKey(), newApiKey()] };
  const entrypoints = (extra: Entrypoint[] = []) =>
    [{ type: 'http-get' }, { type: 'websocket' }, ...extra] as Api['entrypoints'];
  const definition = (path: string, extra: Entrypoint[] = []): Partial<Api> => ({
    contextPaths: [path],
    entrypoints: entrypoints(extra),
    endpoints: [{ type: 'mock', messageInterval: 50 }],
  });
  const gold: Plan = { type: 'api-key', name: 'Gold', status: 'published' };
  const partners: Plan = {
    type: 'jwt', name: 'Partners', status: 'published', signature: 'HS256', secret: { env: JWT_SECRET_ENV },
    issuer: 'https://issuer.test', audience: 'orders-api',
  };
  const keyed = (name: string, plan: string, key: { hash: string }, extra: Partial<Subscription> = {}): Record<string, Subscription> =>
    ({ [name]: { plan, apiKeys: [{ hash: key.hash }], ...extra } });

  const build = (extra: Entrypoint[] = []) => makeBundle({
    // jwt + api-key, with a staging and a closed plan beside them.
    secure: {
      definition: definition('/secure/', extra),
      plans: {
        partners, gold,
        silver: { type: 'api-key', name: 'Silver', status: 'deprecated' },
        beta: { type: 'api-key', name: 'Beta', status: 'staging' },
        old: { type: 'api-key', name: 'Old', status: 'closed' },
      },
      subscriptions: {
        ...keyed('acme', 'gold', keys.acme),
        ...keyed('revoked', 'gold', keys.revoked, { status: 'closed' }),
        ...keyed('sleepy', 'silver', keys.paused, { status: 'paused' }),
        ...keyed('tester', 'beta', keys.staging),
        ...keyed('legacy', 'old', keys.closed),
        partner: { plan: 'partners', clientId: 'acme-app' },
      },
    },
    // One api-key plan: no credential says API_KEY_MISSING.
    keyed: { definition: definition('/keyed/', extra), plans: { gold }, subscriptions: keyed('acme', 'gold', keys.acme) },
    // keyless beside api-key: a wrong key never falls back to keyless.
    mixed: {
      definition: definition('/mixed/', extra),
      plans: { gold, open: { type: 'keyless', name: 'Open', status: 'published' } },
      subscriptions: keyed('acme', 'gold', keys.acme),
    },
    // Rate limits: keyless per address, api-key per subscription (also on WebSocket publishes).
    'limited-open': {
      definition: definition('/limited-open/', extra),
      plans: { open: { type: 'keyless', name: 'Open', status: 'published', rateLimit: { limit: 3, periodTime: 1, periodTimeUnit: 'HOURS' } } },
    },
    'limited-keyed': {
      definition: definition('/limited-keyed/', extra),
      plans: { gold: { ...gold, rateLimit: { limit: 3, periodTime: 1, periodTimeUnit: 'HOURS' } } },
      subscriptions: {
        ...keyed('chatty', 'gold', keys.chatty),
        ...keyed('limited', 'gold', keys.limited, { rateLimit: { limit: 1, periodTime: 1, periodTimeUnit: 'HOURS' } }),
        ...Object.assign({}, ...keys.perTransport.map((key, i) => keyed(`app-${i}`, 'gold', key))),
      },
    },
  });

  /** `exp: null`: no exp claim; `iat`: issued-at (default now). */
  const token = (claims: JWTPayload = {}, options: { exp?: number | null; nbf?: number; iat?: number; secret?: string } = {}) => {
    const jwt = new SignJWT({ iss: 'https://issuer.test', aud: 'orders-api', azp: 'acme-app', ...claims })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt(options.iat);
    if (options.exp !== null) jwt.setExpirationTime(options.exp ?? Math.floor(Date.now() / 1000) + 300);
    if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
    return jwt.sign(new TextEncoder().encode(options.secret ?? jwtSecret));
  };

  return { jwtSecret, keys, build, token };
}
